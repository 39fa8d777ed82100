"""Counted multiply-adds of one online-learning step, per sequence in the batch.

What is counted is the arithmetic on influence-sized arrays (the part that makes RTRL
expensive): scaling rows of ``M``, the recurrent product ``J M``, the immediate term and
the gradient ``δ · ∂y/∂θ``. Index bookkeeping and the cell's own forward step are not.
For SnAp-n only the entries inside the kept pattern are counted (what a sparse kernel
for that pattern would do); BPTT counts its forward and backward pass per step.
"""

import numpy as np


def _rows(active, units):
    return np.arange(units) if active is None else np.asarray(active, dtype=np.int64)


def rtrl_step_macs(influence, active=None, delta_active=None):
    """Multiply-adds of one `Influence.step` + `Influence.gradients`.

    Args:
        influence: The `Influence`.
        active: Indices of the units whose ∂y/∂s was non-zero at the previous step
            (rows propagated through the recurrent kernel); None: all. For a delta cell
            (`DeltaInfluence`): the units sent at this step.
        delta_active: The same at the current step (rows of the gradient); None: all.
            Unused for a delta cell, whose gradient uses every row.

    Returns:
        dict with ``propagate``, ``gradient``, ``total`` multiply-adds and ``entries``
        (stored influence entries).
    """
    if influence.math.delta:
        return _delta_macs(influence, active)
    U = influence.math.units
    P = influence.n_columns
    rows = _rows(active if influence.sparse else None, U)
    grad_rows = _rows(delta_active if influence.sparse else None, U)
    vmask = influence.recurrent_mask()
    if not influence.sparse:
        vmask = np.ones_like(vmask)      # a dense kernel multiplies every entry
    pattern = influence._pattern
    if pattern is None:
        recurrent = int(vmask[rows].sum()) * P
        propagate = len(rows) * P + U * P + recurrent + influence.n_local
        gradient = len(grad_rows) * P
        entries = U * P
    else:
        recurrent = _recurrent(influence, rows, vmask, pattern)
        propagate = int(pattern[rows].sum()) + int(pattern.sum()) + recurrent + influence.n_local
        gradient = int(pattern[grad_rows].sum())
        entries = int(pattern.sum())
    return {"propagate": propagate, "gradient": gradient, "total": propagate + gradient, "entries": entries}


def _recurrent(influence, rows, vmask, pattern):
    """Multiply-adds of the recurrent product of ``rows`` of M with the kernel's kept
    entries, restricted to the SnAp ``pattern`` (kept entries only) if any."""
    U = influence.math.units
    kept = pattern[rows].astype(np.int64)
    total = 0
    for k in range(influence.math.gates_count):
        vk = vmask[rows][:, k * U:(k + 1) * U].astype(np.int64)    # (|A|, U)
        total += int(((vk.T @ kept) * pattern).sum())
    return total


def _delta_macs(influence, active):
    """Delta cells (`keras_events.learning.delta`): D on the sent rows, M̂ += D, the
    memory ``M_mem += V^T D`` over the sent rows, then the Delta-GRU's
    ``M = z ⊙ M + Σ_k β_k ⊙ M_mem_k`` (4 per entry) or the Delta-LSTM's ``M_c = f ⊙ M_c +
    Σ_k β_k ⊙ M_mem_k`` and ``M = ∂h/∂c ⊙ M_c + ∂h/∂p_o ⊙ M_mem_o`` (5 + 2 per entry, and
    two immediate terms), and the gradient over every row (∂y/∂h = 1)."""
    U, P, G = influence.math.units, influence.n_columns, influence.math.gates_count
    lstm = influence.math.kind == "delta_lstm"
    rows = _rows(active if influence.sparse else None, U)
    vmask = influence.recurrent_mask() if influence.sparse else np.ones((U, G * U), bool)
    pattern = influence._pattern
    if pattern is None:
        pattern = np.ones((U, P), bool)
        recurrent = int(vmask[rows].sum()) * P
    else:
        recurrent = _recurrent(influence, rows, vmask, pattern)
    entries = int(pattern.sum())
    combine = (G + 1 + 2) * entries if lstm else (G + 1) * entries
    propagate = 2 * int(pattern[rows].sum()) + recurrent + combine + (2 if lstm else 1) * influence.n_local
    return {"propagate": propagate, "gradient": entries, "total": propagate + entries,
            "entries": (G + (3 if lstm else 2)) * entries}


def bptt_step_macs(units, input_dim, active=None, gates=3):
    """Multiply-adds per step of back-propagation through time (dense or, with the
    number of ``active`` units, the sparse backward pass of EGRU): forward, the recurrent
    backward product and the weight-gradient outer products. ``gates``: gate blocks of
    the kernels (3 for the GRUs, 4 for the Delta-LSTM)."""
    U, I, G = units, input_dim, gates
    A = U if active is None else int(active)
    forward = G * U * (I + U)
    backward = G * U * A + G * U * (I + A + 2)
    return {"forward": forward, "backward": backward, "total": forward + backward}

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
            (rows propagated through the recurrent kernel); None: all.
        delta_active: The same at the current step (rows of the gradient); None: all.

    Returns:
        dict with ``propagate``, ``gradient``, ``total`` multiply-adds and ``entries``
        (stored influence entries).
    """
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
        kept = pattern[rows].astype(np.int64)
        recurrent = 0
        for k in range(3):
            vk = vmask[rows][:, k * U:(k + 1) * U].astype(np.int64)    # (|A|, U)
            recurrent += int(((vk.T @ kept) * pattern).sum())
        propagate = int(kept.sum()) + int(pattern.sum()) + recurrent + influence.n_local
        gradient = int(pattern[grad_rows].sum())
        entries = int(pattern.sum())
    return {"propagate": propagate, "gradient": gradient, "total": propagate + gradient, "entries": entries}


def bptt_step_macs(units, input_dim, active=None):
    """Multiply-adds per step of back-propagation through time (dense or, with the
    number of ``active`` units, the sparse backward pass of EGRU): forward, the recurrent
    backward product and the weight-gradient outer products."""
    U, I = units, input_dim
    A = U if active is None else int(active)
    forward = 3 * U * (I + U)
    backward = 3 * U * A + 3 * U * (I + A + 2)
    return {"forward": forward, "backward": backward, "total": forward + backward}

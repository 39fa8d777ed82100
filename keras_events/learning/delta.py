"""The influence matrix of a Delta-GRU: exact RTRL, sparse over sent units, and SnAp-n.

A Delta-GRU (Neil et al. 2017; `keras_events.cells.delta_gru`) multiplies the kernels by
the *transmitted* vectors x̂_t and ĥ_t, kept in delta memories ``m_x = x̂ W``,
``m_h = ĥ V``. Forward-mode gradients (RTRL, Williams & Zipser 1989) then need three
influence blocks besides the cell's own state:

    M     = ∂h/∂θ            (U x P)     the state
    M̂     = ∂ĥ/∂θ            (U x P)     the transmitted state
    M_mem = V^T M̂            (3U x P)    the part of ∂m_h/∂θ that flows through ĥ

(x̂ depends on the data only: the input side has an immediate term and nothing else.)
With the send gain ``σ = ∂ĥ_t/∂h_{t-1}`` (`CellMath.send_gain`: the send mask under the
cell's straight-through gradient, Chen et al. 2023) one step is

    D      = σ ⊙ (M_{t-1} - M̂_{t-1})        nonzero only in the rows of sent units
    M̂_t    = M̂_{t-1} + D
    M_mem  += V^T D                        the delta memory, in influence form
    M_t    = z ⊙ M_{t-1} + Σ_k β_k ⊙ M_mem_k + Ī_t   (β_k = ∂h_t/∂g_k; Ī: sources x̂_t, ĥ_t)

The expensive product, ``V^T D``, touches only the rows of units that were sent this
step: the activity sparsity of a delta network carries over to RTRL exactly as the
event sparsity of an EGRU does (Subramoney et al. 2023), and pruned weights are again
untracked columns. SnAp-n (Menick et al., ICLR 2021) groups the three blocks by unit:
the delta memory rows of gate k of unit i share unit i's pattern.
"""

import numpy as np
from keras import ops

from keras_events.learning.influence import Influence


class DeltaInfluence(Influence):
    """`Influence` of a `DeltaGRUCell` (same arguments and methods).

    The state adds the cell's delta encodings and memories (``x_hat``, ``h_hat``,
    ``m_x``, ``m_h``, carried exactly as the cell carries them, so the send masks are
    the cell's) and the influence blocks ``M_hat``, ``M_mem``: 5 x U x P entries.
    """

    def initial_state(self, batch_size, dtype):
        h, x_hat, h_hat, m_x, m_h = self.math.initial_carry(batch_size, dtype)
        U, P = self.math.units, self.n_columns
        return {"y": h, "x_hat": x_hat, "h_hat": h_hat, "m_x": m_x, "m_h": m_h,
                "M": ops.zeros((batch_size, U, P), dtype=dtype),
                "M_hat": ops.zeros((batch_size, U, P), dtype=dtype),
                "M_mem": ops.zeros((batch_size, 3 * U, P), dtype=dtype)}

    def active_mask(self, state):
        """(U,) bool: units the next `step` sends (send gain ≠ 0 in any batch element)."""
        if not self.sparse:
            return None
        return ops.any(ops.not_equal(self.math.send_gain(state["y"], state["h_hat"]), 0), axis=0)

    def output_rows(self, state):
        """Every row of ``M`` feeds the gradient (∂y/∂h = 1): None = all."""

    def step(self, x, state, size=None):
        dtype = state["M"].dtype
        weights = self._weights(dtype)
        kernel, rec = weights[0], weights[1]
        bias = weights[2] if self.math.use_bias else None
        x = ops.cast(x, dtype)
        h, M, M_hat = state["y"], state["M"], state["M_hat"]
        (s, beta_in, beta_rec, keep), (x_hat, h_hat, m_x, m_h) = self.math.delta_step(
            x, h, state["x_hat"], state["h_hat"], state["m_x"], state["m_h"], kernel, rec, bias)

        gain = self.math.send_gain(h, state["h_hat"])
        D = gain[:, :, None] * (M - M_hat)
        M_hat = M_hat + D
        rows = self._rows(state, size)
        V = rec
        if rows is not None:                     # only sent units' rows reach the memory
            D, V = ops.take(D, rows, axis=1), ops.take(rec, rows, axis=0)
        M_mem = state["M_mem"] + ops.einsum("bjp,jq->bqp", D, V)

        U, P = self.math.units, self.n_columns
        G = ops.reshape(M_mem * beta_rec[:, :, None], (-1, 3, U, P))
        M_new = keep[:, :, None] * M + ops.sum(G, axis=1)
        M_new = M_new + self._immediate(beta_in, beta_rec, x_hat, h_hat)
        if self._pattern is not None:
            pattern = ops.cast(self._pattern, dtype)
            M_new, M_hat = M_new * pattern, M_hat * pattern
            M_mem = M_mem * ops.cast(np.tile(self._pattern, (3, 1)), dtype)
        return {"y": s, "x_hat": x_hat, "h_hat": h_hat, "m_x": m_x, "m_h": m_h,
                "M": M_new, "M_hat": M_hat, "M_mem": M_mem}

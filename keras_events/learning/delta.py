"""The influence matrix of a delta cell (Delta-GRU, Delta-LSTM): exact RTRL, sparse over
sent units, and SnAp-n.

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

Delta-LSTM (`keras_events.cells.delta_lstm`): the same transmitted-state blocks
(``M_mem = V^T M̂``, 4U x P, one delta memory of gates [i | f | c | o]) and, since the
cell carries two states, a block for each: ``M = ∂h/∂θ`` and ``M_c = ∂c/∂θ``. With the
local derivatives of `CellMath.lstm_gates` (β_k = ∂c_t/∂p_k, f, ∂h/∂c, ∂h/∂p_o) and E_k
the immediate ∂p_k/∂θ (sources x̂_t, ĥ_t, 1):

    M_c,t  = f ⊙ M_c,t-1 + Σ_k β_k ⊙ (M_mem_k + E_k)
    M_t    = ∂h/∂c ⊙ M_c,t + ∂h/∂p_o ⊙ (M_mem_o + E_o)

The D / M̂ / M_mem update is the Delta-GRU's, over the four gate blocks.
"""

import numpy as np
from keras import ops

from keras_events.learning.influence import Influence


class DeltaInfluence(Influence):
    """`Influence` of a `DeltaGRUCell` or a `DeltaLSTMCell` (same arguments and methods).

    The state adds the cell's delta encodings and memories (``x_hat``, ``h_hat`` and
    ``m_x``, ``m_h`` (GRU) or ``m`` (LSTM) and the LSTM's ``c``, carried exactly as the cell
    carries them, so the send masks are the cell's) and the influence blocks ``M_hat``,
    ``M_mem`` (and ``M_c`` for the LSTM): 5 (GRU) or 7 (LSTM) x U x P entries.
    """

    def initial_state(self, batch_size, dtype):
        carry = self.math.initial_carry(batch_size, dtype)
        U, P, G = self.math.units, self.n_columns, self.math.gates_count
        zeros = lambda rows: ops.zeros((batch_size, rows, P), dtype=dtype)
        state = {"M": zeros(U), "M_hat": zeros(U), "M_mem": zeros(G * U)}
        if self.math.kind == "delta_lstm":
            h, c, x_hat, h_hat, m = carry
            state.update(y=h, c=c, x_hat=x_hat, h_hat=h_hat, m=m, M_c=zeros(U))
        else:
            h, x_hat, h_hat, m_x, m_h = carry
            state.update(y=h, x_hat=x_hat, h_hat=h_hat, m_x=m_x, m_h=m_h)
        return state

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

        # ĥ_t = ĥ + σ ⊙ (h - ĥ): only sent units' rows move, and only they reach the memory
        gain = self.math.send_gain(h, state["h_hat"])
        D = gain[:, :, None] * (M - M_hat)
        M_hat = M_hat + D
        rows = self._rows(state, size)
        V = rec
        if rows is not None:
            D, V = ops.take(D, rows, axis=1), ops.take(rec, rows, axis=0)
        M_mem = state["M_mem"] + ops.einsum("bjp,jq->bqp", D, V)

        U, P, G = self.math.units, self.n_columns, self.math.gates_count
        M_gates = ops.reshape(M_mem, (-1, G, U, P))
        if self.math.kind == "delta_lstm":
            new, M_new = self._lstm(x, state, M_gates, kernel, rec, bias)
        else:
            new, M_new = self._gru(x, state, M_gates, kernel, rec, bias)
        if self._pattern is not None:
            pattern = ops.cast(self._pattern, dtype)
            M_new, M_hat = M_new * pattern, M_hat * pattern
            M_mem = M_mem * ops.cast(np.tile(self._pattern, (G, 1)), dtype)
            if "M_c" in new:
                new["M_c"] = new["M_c"] * pattern
        new.update(M=M_new, M_hat=M_hat, M_mem=M_mem)
        return new

    def _gru(self, x, state, M_gates, kernel, rec, bias):
        """Delta-GRU: ``M_t = z ⊙ M + Σ_k β_k ⊙ M_mem_k + Ī_t``."""
        (s, beta_in, beta_rec, keep), (x_hat, h_hat, m_x, m_h) = self.math.delta_step(
            x, state["y"], state["x_hat"], state["h_hat"], state["m_x"], state["m_h"], kernel, rec, bias)
        G = M_gates * ops.reshape(beta_rec, (-1, 3, self.math.units))[..., None]
        M_new = keep[:, :, None] * state["M"] + ops.sum(G, axis=1)
        M_new = M_new + self._immediate(beta_in, beta_rec, x_hat, h_hat)
        return {"y": s, "x_hat": x_hat, "h_hat": h_hat, "m_x": m_x, "m_h": m_h}, M_new

    def _lstm(self, x, state, M_gates, kernel, rec, bias):
        """Delta-LSTM: the two-state update of the module docstring."""
        (h, c, beta_c, f, dh_dc, dh_do), (x_hat, h_hat, m) = self.math.delta_lstm_step(
            x, state["y"], state["c"], state["x_hat"], state["h_hat"], state["m"], kernel, rec, bias)
        U = self.math.units
        B = M_gates * ops.reshape(beta_c, (-1, 4, U))[..., None]
        M_c = f[:, :, None] * state["M_c"] + ops.sum(B, axis=1)
        M_c = M_c + self._immediate(beta_c, beta_c, x_hat, h_hat)
        beta_h = ops.concatenate([ops.zeros_like(beta_c[:, :3 * U]), dh_do], axis=-1)
        M_new = dh_dc[:, :, None] * M_c + dh_do[:, :, None] * M_gates[:, 3]
        M_new = M_new + self._immediate(beta_h, beta_h, x_hat, h_hat)
        return {"y": h, "c": c, "x_hat": x_hat, "h_hat": h_hat, "m": m, "M_c": M_c}, M_new

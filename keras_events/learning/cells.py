"""One step of a gated event cell with the local derivatives RTRL needs.

Both supported cells share one update form (the gated recurrent unit of Cho et al.
2014, reset after the matmul as in `keras.layers.GRUCell(reset_after=True)`):

    a = x W + b_in        g = y_prev V + b_rec            (gate blocks [0 | 1 | 2])
    κ = keep gate         r = σ(a_1 + g_1)                n = tanh(a_2 + r ⊙ g_2)
    s = κ ⊙ old + (1 - κ) ⊙ n                              (the tracked state)

GRU (Keras gate order [z | r | h]): κ = z = σ(a_0 + g_0), old = y_prev = h_prev, and the
state is the output. EGRU (Subramoney et al., ICLR 2023, gate order [u | r | z]):
κ = 1 - u, old = ĉ_prev (the state after the reset), and the output and next ``old`` are
the elementwise functions y = s ⊙ H(s - ϑ), ĉ = s - ϑ ⊙ H(s - ϑ) of the state, with the
surrogate ψ(s - ϑ) as the derivative of the step H.

Delta-GRU (Neil et al. 2017, `keras_events.cells.delta_gru`): the GRU form with κ = z,
old = h_prev, but the matmuls act on the *transmitted* vectors: ``a = x̂_t W + b_in``,
``g = ĥ_t V + b_rec``, where x̂_t, ĥ_t are the delta encodings of x_t and h_{t-1}. The cell
accumulates ``m_x = x̂ W``, ``m_h = ĥ V`` incrementally (its delta memories); this class
carries them the same way so that the send masks are bit-identical to the cell's.
`send_gain` is ∂ĥ_t/∂h_{t-1} (elementwise; ∂ĥ_t/∂ĥ_{t-1} = 1 - gain): the send mask
under the cell's straight-through gradient (Chen et al. 2023), plus ``|Δ| ψ(|Δ| - θ)``
when the cell has a surrogate. x̂ depends on the data only, so it needs no influence.

Delta-LSTM (`keras_events.cells.delta_lstm`, gate order [i | f | c | o]): one delta
memory ``m = x̂ W + ĥ V`` (4U columns), ``p = m + b``, ``c_t = f ⊙ c + i ⊙ g``,
``h_t = o ⊙ tanh(c_t)``; `lstm_gates` gives the local derivatives of ``c_t`` and ``h_t``
(Hochreiter & Schmidhuber 1997; the cell carries two states, so its RTRL influence has
a block for each, see `keras_events.learning.delta`).

`local_step` returns, besides the new state, the partial derivatives of ``s`` that are
local to a unit: ∂s/∂(pre-activation of gate k) from the input side (``beta_in``) and
from the recurrent side (``beta_rec``), and ∂s/∂old (``keep``). RTRL
(`keras_events.learning.influence`) combines them with the weights.
"""

import keras
from keras import ops

from keras_events.cells.delta import delta_encode
from keras_events.cells.delta_gru import DeltaGRUCell
from keras_events.cells.delta_lstm import DeltaLSTMCell
from keras_events.cells.egru import EGRUCell


def _is(fn, name):
    return fn is keras.activations.get(name)


class CellMath:
    """The step of one supported cell, from the cell's (masked) weights.

    Args:
        cell: An `EGRUCell`, a `DeltaGRUCell`, a `DeltaLSTMCell` or a `keras.layers.GRUCell`
            (``reset_after=True``), with ``tanh``/``sigmoid`` activations, built.
    """

    def __init__(self, cell):
        if isinstance(cell, EGRUCell):
            self.kind = "egru"
        elif isinstance(cell, DeltaGRUCell):
            self.kind = "delta_gru"
        elif isinstance(cell, DeltaLSTMCell):
            self.kind = "delta_lstm"
        elif isinstance(cell, keras.layers.GRUCell):
            self.kind = "gru"
            if not cell.reset_after:
                raise ValueError("Online learning supports `keras.layers.GRUCell(reset_after=True)` "
                                 "(the Keras default) only; rebuild the layer with reset_after=True.")
        else:
            raise TypeError(
                f"Online learning (RTRL/SnAp) supports EGRUCell, DeltaGRUCell, DeltaLSTMCell "
                f"and keras.layers.GRUCell; got a {type(cell).__name__} (see "
                f"docs/guides/online-learning.md).")
        if not (_is(cell.activation, "tanh") and _is(cell.recurrent_activation, "sigmoid")):
            raise ValueError(f"Online learning needs the default activations (activation='tanh', "
                             f"recurrent_activation='sigmoid') of `{cell.name}`.")
        if not cell.built:
            raise ValueError(f"Cell `{cell.name}` is not built: call the model on data (or build it) first.")
        self.cell = cell
        self.units = cell.units
        self.input_dim = cell.kernel.shape[0]
        self.use_bias = cell.use_bias
        self.surrogate = getattr(cell, "surrogate", None)
        self.delta = self.kind in ("delta_gru", "delta_lstm")
        self.gates_count = 4 if self.kind == "delta_lstm" else 3    # gate blocks of the kernels
        if self.delta:
            self.input_threshold = cell.input_threshold
            self.hidden_threshold = cell.hidden_threshold

    def weights(self):
        """The variables RTRL differentiates, in its column order."""
        cell = self.cell
        out = [cell.kernel, cell.recurrent_kernel]
        if self.use_bias:
            out.append(cell.bias)
        if self.kind == "egru":
            out.append(cell.threshold_param)
        return out

    def initial_state(self, batch_size, dtype):
        """(y, old, s): output, the ``old`` of the next step, the state."""
        zeros = ops.zeros((batch_size, self.units), dtype=dtype)
        return zeros, zeros, zeros

    def local_step(self, x, y_prev, old, kernel, recurrent_kernel, bias):
        """One step. Returns ``s`` and the local derivatives (``beta_in``, ``beta_rec``:
        (batch, 3U) in gate-block order; ``keep``: (batch, U))."""
        return self.gates(ops.matmul(x, kernel), ops.matmul(y_prev, recurrent_kernel), old, bias)

    def gates(self, a, g, old, bias):
        """The step from the input- and recurrent-side products ``a``, ``g`` (no bias)."""
        if bias is not None:
            a = a + bias[0]
            g = g + bias[1]
        a0, a1, a2 = ops.split(a, 3, axis=-1)
        g0, g1, g2 = ops.split(g, 3, axis=-1)
        sig0 = ops.sigmoid(a0 + g0)
        r = ops.sigmoid(a1 + g1)
        n = ops.tanh(a2 + r * g2)
        if self.kind != "egru":
            keep, dkeep = sig0, sig0 * (1.0 - sig0)
        else:
            keep, dkeep = 1.0 - sig0, -sig0 * (1.0 - sig0)
        s = keep * old + (1.0 - keep) * n
        beta0 = (old - n) * dkeep                   # ∂s/∂(a_0 + g_0)
        ds_dn = (1.0 - keep) * (1.0 - n * n)        # ∂s/∂(a_2 + r g_2)
        beta1 = ds_dn * g2 * r * (1.0 - r)          # ∂s/∂(a_1 + g_1)
        beta_in = ops.concatenate([beta0, beta1, ds_dn], axis=-1)
        beta_rec = ops.concatenate([beta0, beta1, ds_dn * r], axis=-1)
        return s, beta_in, beta_rec, keep

    # ------------------------------------------------------------ Delta-GRU
    def send_gain(self, h, h_hat):
        """∂ĥ_t/∂h_{t-1} of a Delta-GRU (elementwise, (batch, U)); zero for a unit that is
        not sent (and, with a surrogate, outside its support)."""
        change = ops.abs(h - h_hat)
        sent = ops.cast(ops.greater(change, self.hidden_threshold), h.dtype)
        if self.surrogate is None:
            return sent
        return sent + change * self.surrogate.derivative(change - self.hidden_threshold)

    def delta_step(self, x, h, x_hat, h_hat, m_x, m_h, kernel, recurrent_kernel, bias):
        """One Delta-GRU step as the cell computes it (same encodings, same accumulation
        order). Returns ``(s, beta_in, beta_rec, keep)`` of `local_step` and the new
        ``(x̂, ĥ, m_x, m_h)``; the sources of ``a`` and ``g`` are the new x̂ and ĥ."""
        dx, x_hat, _ = delta_encode(x, x_hat, self.input_threshold, self.surrogate)
        dh, h_hat, _ = delta_encode(h, h_hat, self.hidden_threshold, self.surrogate)
        m_x = m_x + ops.matmul(dx, kernel)
        m_h = m_h + ops.matmul(dh, recurrent_kernel)
        return self.gates(m_x, m_h, h, bias), (x_hat, h_hat, m_x, m_h)

    # ----------------------------------------------------------- Delta-LSTM
    def lstm_gates(self, m, c, bias):
        """The Delta-LSTM step from its memory ``m`` (no bias) and ``c = c_{t-1}``.

        Returns ``(h, c_t, beta_c, f, dh_dc, dh_do)``: ``beta_c`` (batch, 4U) = ∂c_t/∂p_k
        per gate block (zero for o), ``f`` = ∂c_t/∂c_{t-1}, ``dh_dc`` = ∂h_t/∂c_t and
        ``dh_do`` = ∂h_t/∂p_o (the only direct pre-activation path into h)."""
        p = m + bias if bias is not None else m
        p_i, p_f, p_c, p_o = ops.split(p, 4, axis=-1)
        i, f, g, o = ops.sigmoid(p_i), ops.sigmoid(p_f), ops.tanh(p_c), ops.sigmoid(p_o)
        c_next = f * c + i * g
        tc = ops.tanh(c_next)
        h = o * tc
        beta_c = ops.concatenate([g * i * (1.0 - i), c * f * (1.0 - f), i * (1.0 - g * g),
                                  ops.zeros_like(o)], axis=-1)
        return h, c_next, beta_c, f, o * (1.0 - tc * tc), tc * o * (1.0 - o)

    def delta_lstm_step(self, x, h, c, x_hat, h_hat, m, kernel, recurrent_kernel, bias):
        """One Delta-LSTM step as the cell computes it (same encodings, same accumulation
        order). Returns `lstm_gates`' tuple and the new ``(x̂, ĥ, m)``."""
        dx, x_hat, _ = delta_encode(x, x_hat, self.input_threshold, self.surrogate)
        dh, h_hat, _ = delta_encode(h, h_hat, self.hidden_threshold, self.surrogate)
        m = m + ops.matmul(dx, kernel) + ops.matmul(dh, recurrent_kernel)
        return self.lstm_gates(m, c, bias), (x_hat, h_hat, m)

    # ----------------------------------------------------------------- BPTT
    def initial_carry(self, batch_size, dtype):
        """The recurrent state `forward` carries (a tuple of tensors)."""
        y, old, _ = self.initial_state(batch_size, dtype)
        if not self.delta:
            return (y, old)
        U = self.units
        zeros = lambda n: ops.zeros((batch_size, n), dtype=dtype)
        if self.kind == "delta_lstm":    # the cell's state order: h, c, x̂, ĥ, m
            return (y, zeros(U), zeros(self.input_dim), zeros(U), zeros(4 * U))
        return (y, zeros(self.input_dim), zeros(U), zeros(3 * U), zeros(3 * U))

    def forward(self, x, carry, weights):
        """Differentiable step (for BPTT through the surrogate / straight-through mask):
        returns (y, new carry)."""
        bias = weights[2] if self.use_bias else None
        if self.kind == "delta_lstm":
            (h, c, *_), (x_hat, h_hat, m) = self.delta_lstm_step(
                x, carry[0], carry[1], carry[2], carry[3], carry[4], weights[0], weights[1], bias)
            return h, (h, c, x_hat, h_hat, m)
        if self.kind == "delta_gru":
            h = carry[0]
            # the cell's own encoding: straight-through (stop_gradient) or its surrogate
            dx, x_hat, _ = delta_encode(x, carry[1], self.input_threshold, self.surrogate)
            dh, h_hat, _ = delta_encode(h, carry[2], self.hidden_threshold, self.surrogate)
            m_x = carry[3] + ops.matmul(dx, weights[0])
            m_h = carry[4] + ops.matmul(dh, weights[1])
            s = self.gates(m_x, m_h, h, bias)[0]
            return s, (s, x_hat, h_hat, m_x, m_h)
        y_prev, old = carry
        s = self.local_step(x, y_prev, old, weights[0], weights[1], bias)[0]
        if self.kind == "gru":
            return s, (s, s)
        thr = ops.cast(ops.sigmoid(weights[-1]), s.dtype)
        e = self.surrogate(s - thr)
        return s * e, (s * e, s - e * thr)

    def outputs(self, s, threshold_param):
        """Output ``y``, next ``old`` and their derivatives from the state ``s``.

        Returns (y, old, dy, dold, y_thr, old_thr): ``dy = ∂y/∂s``, ``dold = ∂old/∂s``
        (elementwise) and ``y_thr``, ``old_thr`` the derivatives with respect to the
        unit's own ``threshold_param`` (None for GRU). For EGRU, with ϑ = σ(threshold_param)
        and ψ = ψ(s - ϑ): ∂y/∂s = e + sψ, ∂ĉ/∂s = 1 - ϑψ, ∂y/∂ϑ = -sψ, ∂ĉ/∂ϑ = ϑψ - e.
        """
        if self.kind != "egru":
            return s, s, None, None, None, None
        thr = ops.cast(ops.sigmoid(threshold_param), s.dtype)
        v = s - thr
        e = ops.cast(ops.greater(v, 0), s.dtype)
        psi = self.surrogate.derivative(v)
        dthr = thr * (1.0 - thr)
        return (s * e, s - e * thr, e + s * psi, 1.0 - thr * psi,
                -s * psi * dthr, (thr * psi - e) * dthr)

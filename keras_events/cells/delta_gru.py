"""Delta-GRU: a GRU whose input and hidden state are delta-encoded (`keras_events.cells.delta`)."""

import keras
from keras import ops

from keras_events.cells.delta import DeltaCellBase, delta_encode  # noqa: F401 (re-export)


@keras.saving.register_keras_serializable(package="keras_events")
class DeltaGRUCell(DeltaCellBase):
    """Cell class of the Delta-GRU (Neil et al. 2017; Gao et al., EdgeDRNN 2020).

    One step, with ``h = h_{t-1}`` and the delta encoding of `keras_events.cells.delta`
    (the reset gate multiplies the recurrent product, as `keras.layers.GRUCell(
    reset_after=True)`, so both delta memories stay linear in the deltas):

        dx, x̂' = delta(x_t, x̂; input_threshold)     dh, ĥ' = delta(h, ĥ; hidden_threshold)
        m_x' = m_x + dx W                            m_h' = m_h + dh V        (gates [z | r | h])
        a = m_x' + b_in                              g = m_h' + b_rec
        z = σ(a_z + g_z)     r = σ(a_r + g_r)        n = tanh(a_h + r ⊙ g_h)
        h_t = z ⊙ h + (1 - z) ⊙ n

    The products need only the rows of W (V) of sent inputs (hidden units): the
    fraction sent is the cost of a step (`keras_events.activity_report`). With both
    thresholds 0 the cell equals `keras.layers.GRUCell(reset_after=True)` with the same
    weights (``set_weights(gru_cell.get_weights())`` works: same names, shapes and
    column order). Gradients: symmetric temporally sparse BPTT (Chen et al. 2023), see
    `keras_events.cells.delta`.

    States, in this order: ``[h, x̂, ĥ, m_x, m_h]`` (sizes units, input_dim, units,
    3·units, 3·units), zeros initially. ``state_size`` knows ``input_dim`` only once
    the cell is built (before, the x̂ entry is a placeholder equal to ``units``).

    Args:
        units: Positive integer, number of units.
        input_threshold: θ_x >= 0, the change an input component needs to be sent.
        hidden_threshold: θ_h >= 0, the same for the hidden state.
        activation, recurrent_activation: Candidate and gate activations
            (``"tanh"``, ``"sigmoid"``; export supports only these).
        use_bias: Whether the cell has the input and recurrent biases, ``bias`` (2, 3U).
        kernel_initializer, recurrent_initializer, bias_initializer: Initializers of
            ``kernel`` (I, 3U), ``recurrent_kernel`` (U, 3U) and ``bias``.
        kernel_regularizer, recurrent_regularizer, bias_regularizer: Regularizers.
        kernel_constraint, recurrent_constraint, bias_constraint: Constraints.
        dropout: Fraction of the inputs to drop (before delta encoding), in [0, 1).
        recurrent_dropout: Fraction of the recurrent state to drop (before encoding).
        surrogate: None (default): straight-through send mask, symmetric sparse BPTT.
            A name from `keras_events.surrogates.names()` (or config/instance) adds the
            pseudo-derivative of the send step; the backward is then not symmetric.
        seed: Random seed for dropout.

    Example:

    >>> import numpy as np, keras
    >>> from keras_events import DeltaGRUCell
    >>> rnn = keras.layers.RNN(DeltaGRUCell(8, hidden_threshold=0.1), return_sequences=True)
    >>> tuple(rnn(np.random.rand(2, 5, 3).astype("float32")).shape)
    (2, 5, 8)
    """

    STATE_INDEX = (0, 1, 2)  # h, x̂, ĥ
    GATES = 3

    @property
    def state_size(self):
        u = self.units
        return [u, self.input_dim or u, u, 3 * u, 3 * u]

    def _build_bias(self):
        return self._add_bias((2, 3 * self.units), self.bias_initializer)

    def call(self, inputs, states, training=False):
        h, x_hat, h_hat, m_x, m_h = states
        dx, x_hat, dh, h_hat = self._encode_inputs(inputs, h, x_hat, h_hat, training)
        m_x = m_x + ops.matmul(dx, self.kernel)
        m_h = m_h + ops.matmul(dh, self.recurrent_kernel)
        a, g = m_x, m_h
        if self.use_bias:
            a = a + self.bias[0]
            g = g + self.bias[1]
        a_z, a_r, a_h = ops.split(a, 3, axis=-1)
        g_z, g_r, g_h = ops.split(g, 3, axis=-1)
        z = self.recurrent_activation(a_z + g_z)
        r = self.recurrent_activation(a_r + g_r)
        n = self.activation(a_h + r * g_h)
        h_next = z * h + (1.0 - z) * n
        return h_next, [h_next, x_hat, h_hat, m_x, m_h]

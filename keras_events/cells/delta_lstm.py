"""Delta-LSTM: an LSTM whose input and hidden state are delta-encoded (`keras_events.cells.delta`)."""

import keras
from keras import ops

from keras_events.cells.delta import DeltaCellBase


@keras.saving.register_keras_serializable(package="keras_events")
class DeltaLSTMCell(DeltaCellBase):
    """Cell class of the Delta-LSTM (Neil et al. 2017; Gao et al., EdgeDRNN 2020).

    One step, with ``h = h_{t-1}``, ``c = c_{t-1}`` and the delta encoding of
    `keras_events.cells.delta`:

        dx, x̂' = delta(x_t, x̂; input_threshold)     dh, ĥ' = delta(h, ĥ; hidden_threshold)
        m' = m + dx W + dh V                         (gates [i | f | c | o])
        p = m' + b;   i = σ(p_i)   f = σ(p_f)   g = tanh(p_c)   o = σ(p_o)
        c_t = f ⊙ c + i ⊙ g;        h_t = o ⊙ tanh(c_t)

    With both thresholds 0 the cell equals `keras.layers.LSTMCell` with the same
    weights (same names, shapes, column order). Gradients: symmetric temporally sparse
    BPTT (Chen et al. 2023), see `keras_events.cells.delta`.

    States, in this order: ``[h, c, x̂, ĥ, m]`` (sizes units, units, input_dim, units,
    4·units), zeros initially (``input_dim`` is known once the cell is built; before,
    the x̂ entry is a placeholder equal to ``units``).

    Args:
        units, input_threshold, hidden_threshold, activation, recurrent_activation,
        use_bias, initializers, regularizers, constraints, dropout,
        recurrent_dropout, surrogate, seed: as `DeltaGRUCell` (``kernel`` (I, 4U),
            ``recurrent_kernel`` (U, 4U), ``bias`` (4U,)).
        unit_forget_bias: If True (default, as Keras), the forget-gate bias starts at 1
            (then ``bias_initializer`` fills the other gates).

    Example:

    >>> import numpy as np, keras
    >>> from keras_events import DeltaLSTMCell
    >>> rnn = keras.layers.RNN(DeltaLSTMCell(8, input_threshold=0.05))
    >>> tuple(rnn(np.random.rand(2, 5, 3).astype("float32")).shape)
    (2, 8)
    """

    STATE_INDEX = (0, 2, 3)  # h, x̂, ĥ
    GATES = 4

    def __init__(self, units, *args, unit_forget_bias=True, **kwargs):
        super().__init__(units, *args, **kwargs)
        self.unit_forget_bias = bool(unit_forget_bias)

    @property
    def state_size(self):
        u = self.units
        return [u, u, self.input_dim or u, u, 4 * u]

    def _build_bias(self):
        initializer = self.bias_initializer
        if self.unit_forget_bias:
            base, u = self.bias_initializer, self.units

            def initializer(_, *args, **kwargs):  # [i | f | c | o] with f = 1
                return ops.concatenate([base((u,), *args, **kwargs), ops.ones((u,)),
                                        base((2 * u,), *args, **kwargs)])
        return self._add_bias((4 * self.units,), initializer)

    def call(self, inputs, states, training=False):
        h, c, x_hat, h_hat, m = states
        dx, x_hat, dh, h_hat = self._encode_inputs(inputs, h, x_hat, h_hat, training)
        m = m + ops.matmul(dx, self.kernel) + ops.matmul(dh, self.recurrent_kernel)
        p = m + self.bias if self.use_bias else m
        p_i, p_f, p_c, p_o = ops.split(p, 4, axis=-1)
        i = self.recurrent_activation(p_i)
        f = self.recurrent_activation(p_f)
        g = self.activation(p_c)
        o = self.recurrent_activation(p_o)
        c_next = f * c + i * g
        h_next = o * self.activation(c_next)
        return h_next, [h_next, c_next, x_hat, h_hat, m]

    def get_config(self):
        return {**super().get_config(), "unit_forget_bias": self.unit_forget_bias}

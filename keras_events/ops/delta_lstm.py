"""The Delta-LSTM event op: custom op ``KE_DELTA_LSTM`` for layers of `keras_events.DeltaLSTMCell`.

Delta networks (Neil et al., ICML 2017; Gao et al., EdgeDRNN 2020) applied to
`keras.layers.LSTMCell` (gates ``[i | f | c | o]``): the input and the previous hidden state
are delta-encoded (`keras_events.ops.delta_gru.delta`), their products accumulated in one
memory:

    dx, x̂ = delta(x_t, x̂; θ_x)      dh, ĥ = delta(h, ĥ; θ_h)
    m += dx W + dh V                 p = m + b
    i = σ(p_i)  f = σ(p_f)  g = tanh(p_c)  o = σ(p_o)
    c_t = f ⊙ c + i ⊙ g              h_t = o ⊙ tanh(c_t)        (output h_t)

Inputs, options and packing are those of ``KE_DELTA_GRU`` with 4 gates and the bias a single
(4U,) row (the int8 kernel keeps the input and hidden memories apart: `custom_ops/README.md`);
`custom_ops/core/ke_delta_lstm.c` is the kernel.
"""
import numpy as np

from keras_events.ops.delta_gru import DeltaOp, delta, sigmoid, tf_delta, tf_dense
from keras_events.ops.registry import register

NAME = "KE_DELTA_LSTM"
VERSION = 1
GATES = 4


def reference_step(kernel, recurrent_kernel, bias, threshold, x, h, c, x_hat, h_hat, m):
    """One Delta-LSTM step in NumPy: ``(h_t, [h_t, c_t, x̂, ĥ, m])`` (the cell's state order;
    the memory starts at zero, the bias is added to it)."""
    units = np.shape(recurrent_kernel)[0]
    dx, x_hat = delta(x, x_hat, threshold[0])
    dh, h_hat = delta(h, h_hat, threshold[1])
    m = m + dx @ kernel + dh @ recurrent_kernel
    p = m + bias
    i, f = sigmoid(p[:, :units]), sigmoid(p[:, units:2 * units])
    g, o = np.tanh(p[:, 2 * units:3 * units]), sigmoid(p[:, 3 * units:])
    c = f * c + i * g
    h_new = o * np.tanh(c)
    return h_new, [h_new, c, x_hat, h_hat, m]


def tf_reference(units, return_sequences):
    """TF body of the composite function (see `keras_events.ops.delta_gru.tf_reference`)."""
    import tensorflow as tf

    def body(x, w_values, w_index, w_offsets, v_values, v_index, v_offsets, bias, threshold):
        kernel = tf_dense(tf, w_values, w_index, w_offsets, tf.shape(w_offsets)[0] - 1, 4 * units)
        recurrent = tf_dense(tf, v_values, v_index, v_offsets, units, 4 * units)
        batch = tf.shape(x)[0]
        h = h_hat = c = tf.zeros([batch, units], x.dtype)
        x_hat = tf.zeros_like(x[:, 0])
        m = tf.zeros([batch, 4 * units], x.dtype)
        ys = []
        for t in range(x.shape[1]):
            dx, x_hat = tf_delta(tf, x[:, t], x_hat, threshold[0])
            dh, h_hat = tf_delta(tf, h, h_hat, threshold[1])
            m = m + tf.matmul(dx, kernel) + tf.matmul(dh, recurrent)
            p_i, p_f, p_c, p_o = tf.split(m + bias, 4, axis=-1)
            c = tf.sigmoid(p_f) * c + tf.sigmoid(p_i) * tf.tanh(p_c)
            h = tf.sigmoid(p_o) * tf.tanh(c)
            ys.append(h)
        return tf.stack(ys, axis=1) if return_sequences else h

    return body


class DeltaLSTMOp(DeltaOp):
    """`EventOp` of `keras_events.DeltaLSTMCell`."""

    name = NAME
    version = VERSION
    cell_name = "DeltaLSTMCell"
    gates = GATES
    bias_rows = 1

    def _cell_class(self):
        from keras_events.cells.delta_lstm import DeltaLSTMCell  # lazy: keeps `ops` free of Keras

        return DeltaLSTMCell

    def tf_reference(self, layer):
        return tf_reference(layer.cell.units, layer.return_sequences)

    def reference_step(self, weights, x, states):
        return reference_step(weights["kernel"], weights["recurrent_kernel"], weights["bias"],
                              weights["threshold"], x, *states)

    def kernel_state_bytes(self, input_tensor, output_tensor):
        # int8 per unit: c (int16), y, ĥ, two 4-word memories, the bias copy, 8 multipliers;
        # float: h, c, ĥ, the memory and the bias copy (4 words each); x̂ per input.
        units, features = output_tensor["shape"][-1], input_tensor["shape"][-1]
        if input_tensor["dtype"] == "int8":
            return units * (2 + 1 + 1 + 4 * 12 + 4 * 8) + features
        return units * 4 * (3 + 8) + 4 * features


DELTA_LSTM = register(DeltaLSTMOp())

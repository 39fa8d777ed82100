"""The Delta-GRU event op: custom op ``KE_DELTA_GRU`` for layers of `keras_events.DeltaGRUCell`.

Delta networks (Neil, Lee, Delbruck & Liu, "Delta Networks for Optimized Recurrent Network
Computation", ICML 2017; Gao et al., "EdgeDRNN", IEEE JETCAS 2020): the input and the previous
hidden state are compared with their last *transmitted* values, only components that changed by
more than a threshold are sent, and the products are accumulated in delta memories. One step
(gates ``[z | r | n]`` as `keras.layers.GRUCell(reset_after=True)`):

    dx, x̂ = delta(x_t, x̂; θ_x)      dh, ĥ = delta(h, ĥ; θ_h)      (send iff |v - v̂| > θ)
    m_x += dx W                      m_h += dh V
    z = σ(m_x,z + b_z + m_h,z + b'_z)        r = σ(m_x,r + b_r + m_h,r + b'_r)
    n = tanh(m_x,n + b_n + r ⊙ (m_h,n + b'_n))
    h_t = z ⊙ h + (1 - z) ⊙ n                (output h_t)

The op's inputs are ``x``, the row-compressed ``W`` and ``V``, ``bias`` (2, 3U) and
``threshold`` = (θ_x, θ_h) (`FLOAT_INPUTS`; int8 adds per-column scales, the thresholds become
integers); options ``units``, ``return_sequences``, ``streaming``. `custom_ops/README.md`
specifies tensors and the int8 numerics; `custom_ops/core/ke_delta_gru.c` is the kernel. The
kernel multiplies only the rows of sent components: `step_macs`.
"""
import numpy as np

from keras_events.ops import packing
from keras_events.ops.base import EventOp
from keras_events.ops.registry import register

NAME = "KE_DELTA_GRU"
VERSION = 1
GATES = 3

#: Order of the op's inputs after `x` (custom_ops/README.md).
FLOAT_INPUTS = ("w_values", "w_index", "w_offsets", "v_values", "v_index", "v_offsets",
                "bias", "threshold")
INT8_INPUTS = FLOAT_INPUTS + ("w_scale", "v_scale")

_MAX_BIAS = 2**30
MAX_THRESHOLD_Q = 255  # |integer delta| <= 255: a larger integer threshold never sends


def sigmoid(v):
    return 1.0 / (1.0 + np.exp(-v))


def delta(v, v_hat, threshold):
    """Delta encoding (the contract's ``delta``): ``(d, v̂')`` with d = Δ where |Δ| > θ."""
    change = v - v_hat
    sent = np.abs(change) > threshold
    return np.where(sent, change, 0.0), np.where(sent, v, v_hat)


def _bias_shape(gates, units, bias_rows):
    return (2, gates * units) if bias_rows == 2 else (gates * units,)


def check_weights(kernel, recurrent_kernel, bias, threshold, gates=GATES, bias_rows=2,
                  cell="DeltaGRUCell"):
    """The weights as float32 arrays (`threshold` = (θ_x, θ_h)); a ValueError naming the one
    of a wrong shape or value."""
    kernel = np.asarray(kernel, np.float32)
    recurrent_kernel = np.asarray(recurrent_kernel, np.float32)
    bias = np.asarray(bias, np.float32)
    threshold = np.asarray(threshold, np.float32)
    units = recurrent_kernel.shape[0]
    expect = {"kernel": (kernel.shape[0], gates * units),
              "recurrent_kernel": (units, gates * units),
              "bias": _bias_shape(gates, units, bias_rows), "threshold": (2,)}
    for name, arr in (("kernel", kernel), ("recurrent_kernel", recurrent_kernel),
                      ("bias", bias), ("threshold", threshold)):
        if arr.shape != expect[name]:
            raise ValueError(f"{cell} `{name}` has shape {arr.shape}, expected {expect[name]} "
                             f"(units={units}; threshold = (input_threshold, hidden_threshold)).")
    if not np.all(np.isfinite(threshold) & (threshold >= 0)):
        raise ValueError(f"{cell} thresholds {threshold.tolist()} must be finite and >= 0.")
    return kernel, recurrent_kernel, bias, threshold


def threshold_q(threshold, scale):
    """Integer threshold of an int8 operand with `scale`: |Δq| s > θ iff |Δq| > floor(θ / s)
    (Δq an integer), clipped to `MAX_THRESHOLD_Q`."""
    return int(min(np.floor(np.float64(threshold) / np.float64(np.float32(scale))),
                   MAX_THRESHOLD_Q))


def pack_float(kernel, recurrent_kernel, bias, threshold, keep_zeros=False, **check):
    """The op's float32 inputs after ``x`` (keys = `FLOAT_INPUTS`)."""
    kernel, recurrent_kernel, bias, threshold = check_weights(kernel, recurrent_kernel, bias,
                                                              threshold, **check)
    w_values, w_index, w_offsets = packing.pack_rows(kernel, keep_zeros)
    v_values, v_index, v_offsets = packing.pack_rows(recurrent_kernel, keep_zeros)
    return dict(w_values=w_values, w_index=w_index, w_offsets=w_offsets, v_values=v_values,
                v_index=v_index, v_offsets=v_offsets, bias=bias, threshold=threshold)


def pack_int8(kernel, recurrent_kernel, bias, threshold, x_scale, x_zero_point, y_scale,
              y_zero_point, keep_zeros=False, **check):
    """The op's int8-model inputs after ``x`` (keys = `INT8_INPUTS`).

    `x_scale`/`x_zero_point`: the int8 input; `y_scale`/`y_zero_point`: the int8 output, in
    which h_{t-1} is delta-encoded and fed back (custom_ops/README.md, "Numerics of the delta
    ops"). Bias rows: row 0 in units of x_scale * w_scale, row 1 of y_scale * v_scale (the
    LSTM's single bias row goes with the input memory).
    """
    kernel, recurrent_kernel, bias, threshold = check_weights(kernel, recurrent_kernel, bias,
                                                              threshold, **check)
    if not x_scale > 0 or not y_scale > 0:
        raise ValueError(f"x_scale ({x_scale}) and y_scale ({y_scale}) must be positive.")
    bias2 = bias if bias.ndim == 2 else np.stack([bias, np.zeros_like(bias)])
    w_scale = packing.column_scales(kernel, bias2[0], x_scale)
    v_scale = packing.column_scales(recurrent_kernel, bias2[1], y_scale)
    w_values, w_index, w_offsets = packing.pack_rows(
        packing.quantize_columns(kernel, w_scale), keep_zeros)
    v_values, v_index, v_offsets = packing.pack_rows(
        packing.quantize_columns(recurrent_kernel, v_scale), keep_zeros)
    bias_q = np.stack([packing.quantize_bias(bias2[0], x_scale, w_scale, _MAX_BIAS),
                       packing.quantize_bias(bias2[1], y_scale, v_scale, _MAX_BIAS)])
    if bias.ndim == 1:
        bias_q = bias_q[0]
    threshold_int = np.asarray([threshold_q(threshold[0], x_scale),
                                threshold_q(threshold[1], y_scale)], np.int32)
    return dict(w_values=w_values, w_index=w_index, w_offsets=w_offsets, v_values=v_values,
                v_index=v_index, v_offsets=v_offsets, bias=bias_q, threshold=threshold_int,
                w_scale=w_scale, v_scale=v_scale)


def layer_weights(layer, gates=GATES, bias_rows=2):
    """``kernel``, ``recurrent_kernel``, ``bias`` (zeros without bias) and ``threshold``
    (θ_x, θ_h) of a delta layer (or cell) as float32 NumPy arrays."""
    import keras

    cell = getattr(layer, "cell", layer)
    numpy = lambda w: np.asarray(keras.ops.convert_to_numpy(w), np.float32)
    bias = numpy(cell.bias) if getattr(cell, "bias", None) is not None else np.zeros(
        _bias_shape(gates, cell.units, bias_rows), np.float32)
    return dict(kernel=numpy(cell.kernel), recurrent_kernel=numpy(cell.recurrent_kernel),
                bias=bias, threshold=np.asarray([cell.input_threshold, cell.hidden_threshold],
                                                np.float32))


def reference_step(kernel, recurrent_kernel, bias, threshold, x, h, x_hat, h_hat, m_x, m_h):
    """One Delta-GRU step in NumPy (the module docstring): ``(h_t, [h_t, x̂, ĥ, m_x, m_h])``,
    the cell's state order; the memories start at zero (the bias is added to them)."""
    units = np.shape(recurrent_kernel)[0]
    dx, x_hat = delta(x, x_hat, threshold[0])
    dh, h_hat = delta(h, h_hat, threshold[1])
    m_x = m_x + dx @ kernel
    m_h = m_h + dh @ recurrent_kernel
    a, g = m_x + bias[0], m_h + bias[1]
    z = sigmoid(a[:, :units] + g[:, :units])
    r = sigmoid(a[:, units:2 * units] + g[:, units:2 * units])
    n = np.tanh(a[:, 2 * units:] + r * g[:, 2 * units:])
    h_new = z * h + (1 - z) * n
    return h_new, [h_new, x_hat, h_hat, m_x, m_h]


def step_macs(kernel, recurrent_kernel, sent_hidden, sent_inputs=None):
    """Multiply-accumulates of one delta step (the contract's accounting): the non-zero weights
    in the rows of W of sent inputs (every row if `sent_inputs` is None) plus those in the rows
    of V of sent hidden units. Masks (..., units) / (..., features), non-zero = sent; returns
    an array over their leading axes. (The C kernel counts what it stores: the same, except
    rows `packing.pack_rows` stores whole.)"""
    w_nnz = np.count_nonzero(kernel, axis=1)
    v_nnz = np.count_nonzero(recurrent_kernel, axis=1)
    recurrent = (np.asarray(sent_hidden) != 0) @ v_nnz
    if sent_inputs is None:
        return float(w_nnz.sum()) + recurrent
    return (np.asarray(sent_inputs) != 0) @ w_nnz + recurrent


def tf_dense(tf, values, index, offsets, rows, cols):
    """The dense (rows, cols) matrix of a row-compressed one, in TF (either index form)."""
    nnz = offsets[-1]
    row_of = tf.repeat(tf.range(rows), offsets[1:] - offsets[:-1])
    column = tf.cast(index[:nnz], tf.int32)
    column = tf.where(column >= 0, column, -1 - column)  # block-4 form: ~column
    return tf.scatter_nd(tf.stack([row_of, column], axis=1), values[:nnz], [rows, cols])


def tf_delta(tf, v, v_hat, threshold):
    change = v - v_hat
    sent = tf.abs(change) > threshold
    return tf.where(sent, change, 0.0), tf.where(sent, v, v_hat)


def tf_reference(units, return_sequences):
    """TF body of the composite function (the converter replaces it by the custom op; still a
    runnable definition of the op: dense reconstruction + a loop over the static time axis)."""
    import tensorflow as tf

    def body(x, w_values, w_index, w_offsets, v_values, v_index, v_offsets, bias, threshold):
        kernel = tf_dense(tf, w_values, w_index, w_offsets, tf.shape(w_offsets)[0] - 1, 3 * units)
        recurrent = tf_dense(tf, v_values, v_index, v_offsets, units, 3 * units)
        batch = tf.shape(x)[0]
        h = h_hat = tf.zeros([batch, units], x.dtype)
        x_hat = tf.zeros_like(x[:, 0])
        m_x = m_h = tf.zeros([batch, 3 * units], x.dtype)
        ys = []
        for t in range(x.shape[1]):
            dx, x_hat = tf_delta(tf, x[:, t], x_hat, threshold[0])
            dh, h_hat = tf_delta(tf, h, h_hat, threshold[1])
            m_x = m_x + tf.matmul(dx, kernel)
            m_h = m_h + tf.matmul(dh, recurrent)
            a_z, a_r, a_n = tf.split(m_x + bias[0], 3, axis=-1)
            g_z, g_r, g_n = tf.split(m_h + bias[1], 3, axis=-1)
            z, r = tf.sigmoid(a_z + g_z), tf.sigmoid(a_r + g_r)
            h = z * h + (1.0 - z) * tf.tanh(a_n + r * g_n)
            ys.append(h)
        return tf.stack(ys, axis=1) if return_sequences else h

    return body


class DeltaOp(EventOp):
    """What the two delta ops share (the delta encoding, options, accounting)."""

    supported = ("forward, non-stateful layers without returned states, with tanh/sigmoid "
                 "activations")
    float_inputs = FLOAT_INPUTS
    int8_inputs = INT8_INPUTS
    matrix_names = ("kernel", "recurrent_kernel")
    gates = GATES
    bias_rows = 2  # GRU: input and recurrent bias; LSTM: one row

    def _cell_class(self):
        raise NotImplementedError

    def serves(self, cell):
        return isinstance(cell, self._cell_class())

    def check_layer(self, layer):
        import keras

        problems = super().check_layer(layer)
        for argument, expected in (("activation", "tanh"), ("recurrent_activation", "sigmoid")):
            name = keras.activations.serialize(getattr(layer.cell, argument))
            if name != expected:
                problems.append(f"{argument}={name!r}")
        return problems

    def _check(self):
        return dict(gates=self.gates, bias_rows=self.bias_rows, cell=self.cell_name)

    def layer_weights(self, layer):
        return layer_weights(layer, self.gates, self.bias_rows)

    def pack_float(self, weights, keep_zeros=False):
        return pack_float(**weights, keep_zeros=keep_zeros, **self._check())

    def pack_int8(self, weights, x_scale, x_zero_point, y_scale, y_zero_point, keep_zeros=False):
        return pack_int8(**weights, x_scale=x_scale, x_zero_point=x_zero_point,
                         y_scale=y_scale, y_zero_point=y_zero_point, keep_zeros=keep_zeros,
                         **self._check())

    def step_macs(self, weights, prev_events, active_inputs=None):
        """`prev_events`: the hidden units sent this step, `active_inputs`: the inputs sent."""
        return step_macs(weights["kernel"], weights["recurrent_kernel"], prev_events,
                         active_inputs)


class DeltaGRUOp(DeltaOp):
    """`EventOp` of `keras_events.DeltaGRUCell`."""

    name = NAME
    version = VERSION
    cell_name = "DeltaGRUCell"

    def _cell_class(self):
        from keras_events.cells.delta_gru import DeltaGRUCell  # lazy: keeps `ops` free of Keras

        return DeltaGRUCell

    def tf_reference(self, layer):
        return tf_reference(layer.cell.units, layer.return_sequences)

    def reference_step(self, weights, x, states):
        return reference_step(weights["kernel"], weights["recurrent_kernel"], weights["bias"],
                              weights["threshold"], x, *states)

    def kernel_state_bytes(self, input_tensor, output_tensor):
        # int8 per unit: h (int16), y, ĥ (int8), m_x, m_h, the bias copy (6 int32 each side),
        # the 6 gate multipliers; per input x̂. float: h, ĥ, 12 memory/bias floats; x̂.
        units, features = output_tensor["shape"][-1], input_tensor["shape"][-1]
        if input_tensor["dtype"] == "int8":
            return units * (2 + 1 + 1 + 4 * 12 + 4 * 6) + features
        return units * 4 * (1 + 1 + 12) + 4 * features


DELTA_GRU = register(DeltaGRUOp())

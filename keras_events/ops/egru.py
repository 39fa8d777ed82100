"""The EGRU event op: custom op ``KE_EGRU`` for layers of `keras_events.EGRUCell`.

One step (Subramoney, Nazeer, Schöne, Mayr & Kappel, "Efficient recurrent architectures
through activity sparsity and sparse back-propagation through time", ICLR 2023, eqs. 1-5;
reset after the matmul as `keras.layers.GRUCell(reset_after=True)`; gates ``[u | r | z]``):

    a = x_t W + b_in            g = y_{t-1} V + b_rec
    u = σ(a_u + g_u)            r = σ(a_r + g_r)            z = tanh(a_z + r ⊙ g_z)
    c = u ⊙ z + (1 - u) ⊙ ĉ_{t-1}
    e = H(c - ϑ)                y_t = c ⊙ e                 ĉ_t = c - e ⊙ ϑ

The op's inputs are ``x`` and the row-compressed ``W``, ``V`` (`FLOAT_INPUTS`, or
`INT8_INPUTS` with per-column scales), its options ``units``, ``return_sequences``,
``version``, ``layer_id`` and ``streaming`` (`custom_ops/README.md` specifies tensors,
options and the int8 numerics; `custom_ops/core/ke_egru.c` is the kernel). Because
``y_{t-1}`` is zero for silent units, the kernel multiplies only the rows of ``V`` of
units that fired: `step_macs`.
"""
import numpy as np

from keras_events.ops import packing
from keras_events.ops.base import EventOp
from keras_events.ops.registry import register

NAME = "KE_EGRU"
VERSION = 1

#: Fixed output quantization of an int8 EGRU op: y is 0 or in (theta, 1).
Y_SCALE = 1.0 / 256.0
Y_ZERO_POINT = -128

#: Order of the op's inputs after `x` (custom_ops/README.md).
FLOAT_INPUTS = ("w_values", "w_index", "w_offsets", "v_values", "v_index", "v_offsets",
                "bias", "threshold")
INT8_INPUTS = FLOAT_INPUTS + ("w_scale", "v_scale")

_MAX_BIAS = 2**30


def _sigmoid(v):
    return 1.0 / (1.0 + np.exp(-v))


def check_weights(kernel, recurrent_kernel, bias, threshold):
    """The four weights as float32 arrays; a ValueError naming the one of a wrong shape."""
    kernel = np.asarray(kernel, np.float32)
    recurrent_kernel = np.asarray(recurrent_kernel, np.float32)
    bias = np.asarray(bias, np.float32)
    threshold = np.asarray(threshold, np.float32)
    units = recurrent_kernel.shape[0]
    expect = {"kernel": (kernel.shape[0], 3 * units), "recurrent_kernel": (units, 3 * units),
              "bias": (2, 3 * units), "threshold": (units,)}
    for name, arr in (("kernel", kernel), ("recurrent_kernel", recurrent_kernel),
                      ("bias", bias), ("threshold", threshold)):
        if arr.shape != expect[name]:
            raise ValueError(f"EGRU `{name}` has shape {arr.shape}, expected {expect[name]} "
                             f"(units={units}); bias must be (2, 3*units) as GRUCell(reset_after=True).")
    if not np.all((threshold > 0) & (threshold < 1)):
        raise ValueError("EGRU `threshold` must lie in (0, 1) (it is sigmoid(threshold_param)).")
    return kernel, recurrent_kernel, bias, threshold


def pack_float(kernel, recurrent_kernel, bias, threshold, keep_zeros=False):
    """The op's float32 inputs 1..8 as a dict of arrays (keys = `FLOAT_INPUTS`)."""
    kernel, recurrent_kernel, bias, threshold = check_weights(kernel, recurrent_kernel, bias,
                                                              threshold)
    w_values, w_index, w_offsets = packing.pack_rows(kernel, keep_zeros)
    v_values, v_index, v_offsets = packing.pack_rows(recurrent_kernel, keep_zeros)
    return dict(w_values=w_values, w_index=w_index, w_offsets=w_offsets,
                v_values=v_values, v_index=v_index, v_offsets=v_offsets,
                bias=bias, threshold=threshold)


def pack_int8(kernel, recurrent_kernel, bias, threshold, x_scale, x_zero_point,
              y_scale=Y_SCALE, y_zero_point=Y_ZERO_POINT, keep_zeros=False):
    """The op's int8-model inputs 1..10 as a dict of arrays (keys = `INT8_INPUTS`).

    Args:
        kernel, recurrent_kernel, bias, threshold: float weights of the cell
            (`threshold` = sigmoid(threshold_param)).
        x_scale, x_zero_point: quantization of the op's int8 input tensor.
        y_scale, y_zero_point: quantization of its int8 output (y_{t-1} is fed
            back in it).
        keep_zeros: store every weight (see `packing.pack_rows`).
    """
    kernel, recurrent_kernel, bias, threshold = check_weights(kernel, recurrent_kernel, bias,
                                                              threshold)
    if not x_scale > 0 or not y_scale > 0:
        raise ValueError(f"x_scale ({x_scale}) and y_scale ({y_scale}) must be positive.")
    w_scale = packing.column_scales(kernel, bias[0], x_scale)
    v_scale = packing.column_scales(recurrent_kernel, bias[1], y_scale)
    w_values, w_index, w_offsets = packing.pack_rows(
        packing.quantize_columns(kernel, w_scale), keep_zeros)
    v_values, v_index, v_offsets = packing.pack_rows(
        packing.quantize_columns(recurrent_kernel, v_scale), keep_zeros)
    bias_q = np.stack([packing.quantize_bias(bias[0], x_scale, w_scale, _MAX_BIAS),
                       packing.quantize_bias(bias[1], y_scale, v_scale, _MAX_BIAS)])
    # ϑ in Q0.15, as the int8 kernel's state (custom_ops/README.md, "Numerics").
    threshold_q = np.clip(np.round(threshold.astype(np.float64) * 32768), 1, 32767).astype(np.int16)
    return dict(w_values=w_values, w_index=w_index, w_offsets=w_offsets,
                v_values=v_values, v_index=v_index, v_offsets=v_offsets,
                bias=bias_q, threshold=threshold_q, w_scale=w_scale, v_scale=v_scale)


def layer_weights(layer):
    """``kernel``, ``recurrent_kernel``, ``bias`` (zeros without bias) and ``threshold`` of
    an EGRU layer (or cell) as float32 NumPy arrays."""
    import keras

    cell = getattr(layer, "cell", layer)
    numpy = lambda w: np.asarray(keras.ops.convert_to_numpy(w), np.float32)
    bias = numpy(cell.bias) if getattr(cell, "bias", None) is not None else np.zeros(
        (2, 3 * cell.units), np.float32)
    return dict(kernel=numpy(cell.kernel), recurrent_kernel=numpy(cell.recurrent_kernel),
                bias=bias, threshold=numpy(cell.threshold))


def reference_step(kernel, recurrent_kernel, bias, threshold, x, y_prev, c_hat_prev):
    """One EGRU step in NumPy (the module docstring's equations): ``(y, ĉ)``.

    `x` (batch, features), `y_prev` and `c_hat_prev` (batch, units); computed in the
    inputs' precision (float64 for a reference).
    """
    units = np.shape(recurrent_kernel)[0]
    a = x @ kernel + bias[0]
    g = y_prev @ recurrent_kernel + bias[1]
    u = _sigmoid(a[:, :units] + g[:, :units])
    r = _sigmoid(a[:, units:2 * units] + g[:, units:2 * units])
    z = np.tanh(a[:, 2 * units:] + r * g[:, 2 * units:])
    c = u * z + (1 - u) * c_hat_prev
    event = c > threshold
    return np.where(event, c, 0.0), np.where(event, c - threshold, c)


def step_macs(kernel, recurrent_kernel, prev_events, active_inputs=None):
    """Multiply-accumulates of one event-driven step: the non-zero input weights in the
    rows of non-zero inputs (all rows if `active_inputs` is None) plus the non-zero
    recurrent weights in the rows of units that emitted an event at the previous step.

    `prev_events` (..., units) and `active_inputs` (..., features) are masks (non-zero =
    active); returns an array over their leading axes. (The C kernel counts the entries
    it stores: the same, except rows of `packing.pack_rows` stored whole.)
    """
    w_nnz = np.count_nonzero(kernel, axis=1)
    v_nnz = np.count_nonzero(recurrent_kernel, axis=1)
    recurrent = (np.asarray(prev_events) != 0) @ v_nnz
    if active_inputs is None:
        return float(w_nnz.sum()) + recurrent
    return (np.asarray(active_inputs) != 0) @ w_nnz + recurrent


def tf_reference(units, return_sequences):
    """TF body of the composite function: the EGRU step over the packed float weights.

    The converter replaces it by the custom op; it is still a faithful, runnable
    definition of the op (dense reconstruction + a loop over time).
    """
    import tensorflow as tf

    def dense(values, index, offsets, rows):
        nnz = offsets[-1]
        row_of = tf.repeat(tf.range(rows), offsets[1:] - offsets[:-1])
        column = tf.cast(index[:nnz], tf.int32)
        column = tf.where(column >= 0, column, -1 - column)  # block-4 form: ~column
        coords = tf.stack([row_of, column], axis=1)
        return tf.scatter_nd(coords, values[:nnz], [rows, 3 * units])

    def body(x, w_values, w_index, w_offsets, v_values, v_index, v_offsets, bias, threshold):
        kernel = dense(w_values, w_index, w_offsets, tf.shape(w_offsets)[0] - 1)
        recurrent = dense(v_values, v_index, v_offsets, units)

        # A Python loop over the static time axis: tf.scan/while would leave
        # TensorList ops that the converter lowers before it fuses the function.
        y = c_hat = tf.zeros([tf.shape(x)[0], units], x.dtype)
        ys = []
        for t in range(x.shape[1]):
            a = tf.matmul(x[:, t], kernel) + bias[0]
            g = tf.matmul(y, recurrent) + bias[1]
            a_u, a_r, a_z = tf.split(a, 3, axis=-1)
            g_u, g_r, g_z = tf.split(g, 3, axis=-1)
            u, r = tf.sigmoid(a_u + g_u), tf.sigmoid(a_r + g_r)
            c = u * tf.tanh(a_z + r * g_z) + (1.0 - u) * c_hat
            event = c > threshold
            y, c_hat = tf.where(event, c, 0.0), tf.where(event, c - threshold, c)
            ys.append(y)
        return tf.stack(ys, axis=1) if return_sequences else y

    return body


class EGRUOp(EventOp):
    """`EventOp` of `keras_events.EGRUCell` (and the `keras_events.EGRU` layer)."""

    name = NAME
    version = VERSION
    cell_name = "EGRUCell"
    supported = ("forward, non-stateful layers without returned states, with tanh/sigmoid "
                 "activations")
    float_inputs = FLOAT_INPUTS
    int8_inputs = INT8_INPUTS
    matrix_names = ("kernel", "recurrent_kernel")

    def serves(self, cell):
        from keras_events.cells.egru import EGRUCell  # lazy: keeps `ops` free of Keras

        return isinstance(cell, EGRUCell)

    def check_layer(self, layer):
        import keras

        problems = super().check_layer(layer)
        for argument, expected in (("activation", "tanh"), ("recurrent_activation", "sigmoid")):
            name = keras.activations.serialize(getattr(layer.cell, argument))
            if name != expected:
                problems.append(f"{argument}={name!r}")
        return problems

    def layer_weights(self, layer):
        return layer_weights(layer)

    def pack_float(self, weights, keep_zeros=False):
        return pack_float(**weights, keep_zeros=keep_zeros)

    def pack_int8(self, weights, x_scale, x_zero_point, y_scale, y_zero_point, keep_zeros=False):
        return pack_int8(**weights, x_scale=x_scale, x_zero_point=x_zero_point,
                         y_scale=y_scale, y_zero_point=y_zero_point, keep_zeros=keep_zeros)

    def tf_reference(self, layer):
        return tf_reference(layer.cell.units, layer.return_sequences)

    def reference_step(self, weights, x, states):
        y, c_hat = reference_step(weights["kernel"], weights["recurrent_kernel"],
                                  weights["bias"], weights["threshold"], x, *states)
        return y, [y, c_hat]  # the cell's state order: [y, ĉ]

    def step_macs(self, weights, prev_events, active_inputs=None):
        return step_macs(weights["kernel"], weights["recurrent_kernel"], prev_events,
                         active_inputs)

    def kernel_state_bytes(self, input_tensor, output_tensor):
        # Per unit: int8 keeps ĉ (int16), y (int8), the active list (int16) and ~4 int32
        # scratch words (an estimate: its sequence scratch also grows with the input);
        # float keeps ĉ, y (float32), the active list and 6 float scratch words.
        units = output_tensor["shape"][-1]
        int8 = input_tensor["dtype"] == "int8"
        return units * ((2 + 1 + 2 + 4 * 4) if int8 else (4 + 4 + 2 + 4 * 6))


EGRU = register(EGRUOp())

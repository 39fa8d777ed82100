"""The embedded-GRU op: custom op ``KE_EGRU_EMB`` for layers of
`keras_events.EmbeddedGRUCell` (Amoh & Odame, "An Optimized Recurrent Unit for
Ultra-Low-Power Keyword Spotting", IMWUT 2019).

One step (``s(v) = v / (1 + |v|)``, columns ``[z | h~]``):

    z = (s(x W_z + h U_z + b_z) + 1) / 2     h~ = s(x W_h + h U_h + b_h)
    h_t = z ⊙ h_{t-1} + (1 - z) ⊙ h~

Float model: inputs ``x``, ``kernel`` (I, 2U), ``recurrent_kernel`` (U, 2U), ``bias``
(2U,) in float32 (the cell's effective weights: power-of-two when it trains with
``quantize=True``). Int8 model: ``x`` int8, ``w_codes`` / ``u_codes`` (4-bit shift codes,
two per byte, eight columns of a row per 32-bit word: `pack_codes`) and ``bias`` int32 Q15; the kernel
runs in Q15 (`custom_ops/core/ke_egru_emb.h` specifies the numerics, `reference_q15_step`
is their bit-exact NumPy statement). The cell is dense: every weight is used every step.
"""
import numpy as np

from keras_events.ops.base import EventOp
from keras_events.ops.registry import register

NAME = "KE_EGRU_EMB"
# 2: the shift codes are laid out eight columns of a row per 32-bit word (ke_egru_emb.h);
# version-1 files (two columns a byte) are refused in Prepare: re-export them.
VERSION = 2
FLOAT_INPUTS = ("kernel", "recurrent_kernel", "bias")
INT8_INPUTS = ("w_codes", "u_codes", "bias")

ONE = 32768              # 1.0 in Q15
SOFTSIGN_CLAMP = 1 << 24  # ke_egru_emb.h
MAX_BIAS = 1 << 29
MIN_EXPONENT, MAX_EXPONENT = -6, 0


def power_of_two(w):
    """NumPy twin of `keras_events.cells.embedded_gru.power_of_two` (float32 in and out)."""
    w = np.asarray(w, np.float32)
    exponent = np.round(np.log2(np.maximum(np.abs(w), np.float32(1e-30))))
    out = np.sign(w) * np.exp2(np.clip(exponent, MIN_EXPONENT, MAX_EXPONENT))
    return np.where(exponent >= MIN_EXPONENT, out, 0).astype(np.float32)


def codes(w):
    """The 4-bit shift code of every weight (after `power_of_two`): 0 for a zero weight,
    else ``sign << 3 | (1 - exponent)`` (exponent 0..-6 -> 1..7)."""
    q = power_of_two(w)
    exponent = np.round(np.log2(np.maximum(np.abs(q), 1e-30))).astype(np.int32)
    c = np.where(q != 0, 1 - exponent, 0) | np.where(q < 0, 8, 0)
    return c.astype(np.uint8)


def decode(code_array):
    """Float values of 4-bit codes (inverse of `codes` on power-of-two weights)."""
    c = np.asarray(code_array, np.int32)
    e = c & 7
    value = np.where(e > 0, np.exp2(-(e - 1.0)), 0.0)
    return np.where(c & 8, -value, value).astype(np.float32)


def _padded_rows(rows):
    return rows + rows % 2


def pack_codes(w):
    """A (rows, 2U) weight matrix (columns ``[z | h~]``) as the kernel's packed codes
    (``ke_egru_emb.h``): units in groups of four; per group and row (rows padded to even)
    one 32-bit little-endian word whose nibble k is the code of column z_{4g+k} (k < 4) or
    h~_{4g+k-4} (k >= 4), padding coded 0. Returns int8 (the tensor type)
    ``(ceil(U/4), 4 * padded rows)``; the kernel reads it as uint8."""
    c = codes(w)
    rows, cols = c.shape
    if cols % 2:
        raise ValueError(f"eGRU weights have {cols} columns; expected 2 * units ([z | h~]).")
    units, groups = cols // 2, -(-cols // 8)
    slots = np.zeros((_padded_rows(rows), groups, 8), np.uint32)
    for half in range(2):  # z columns to nibbles 0..3, h~ columns to nibbles 4..7
        block = np.zeros((rows, 4 * groups), np.uint32)
        block[:, :units] = c[:, half * units:(half + 1) * units]
        slots[:rows, :, 4 * half:4 * half + 4] = block.reshape(rows, groups, 4)
    words = (slots << (4 * np.arange(8, dtype=np.uint32))).sum(axis=-1, dtype=np.uint32)
    return np.ascontiguousarray(words.T, "<u4").view(np.uint8).reshape(groups, -1).view(np.int8)


def unpack_codes(packed, rows, units):
    """Codes (rows, 2 * units) from `pack_codes`'s bytes."""
    b = np.ascontiguousarray(packed).view(np.uint8)
    words = b.reshape(b.shape[0], -1, 4).copy().view("<u4")[..., 0]     # (groups, rows)
    nib = (words[..., None] >> (4 * np.arange(8, dtype=np.uint32))) & 15  # (groups, rows, 8)
    nib = nib.transpose(1, 0, 2)[:rows].astype(np.uint8)
    z = nib[:, :, :4].reshape(rows, -1)[:, :units]
    cand = nib[:, :, 4:].reshape(rows, -1)[:, :units]
    return np.concatenate([z, cand], axis=1)


def bias_q15(bias):
    """The float bias as int32 Q15 (rounded); a ValueError if |bias| >= 2^14."""
    b = np.round(np.asarray(bias, np.float64) * ONE)
    if np.any(np.abs(b) > MAX_BIAS):
        raise ValueError(f"eGRU `bias` has values up to {np.abs(bias).max():.4g}; the Q15 kernel "
                         f"supports |bias| < 2^14 (regularize the bias).")
    return b.astype(np.int32)


def check_weights(kernel, recurrent_kernel, bias):
    """The three weights as float32 arrays; a ValueError naming one of a wrong shape."""
    kernel, recurrent_kernel, bias = (np.asarray(a, np.float32)
                                      for a in (kernel, recurrent_kernel, bias))
    units = recurrent_kernel.shape[0]
    expect = {"kernel": (kernel.shape[0], 2 * units), "recurrent_kernel": (units, 2 * units),
              "bias": (2 * units,)}
    for name, arr in (("kernel", kernel), ("recurrent_kernel", recurrent_kernel), ("bias", bias)):
        if arr.shape != expect[name]:
            raise ValueError(f"eGRU `{name}` has shape {arr.shape}, expected {expect[name]} "
                             f"(units={units}).")
    return kernel, recurrent_kernel, bias


def layer_weights(layer):
    """``kernel``, ``recurrent_kernel`` (as the forward pass uses them: power-of-two when
    the cell quantizes) and ``bias`` (zeros without bias) of an eGRU layer or cell."""
    import keras

    cell = getattr(layer, "cell", layer)
    numpy = lambda w: np.asarray(keras.ops.convert_to_numpy(w), np.float32)
    kernel, recurrent = numpy(cell.kernel), numpy(cell.recurrent_kernel)
    if cell.quantize:
        kernel, recurrent = power_of_two(kernel), power_of_two(recurrent)
    bias = numpy(cell.bias) if cell.bias is not None else np.zeros(2 * cell.units, np.float32)
    return dict(kernel=kernel, recurrent_kernel=recurrent, bias=bias)


def _softsign(v):
    return v / (1 + np.abs(v))


def reference_step(kernel, recurrent_kernel, bias, x, h_prev):
    """One float step in NumPy (the module docstring's equations); returns h."""
    units = np.shape(recurrent_kernel)[0]
    a = x @ kernel + h_prev @ recurrent_kernel + bias
    z = 0.5 * (_softsign(a[:, :units]) + 1)
    return z * h_prev + (1 - z) * _softsign(a[:, units:])


def softsign_q15(a):
    """The kernel's integer softsign: sign(a) floor(2^15 m / (2^15 + m)), m = min(|a|, 2^24)."""
    a = np.asarray(a, np.int64)
    m = np.minimum(np.abs(a), SOFTSIGN_CLAMP)
    return np.sign(a) * ((m << 15) // (ONE + m))


def _code_products(v, c):
    """Sum over rows of the shift-code products: v (batch, rows) Q15, c (rows, cols) codes."""
    v = np.maximum(np.asarray(v, np.int64), -32767)
    e = (c & 7).astype(np.int64)
    shifted = v[:, :, None] >> np.maximum(e - 1, 0)[None]          # floor(v / 2^(e-1))
    term = np.where(e[None] > 0, np.where(c[None] & 8, -shifted, shifted), 0)
    return term.sum(axis=1)


def reference_q15_step(w_codes, u_codes, bias_q, x_q, h_q):
    """One Q15 step exactly as `ke_egru_emb_q15_step`: codes (rows, 2U) from `codes`,
    int32 Q15 bias, x_q (batch, I) and h_q (batch, U) int16 Q15; returns the new h_q."""
    units = np.shape(u_codes)[0]
    h_q = np.asarray(h_q, np.int64)
    a = _code_products(x_q, w_codes) + _code_products(h_q, u_codes) + np.asarray(bias_q)
    z = (softsign_q15(a[:, :units]) + ONE) >> 1
    cand = softsign_q15(a[:, units:])
    nxt = cand + ((z * (h_q - cand) + (1 << 14)) >> 15)
    return np.clip(nxt, -32767, 32767).astype(np.int16)


def tf_reference(units, return_sequences):
    """TF body of the composite function: the float step over time (the converter replaces
    it by the custom op)."""
    import tensorflow as tf

    def softsign(v):
        return v / (1.0 + tf.abs(v))

    def body(x, kernel, recurrent_kernel, bias):
        h = tf.zeros([tf.shape(x)[0], units], x.dtype)
        hs = []
        for t in range(x.shape[1]):  # static loop: no TensorList ops before fusion
            a = tf.matmul(x[:, t], kernel) + tf.matmul(h, recurrent_kernel) + bias
            z = 0.5 * (softsign(a[:, :units]) + 1.0)
            h = z * h + (1.0 - z) * softsign(a[:, units:])
            hs.append(h)
        return tf.stack(hs, axis=1) if return_sequences else h

    return body


class EmbeddedGRUOp(EventOp):
    """`EventOp` of `keras_events.EmbeddedGRUCell`."""

    name = NAME
    version = VERSION
    cell_name = "EmbeddedGRUCell"
    float_inputs = FLOAT_INPUTS
    int8_inputs = INT8_INPUTS
    matrix_names = ("kernel", "recurrent_kernel")

    def serves(self, cell):
        from keras_events.cells.embedded_gru import EmbeddedGRUCell

        return isinstance(cell, EmbeddedGRUCell)

    def layer_weights(self, layer):
        return layer_weights(layer)

    def pack_float(self, weights, keep_zeros=False):
        kernel, recurrent, bias = check_weights(**weights)
        return dict(kernel=kernel, recurrent_kernel=recurrent, bias=bias)

    def pack_int8(self, weights, x_scale, x_zero_point, y_scale, y_zero_point, keep_zeros=False):
        kernel, recurrent, bias = check_weights(**weights)
        if not x_scale > 0 or not y_scale > 0:
            raise ValueError(f"x_scale ({x_scale}) and y_scale ({y_scale}) must be positive.")
        return dict(w_codes=pack_codes(kernel), u_codes=pack_codes(recurrent),
                    bias=bias_q15(bias))

    def tf_reference(self, layer):
        return tf_reference(layer.cell.units, layer.return_sequences)

    def reference_step(self, weights, x, states):
        h = reference_step(weights["kernel"], weights["recurrent_kernel"], weights["bias"], x,
                           states[0])
        return h, [h]

    def step_macs(self, weights, prev_events, active_inputs=None):
        # Dense: every weight is a shift-add each step, whatever the activity.
        return float(self.dense_macs(weights)) + 0.0 * np.asarray(prev_events).sum(axis=-1)

    def kernel_state_bytes(self, input_tensor, output_tensor):
        units = output_tensor["shape"][-1]
        features = input_tensor["shape"][-1]
        if input_tensor["dtype"] == "int8":
            tables = 16 * (_padded_rows(features) + _padded_rows(units))
            return 2 * units + 2 * (tables + features)
        return 4 * units + 4 * 2 * units


EGRU_EMB = register(EmbeddedGRUOp())

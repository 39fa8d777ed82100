"""Packs dense EGRU weights into the KE_EGRU tensors (float32 or int8).

Pure NumPy.  The row-compressed format and the int8 numerics are specified in
`custom_ops/README.md`; the C kernel in `custom_ops/core/ke_egru.c` reads
exactly what these functions produce.
"""
import numpy as np

#: Fixed output quantization of an int8 KE_EGRU: y is 0 or in (theta, 1).
Y_SCALE = 1.0 / 256.0
Y_ZERO_POINT = -128

_MAX_BIAS = 2**30
_BIAS_BITS_SCALE = 2**20  # largest |int32 bias| column_scales() produces


DENSE_ROW_FRACTION = 0.9  # rows at least this full are stored whole (zeros included)


def pack_rows(dense, keep_zeros=False):
    """Row-compresses a dense matrix: returns `(values, index, offsets)`.

    A row with at least `DENSE_ROW_FRACTION` non-zeros is stored whole, zeros
    included: the kernels run such rows with a contiguous (vectorized) loop, which
    is faster than skipping the few zeros (int8 rounding zeroes some small weights
    of unpruned kernels; on a Cortex-M4 a full row costs ~5.5 instructions per
    entry, a compressed one ~5.75 per stored entry).

    Args:
        dense: array `(rows, cols)`; exact zeros are not stored...
        keep_zeros: ...unless True (every entry stored: a dense kernel in the same format).

    Returns:
        `values` (nnz,) of `dense.dtype`, `index` (nnz,) int16 column of each value,
        `offsets` (rows + 1,) int32 with row `r` owning `values[offsets[r]:offsets[r+1]]`.
        When nnz is 0, `values`/`index` hold one unused element (TFLite has no
        empty constant tensors); `offsets` is all zeros.
    """
    dense = np.asarray(dense)
    if dense.ndim != 2:
        raise ValueError(f"pack_rows expects a 2-D matrix, got shape {dense.shape}.")
    if dense.shape[1] > 32768:
        raise ValueError(f"{dense.shape[1]} output columns do not fit int16 indices (max 32768).")
    # row-major order: rows ascending, columns ascending within a row
    stored = dense != 0
    stored[stored.sum(axis=1) >= DENSE_ROW_FRACTION * dense.shape[1]] = True
    rows, cols = np.nonzero(np.ones(dense.shape, bool) if keep_zeros else stored)
    values = dense[rows, cols]
    index = cols.astype(np.int16)
    offsets = np.zeros(dense.shape[0] + 1, np.int32)
    np.cumsum(np.bincount(rows, minlength=dense.shape[0]), out=offsets[1:])
    if values.size == 0:
        values = np.zeros(1, dense.dtype)
        index = np.zeros(1, np.int16)
    return values, index, offsets


def unpack_rows(values, index, offsets, cols):
    """Inverse of `pack_rows`: the dense `(rows, cols)` matrix."""
    offsets = np.asarray(offsets)
    rows = len(offsets) - 1
    dense = np.zeros((rows, cols), np.asarray(values).dtype)
    row_of = np.repeat(np.arange(rows), np.diff(offsets))
    nnz = int(offsets[-1])
    dense[row_of, np.asarray(index)[:nnz]] = np.asarray(values)[:nnz]
    return dense


def _check_egru(kernel, recurrent_kernel, bias, threshold):
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


def pack_egru_float(kernel, recurrent_kernel, bias, threshold, keep_zeros=False):
    """KE_EGRU float32 inputs 1..8 as a dict of arrays (keys = input names)."""
    kernel, recurrent_kernel, bias, threshold = _check_egru(kernel, recurrent_kernel, bias, threshold)
    w_values, w_index, w_offsets = pack_rows(kernel, keep_zeros)
    v_values, v_index, v_offsets = pack_rows(recurrent_kernel, keep_zeros)
    return dict(w_values=w_values, w_index=w_index, w_offsets=w_offsets,
                v_values=v_values, v_index=v_index, v_offsets=v_offsets,
                bias=bias, threshold=threshold)


def column_scales(dense, bias_row, operand_scale):
    """Symmetric per-output-column int8 scales of `dense` (float32, > 0).

    The scale is also raised so the int32 bias `bias / (operand_scale * scale)`
    stays within +-2^20: only (nearly) all-zero columns are affected, and their
    bias keeps 20 bits.  The kernel's accumulator bound (ke_egru_i8_check_constants,
    |acc| * 2^L < 2^31) then holds with room for the weighted sum.
    """
    amax = np.max(np.abs(dense), axis=0).astype(np.float64) / 127.0
    floor = np.abs(bias_row).astype(np.float64) / (float(operand_scale) * _BIAS_BITS_SCALE)
    scale = np.maximum(amax, floor)
    scale[scale == 0] = 1.0  # all-zero column without bias: any positive scale
    return scale.astype(np.float32)


def quantize_columns(dense, scale):
    """int8 `round(dense / scale)` per column, clipped to [-127, 127]."""
    q = np.round(np.asarray(dense, np.float64) / scale.astype(np.float64))
    return np.clip(q, -127, 127).astype(np.int8)


def pack_egru_int8(kernel, recurrent_kernel, bias, threshold, x_scale, x_zero_point,
                   y_scale=Y_SCALE, y_zero_point=Y_ZERO_POINT, keep_zeros=False):
    """KE_EGRU int8 inputs 1..10 as a dict of arrays.

    Args:
        kernel, recurrent_kernel, bias, threshold: float weights of the cell
            (`threshold` = sigmoid(threshold_param)).
        x_scale, x_zero_point: quantization of the op's int8 input tensor.
        y_scale, y_zero_point: quantization of its int8 output (y_{t-1} is fed
            back in it).
        keep_zeros: store every weight (see `pack_rows`).
    """
    kernel, recurrent_kernel, bias, threshold = _check_egru(kernel, recurrent_kernel, bias, threshold)
    if not x_scale > 0 or not y_scale > 0:
        raise ValueError(f"x_scale ({x_scale}) and y_scale ({y_scale}) must be positive.")
    w_scale = column_scales(kernel, bias[0], x_scale)
    v_scale = column_scales(recurrent_kernel, bias[1], y_scale)
    w_values, w_index, w_offsets = pack_rows(quantize_columns(kernel, w_scale), keep_zeros)
    v_values, v_index, v_offsets = pack_rows(quantize_columns(recurrent_kernel, v_scale), keep_zeros)
    bias_q = np.stack([
        np.round(bias[0] / (np.float64(np.float32(x_scale)) * w_scale.astype(np.float64))),
        np.round(bias[1] / (np.float64(np.float32(y_scale)) * v_scale.astype(np.float64)))])
    bias_q = np.clip(bias_q, -_MAX_BIAS, _MAX_BIAS).astype(np.int32)
    threshold_q = np.clip(np.round(threshold.astype(np.float64) * 32768), 1, 32767).astype(np.int16)
    return dict(w_values=w_values, w_index=w_index, w_offsets=w_offsets,
                v_values=v_values, v_index=v_index, v_offsets=v_offsets,
                bias=bias_q, threshold=threshold_q, w_scale=w_scale, v_scale=v_scale)


#: Order of the KE_EGRU inputs after `x` (custom_ops/README.md).
FLOAT_INPUTS = ("w_values", "w_index", "w_offsets", "v_values", "v_index", "v_offsets",
                "bias", "threshold")
INT8_INPUTS = FLOAT_INPUTS + ("w_scale", "v_scale")

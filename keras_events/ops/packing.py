"""Weight formats every event op shares: row-compressed sparse matrices and per-column
symmetric int8 quantization.

Pure NumPy. The formats are specified in `custom_ops/README.md`; the C primitives in
`custom_ops/core/` read exactly what these functions produce.
"""
import numpy as np

DENSE_ROW_FRACTION = 0.9  # rows at least this full are stored whole (zeros included)
MAX_BIAS_BITS_SCALE = 2**20  # largest |int32 bias| column_scales() produces


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


def column_scales(dense, bias_row, operand_scale):
    """Symmetric per-output-column int8 scales of `dense` (float32, > 0).

    The scale is also raised so the int32 bias `bias / (operand_scale * scale)`
    stays within +-2^20: only (nearly) all-zero columns are affected, and their
    bias keeps 20 bits.  The kernel's accumulator bound (ke_egru_i8_check_constants,
    |acc| * 2^L < 2^31) then holds with room for the weighted sum.
    """
    amax = np.max(np.abs(dense), axis=0).astype(np.float64) / 127.0
    floor = np.abs(bias_row).astype(np.float64) / (float(operand_scale) * MAX_BIAS_BITS_SCALE)
    scale = np.maximum(amax, floor)
    scale[scale == 0] = 1.0  # all-zero column without bias: any positive scale
    return scale.astype(np.float32)


def quantize_columns(dense, scale):
    """int8 `round(dense / scale)` per column, clipped to [-127, 127]."""
    q = np.round(np.asarray(dense, np.float64) / scale.astype(np.float64))
    return np.clip(q, -127, 127).astype(np.int8)


def quantize_bias(bias_row, operand_scale, scale, limit=2**30):
    """int32 `round(bias / (operand_scale * scale))` per column, clipped to +-`limit`
    (the accumulator's own scale, so the bias adds to the integer products)."""
    q = np.round(np.asarray(bias_row) / (np.float64(np.float32(operand_scale))
                                          * scale.astype(np.float64)))
    return np.clip(q, -limit, limit).astype(np.int32)

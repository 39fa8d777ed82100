"""Weight formats every event op shares: row-compressed sparse matrices and per-column
symmetric int8 quantization.

Pure NumPy. The formats are specified in `custom_ops/README.md`; the C primitives in
`custom_ops/core/` read exactly what these functions produce.
"""
import numpy as np

DENSE_ROW_FRACTION = 0.9  # rows at least this full are stored whole (zeros included)
BLOCK = 4  # columns per group of the block-4 form
#: `pack_rows(block=None)` stores a matrix in block-4 form when that stores at most this
#: many times the entries of the plain form: a group costs ~3 Cortex-M4 instructions per
#: entry, a plain compressed entry ~5.75, and the zeros a group stores are executed MACs.
BLOCK_MAX_FILL = 1.25
MAX_BIAS_BITS_SCALE = 2**20  # largest |int32 bias| column_scales() produces


def _plain_stored(dense, keep_zeros):
    """Mask of the entries the plain form stores."""
    if keep_zeros:
        return np.ones(dense.shape, bool)
    stored = dense != 0
    stored[stored.sum(axis=1) >= DENSE_ROW_FRACTION * dense.shape[1]] = True
    return stored


def pack_rows(dense, keep_zeros=False, block=None):
    """Row-compresses a dense matrix: returns `(values, index, offsets)`.

    A row with at least `DENSE_ROW_FRACTION` non-zeros is stored whole, zeros
    included: the kernels run such rows with a contiguous (vectorized) loop, which
    is faster than skipping the few zeros (int8 rounding zeroes some small weights
    of unpruned kernels; on a Cortex-M4 a full row costs ~5.5 instructions per
    entry, a compressed one ~5.75 per stored entry).

    Block-4 form (`custom_ops/README.md`): a matrix pruned in blocks of 1 x 4 columns
    (`keras_events.sparsity.prune_low_magnitude(..., block_size=(1, 4))`) is stored as
    whole aligned groups of 4 columns; one index per group serves four weights (the
    other three index entries hold `~column`, which marks the form).

    Args:
        dense: array `(rows, cols)`; exact zeros are not stored...
        keep_zeros: ...unless True (every entry stored: a dense kernel in the same format).
        block: True: block-4 form (`cols` must be a multiple of 4; a group with any
            non-zero entry is stored whole); False: plain form; None (default): block-4
            form when `cols % 4 == 0` and it stores at most `BLOCK_MAX_FILL` times the
            entries of the plain form (block-pruned matrices, dense ones).

    Returns:
        `values` (nnz,) of `dense.dtype`, `index` (nnz,) int16 column of each value
        (`~column` for the 2nd..4th entry of a block-4 group), `offsets` (rows + 1,)
        int32 with row `r` owning `values[offsets[r]:offsets[r+1]]`.
        When nnz is 0, `values`/`index` hold one unused element (TFLite has no
        empty constant tensors); `offsets` is all zeros.
    """
    dense = np.asarray(dense)
    if dense.ndim != 2:
        raise ValueError(f"pack_rows expects a 2-D matrix, got shape {dense.shape}.")
    if dense.shape[1] > 32768:
        raise ValueError(f"{dense.shape[1]} output columns do not fit int16 indices (max 32768).")
    stored = _plain_stored(dense, keep_zeros)
    if block is None or block:
        if dense.shape[1] % BLOCK:
            if block:
                raise ValueError(f"block-4 form needs a multiple of {BLOCK} columns, got "
                                 f"{dense.shape[1]}.")
        else:
            groups = stored.reshape(dense.shape[0], -1, BLOCK).any(axis=2)
            grouped = np.repeat(groups, BLOCK, axis=1)
            if block or grouped.sum() <= BLOCK_MAX_FILL * stored.sum():
                block, stored = True, grouped
    # row-major order: rows ascending, columns ascending within a row
    rows, cols = np.nonzero(stored)
    values = dense[rows, cols]
    index = cols.astype(np.int16)
    if block and values.size:
        index[cols % BLOCK != 0] = ~index[cols % BLOCK != 0]
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
    dense[row_of, columns(index, nnz)] = np.asarray(values)[:nnz]
    return dense


def columns(index, nnz):
    """Output column of each of the first `nnz` stored entries, in either form (block-4
    groups keep `~column` in their 2nd..4th index entries)."""
    index = np.asarray(index)[:nnz].astype(np.int32)
    return np.where(index >= 0, index, ~index)


def is_block4(index, nnz):
    """Whether a packed matrix with `nnz` stored entries is in block-4 form."""
    return nnz >= BLOCK and int(np.asarray(index)[1]) < 0


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

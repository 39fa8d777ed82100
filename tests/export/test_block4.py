"""Block-4 form of the packed matrices (custom_ops/README.md, "Compressed weight format"):
weights pruned in blocks of 1 x 4 output columns are stored as whole aligned groups of 4
(one index per group, `~column` in the other three entries). The C kernels run them bit for
bit like the independent NumPy model of the int8 arithmetic (tests/export/int8_model.py),
count the stored entries as MACs, and reject malformed groups."""
import numpy as np
import pytest
from int8_model import egru_int8

from keras_events.ops import egru, egru_native, packing
from keras_events.ops.egru import Y_SCALE, Y_ZERO_POINT

I, U, B, T = 8, 12, 3, 16  # 3U = 36 columns: 9 groups of 4


def _sigmoid(v):
    return 1.0 / (1.0 + np.exp(-v))


def _block_weights(seed, sparsity):
    """Random weights with whole groups of 4 adjacent columns pruned (no zero inside a
    kept group), one row of each matrix left full."""
    rng = np.random.default_rng(seed)

    def matrix(rows):
        w = rng.normal(0, 0.8, (rows, 3 * U))
        keep = np.repeat(rng.random((rows, 3 * U // 4)) >= sparsity, 4, axis=1)
        keep[0] = True
        return np.where(keep, np.where(w == 0, 0.1, w), 0.0)

    bias = rng.normal(0, 0.4, (2, 3 * U))
    threshold = _sigmoid(rng.normal(-1.0, 0.3, U))
    return [np.asarray(w, np.float32) for w in (matrix(I), matrix(U), bias, threshold)]


def test_pack_rows_block4_layout_and_roundtrip():
    dense = np.zeros((3, 8), np.float32)
    dense[0, 4:8] = [1, 2, 3, 4]
    dense[2, :] = np.arange(1, 9)
    values, index, offsets = packing.pack_rows(dense)
    assert packing.is_block4(index, offsets[-1])
    np.testing.assert_array_equal(offsets, [0, 4, 4, 12])
    np.testing.assert_array_equal(index[:4], [4, ~5, ~6, ~7])
    np.testing.assert_array_equal(packing.columns(index, 12), [4, 5, 6, 7, *range(8)])
    np.testing.assert_array_equal(packing.unpack_rows(values, index, offsets, 8), dense)
    # unstructured sparsity stays plain; block=True forces groups (zeros stored)
    sparse = np.zeros((2, 8), np.float32)
    sparse[0, 1] = sparse[1, 6] = 1.0
    v, i, o = packing.pack_rows(sparse)
    assert not packing.is_block4(i, o[-1]) and o[-1] == 2
    v, i, o = packing.pack_rows(sparse, block=True)
    assert packing.is_block4(i, o[-1]) and o[-1] == 8
    np.testing.assert_array_equal(packing.unpack_rows(v, i, o, 8), sparse)
    with pytest.raises(ValueError, match="multiple of 4"):
        packing.pack_rows(np.ones((2, 6), np.float32), block=True)


@pytest.mark.parametrize("x_zero_point", [0, -7])
@pytest.mark.parametrize("sparsity", [0.0, 0.6])
def test_int8_block4_bit_exact_with_numpy_model(x_zero_point, sparsity):
    kernel, recurrent, bias, threshold = _block_weights(seed=11, sparsity=sparsity)
    x_scale = 3.0 / 127
    x_q = np.random.default_rng(12).integers(-128, 128, (B, T, I)).astype(np.int8)
    packed = egru.pack_int8(kernel, recurrent, bias, threshold, x_scale, x_zero_point)
    for m in ("w", "v"):
        assert packing.is_block4(packed[f"{m}_index"], packed[f"{m}_offsets"][-1]), m
    rows_full = np.diff(packed["v_offsets"]) == 3 * U
    assert rows_full.any() and (sparsity == 0 or not rows_full.all())
    y_c, macs = egru_native.run_int8(x_q, packed, U, x_scale, x_zero_point, Y_SCALE, Y_ZERO_POINT)
    w = packing.unpack_rows(packed["w_values"], packed["w_index"], packed["w_offsets"], 3 * U)
    v = packing.unpack_rows(packed["v_values"], packed["v_index"], packed["v_offsets"], 3 * U)
    y_np = egru_int8(x_q, w, v, packed["bias"], packed["threshold"], packed["w_scale"],
                     packed["v_scale"], x_scale, x_zero_point, Y_SCALE, Y_ZERO_POINT)
    assert 0.05 < (y_c != Y_ZERO_POINT).mean() < 0.95
    np.testing.assert_array_equal(y_c, y_np)
    # MACs: the stored entries of non-zero inputs' rows and of the rows of units that fired
    w_nnz, v_nnz = np.diff(packed["w_offsets"]), np.diff(packed["v_offsets"])
    expected = sum(int(w_nnz[x_q[b, t] != x_zero_point].sum()) for b in range(B) for t in range(T))
    expected += sum(int(v_nnz[y_c[b, t] != Y_ZERO_POINT].sum()) for b in range(B) for t in range(T - 1))
    assert macs == expected


def test_float_block4_equals_plain_form():
    kernel, recurrent, bias, threshold = _block_weights(seed=13, sparsity=0.5)
    x = np.random.default_rng(14).normal(0, 1, (B, T, I)).astype(np.float32)
    block = egru.pack_float(kernel, recurrent, bias, threshold)
    assert packing.is_block4(block["v_index"], block["v_offsets"][-1])
    plain = dict(block)
    for m, dense in (("w", kernel), ("v", recurrent)):
        plain[f"{m}_values"], plain[f"{m}_index"], plain[f"{m}_offsets"] = \
            packing.pack_rows(dense, block=False)
    y_b, macs_b = egru_native.run_float(x, block, U)
    y_p, macs_p = egru_native.run_float(x, plain, U)
    np.testing.assert_array_equal(y_b, y_p)
    assert macs_b == macs_p


@pytest.mark.parametrize("corrupt", ["complement", "unaligned", "odd_offset"])
def test_malformed_block4_is_rejected(corrupt):
    kernel, recurrent, bias, threshold = _block_weights(seed=15, sparsity=0.5)
    packed = egru.pack_float(kernel, recurrent, bias, threshold)
    index, offsets = packed["v_index"].copy(), packed["v_offsets"].copy()
    if corrupt == "complement":
        index[2] = ~np.int16(9)
    elif corrupt == "unaligned":
        index[0] += 1
    else:
        offsets[1] -= 1
    with pytest.raises(Exception, match="index|offsets"):
        egru_native.run_float(np.zeros((1, 2, I), np.float32),
                              dict(packed, v_index=index, v_offsets=offsets), U)

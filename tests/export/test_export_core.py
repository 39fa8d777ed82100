"""The C core (through ctypes) against NumPy: packing, float equations, int8 bit-exactness, MACs."""

import numpy as np
import pytest
from int8_model import egru_int8

from keras_events.ops import egru, egru_native, packing
from keras_events.ops.egru import Y_SCALE, Y_ZERO_POINT

I, U, B, T = 6, 9, 3, 20


def _sigmoid(v):
    return 1.0 / (1.0 + np.exp(-v))


def _reference(x, kernel, recurrent_kernel, bias, threshold):
    """Float64 EGRU (ke_egru.h equations); returns y (B, T, U) and events."""
    y = np.zeros((x.shape[0], U))
    c_hat = np.zeros_like(y)
    ys = []
    for t in range(x.shape[1]):
        a = x[:, t] @ kernel + bias[0]
        g = y @ recurrent_kernel + bias[1]
        u = _sigmoid(a[:, :U] + g[:, :U])
        r = _sigmoid(a[:, U:2 * U] + g[:, U:2 * U])
        z = np.tanh(a[:, 2 * U:] + r * g[:, 2 * U:])
        c = u * z + (1 - u) * c_hat
        e = c > threshold
        y = np.where(e, c, 0.0)
        c_hat = np.where(e, c - threshold, c)
        ys.append(y)
    return np.stack(ys, 1)


def _weights(seed=0, sparsity=0.5):
    rng = np.random.default_rng(seed)
    kernel = rng.normal(0, 0.8, (I, 3 * U)) * (rng.random((I, 3 * U)) >= sparsity)
    recurrent = rng.normal(0, 0.8, (U, 3 * U)) * (rng.random((U, 3 * U)) >= sparsity)
    bias = rng.normal(0, 0.4, (2, 3 * U))
    threshold = _sigmoid(rng.normal(-1.0, 0.3, U))
    return [np.asarray(w, np.float32) for w in (kernel, recurrent, bias, threshold)]


def test_pack_rows_roundtrip_and_layout():
    dense = np.array([[0, 2, 0], [0, 0, 0], [5, 0, 7]], np.float32)
    values, index, offsets = packing.pack_rows(dense)
    np.testing.assert_array_equal(values, [2, 5, 7])
    np.testing.assert_array_equal(index, [1, 0, 2])
    np.testing.assert_array_equal(offsets, [0, 1, 1, 3])
    assert index.dtype == np.int16 and offsets.dtype == np.int32
    np.testing.assert_array_equal(packing.unpack_rows(values, index, offsets, 3), dense)
    values, index, offsets = packing.pack_rows(np.zeros((2, 3), np.float32))
    assert values.shape == (1,) and list(offsets) == [0, 0, 0]


def test_pack_rejects_bad_shapes():
    kernel, recurrent, bias, threshold = _weights()
    with pytest.raises(ValueError, match="bias"):
        egru.pack_float(kernel, recurrent, bias[0], threshold)
    with pytest.raises(ValueError, match="threshold"):
        egru.pack_float(kernel, recurrent, bias, threshold + 1)


@pytest.mark.parametrize("return_sequences", [True, False])
def test_float_kernel_matches_equations(return_sequences):
    kernel, recurrent, bias, threshold = _weights()
    x = np.random.default_rng(1).normal(0, 1, (B, T, I)).astype(np.float32)
    y, _ = egru_native.run_float(x, egru.pack_float(kernel, recurrent, bias, threshold), U,
                          return_sequences=return_sequences)
    ref = _reference(x.astype(np.float64), kernel, recurrent, bias, threshold)
    events = (ref != 0).mean()
    assert 0.05 < events < 0.9, f"constructed case should be partly active, got {events}"
    np.testing.assert_allclose(y, ref if return_sequences else ref[:, -1], atol=1e-5)


def test_mac_count_is_events_times_row_nnz_plus_inputs():
    kernel, recurrent, bias, threshold = _weights(sparsity=0.6)
    x = np.random.default_rng(2).normal(0, 1, (1, T, I)).astype(np.float32)
    x[np.random.default_rng(3).random(x.shape) < 0.3] = 0.0  # zero inputs are skipped too
    y, macs = egru_native.run_float(x, egru.pack_float(kernel, recurrent, bias, threshold), U)
    w_nnz, v_nnz = (kernel != 0).sum(1), (recurrent != 0).sum(1)
    input_macs = sum(w_nnz[x[0, t] != 0].sum() for t in range(T))
    event_macs = sum(v_nnz[y[0, t] != 0].sum() for t in range(T - 1))  # y_t drives step t+1
    assert macs == input_macs + event_macs


def test_macs_fall_with_activity_and_weight_sparsity():
    x = np.random.default_rng(4).normal(0, 1, (2, T, I)).astype(np.float32)
    macs = {}
    for sparsity in (0.0, 0.8):
        kernel, recurrent, bias, threshold = _weights(seed=5, sparsity=sparsity)
        for theta in (0.05, 0.5, 0.95):  # higher threshold -> fewer events
            packed = egru.pack_float(kernel, recurrent, bias, np.full(U, theta, np.float32))
            y, macs[sparsity, theta] = egru_native.run_float(x, packed, U)
    for sparsity in (0.0, 0.8):
        assert macs[sparsity, 0.05] > macs[sparsity, 0.5] > macs[sparsity, 0.95]
    for theta in (0.05, 0.5, 0.95):
        assert macs[0.8, theta] < macs[0.0, theta]


@pytest.mark.parametrize("x_zero_point", [0, -7])
@pytest.mark.parametrize("sparsity", [0.0, 0.7])
def test_int8_kernel_bit_exact_with_numpy_model(x_zero_point, sparsity):
    kernel, recurrent, bias, threshold = _weights(seed=6, sparsity=sparsity)
    x_scale = 3.0 / 127
    x_q = np.random.default_rng(7).integers(-128, 128, (B, T, I)).astype(np.int8)
    packed = egru.pack_int8(kernel, recurrent, bias, threshold, x_scale, x_zero_point)
    y_c, _ = egru_native.run_int8(x_q, packed, U, x_scale, x_zero_point, Y_SCALE, Y_ZERO_POINT)
    y_np = egru_int8(x_q, packing.unpack_rows(packed["w_values"], packed["w_index"], packed["w_offsets"], 3 * U),
                     packing.unpack_rows(packed["v_values"], packed["v_index"], packed["v_offsets"], 3 * U),
                     packed["bias"], packed["threshold"], packed["w_scale"], packed["v_scale"],
                     x_scale, x_zero_point, Y_SCALE, Y_ZERO_POINT)
    assert (y_c != Y_ZERO_POINT).mean() > 0.05
    np.testing.assert_array_equal(y_c, y_np)
    # and close to the float kernel on the dequantized input
    x = (x_q.astype(np.float32) - x_zero_point) * x_scale
    y_f, _ = egru_native.run_float(x, egru.pack_float(kernel, recurrent, bias, threshold), U)
    y_deq = (y_c.astype(np.float32) - Y_ZERO_POINT) * Y_SCALE
    same_events = (y_f != 0) == (y_c != Y_ZERO_POINT)
    assert same_events.mean() > 0.9
    assert np.abs(y_deq - y_f)[same_events].max() < 0.05


def test_int8_rejects_bad_scale():
    kernel, recurrent, bias, threshold = _weights()
    packed = egru.pack_int8(kernel, recurrent, bias, threshold, 0.1, 0)
    packed["w_scale"] = -packed["w_scale"]
    with pytest.raises(ValueError, match="scale"):
        egru_native.run_int8(np.zeros((1, 2, I), np.int8), packed, U, 0.1, 0, Y_SCALE, Y_ZERO_POINT)

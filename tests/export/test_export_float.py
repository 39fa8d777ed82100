"""Float `.tflite` with KE_EGRU ops == the Keras model; MAC counts; size; unsupported layers."""

import keras
import numpy as np
import pytest
from export_helpers import egru_model, randomize_egru, run_tflite

from keras_events import EGRU, EGRUCell
from keras_events.export import runtime, summary, to_tflite

pytestmark = pytest.mark.tensorflow_only


def _op_names(tflite_bytes):
    return [op["name"] for op in summary(tflite_bytes)["ops"]]


@pytest.mark.parametrize("return_sequences", [True, False])
def test_float_tflite_equals_keras(return_sequences):
    model = egru_model(9, 5, 12, return_sequences=return_sequences)
    x = np.random.default_rng(1).normal(0, 1, (4, 9, 5)).astype(np.float32)
    tflite_bytes = to_tflite(model)
    assert _op_names(tflite_bytes) == ["KE_EGRU"]
    y, _ = run_tflite(tflite_bytes, x)
    ref = model(x).numpy()
    assert 0.05 < (ref != 0).mean() < 0.95, "weights should give partial activity"
    np.testing.assert_allclose(y, ref, atol=1e-5, rtol=0)


def test_stacked_layers_with_dense_head_real_shape():
    """Keyword-spotting shape: 49 frames x 40 features, two stacked layers, Dense head."""
    model = egru_model(49, 40, 32, head=12, stacked=True, seed=3)
    x = np.random.default_rng(2).normal(0, 1, (3, 49, 40)).astype(np.float32)
    tflite_bytes = to_tflite(model)
    names = _op_names(tflite_bytes)
    assert names.count("KE_EGRU") == 2 and "FULLY_CONNECTED" in names
    y, _ = run_tflite(tflite_bytes, x)
    np.testing.assert_allclose(y, model(x).numpy(), atol=1e-5, rtol=0)


def test_interpreter_mac_count_is_events_times_row_nnz_plus_inputs():
    model = egru_model(12, 6, 10, return_sequences=True, sparsity=0.5, seed=4)
    x = np.random.default_rng(3).normal(0, 1, (1, 12, 6)).astype(np.float32)
    x[0, :, 2] = 0.0  # a silent input feature is skipped too
    tflite_bytes = to_tflite(model)
    runtime.reset_mac_count()
    y, _ = run_tflite(tflite_bytes, x)
    cell = model.layers[0].cell
    w_nnz = (cell.kernel.numpy() != 0).sum(1)
    v_nnz = (cell.recurrent_kernel.numpy() != 0).sum(1)
    expected = sum(w_nnz[x[0, t] != 0].sum() for t in range(12))
    expected += sum(v_nnz[y[0, t] != 0].sum() for t in range(11))
    assert runtime.mac_count() == expected


def test_tflite_shrinks_with_weight_sparsity_and_sparse_weights_false_keeps_all():
    sizes = {}
    for sparsity in (0.0, 0.8):
        model = egru_model(5, 40, 64, sparsity=sparsity)
        sizes[sparsity] = len(to_tflite(model))
    dense_format = len(to_tflite(model, sparse_weights=False))
    assert sizes[0.8] < 0.45 * sizes[0.0]
    assert dense_format >= sizes[0.0] * 0.95


def test_summary_reports_ops_and_sizes():
    from keras_events.ops import egru

    model = egru_model(7, 4, 8, head=3)
    head = model.layers[1]
    head.bias.assign(np.full(3, 0.5, np.float32))  # a zero bias would be dropped by the converter
    info = summary(to_tflite(model))
    assert info["op_counts"]["KE_EGRU"] == 1
    packed = egru.EGRU.pack_float(egru.EGRU.layer_weights(model.layers[0]))
    # constant tensors: the packed event layer (values, indices, offsets, bias, thresholds) + Dense
    expected = sum(a.nbytes for a in packed.values()) + head.kernel.numpy().nbytes + head.bias.numpy().nbytes
    assert info["weight_bytes"] == expected
    assert info["arena_bytes_estimate"] > 0
    assert "KE_EGRU" in str(info)


@pytest.mark.parametrize("make_layer, message", [
    (lambda: EGRU(4, go_backwards=True), "go_backwards"),
    (lambda: EGRU(4, stateful=True), "stateful"),
    (lambda: keras.layers.GRU(4), "GRUCell"),
    (lambda: keras.layers.RNN(EGRUCell(4, activation="relu")), "activation"),
])
def test_unsupported_layers_raise_naming_the_layer(make_layer, message):
    layer = make_layer()
    batch = 2 if getattr(layer, "stateful", False) else None
    model = keras.Sequential([keras.Input((6, 3), batch_size=batch), layer])
    with pytest.raises(ValueError, match=message) as info:
        to_tflite(model)
    assert layer.name in str(info.value)


def test_masking_is_rejected():
    model = keras.Sequential([keras.Input((6, 3)), keras.layers.Masking(), EGRU(4)])
    with pytest.raises(ValueError, match="mask"):
        to_tflite(model)


def test_bad_arguments():
    model = egru_model(4, 3, 4)
    with pytest.raises(ValueError, match="quantize"):
        to_tflite(model, quantize="int4")
    with pytest.raises(ValueError, match="representative_data"):
        to_tflite(model, quantize="int8")

"""int8 `.tflite`: agrees with the float model, KE_EGRU output == the NumPy integer model bit for bit."""

import keras
import numpy as np
import pytest
from export_helpers import egru_model, run_tflite
from int8_model import egru_int8

from keras_events import EGRU
from keras_events.export import summary, to_tflite
from keras_events.ops import packing

pytestmark = pytest.mark.tensorflow_only

T, I, CLASSES = 20, 8, 3


def _task(n, seed):
    """Three classes of noisy sequences: a sinusoid whose frequency names the class."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, CLASSES, n)
    t = np.arange(T)[None, :, None]
    freq = (1 + labels)[:, None, None] * 0.25
    phase = rng.uniform(0, 2 * np.pi, (n, 1, 1))
    x = np.sin(freq * t + phase) * rng.uniform(0.5, 1.5, (n, 1, I))
    x = x + rng.normal(0, 0.3, (n, T, I))
    return x.astype(np.float32), labels


@pytest.fixture(scope="module")
def trained():
    keras.utils.set_random_seed(0)
    x, y = _task(600, 0)
    model = keras.Sequential([keras.Input((T, I)), EGRU(24, return_sequences=True),
                              keras.layers.GlobalAveragePooling1D(), keras.layers.Dense(CLASSES)])
    model.compile(keras.optimizers.Adam(3e-3, clipnorm=1.0),
                  keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(x, y, epochs=12, batch_size=32, verbose=0)
    return model


def test_int8_classifier_agrees_with_float(trained):
    x_val, y_val = _task(400, 1)
    float_logits = trained.predict(x_val, verbose=0)
    assert (float_logits.argmax(1) == y_val).mean() > 0.8, "the classifier should have learned"
    x_cal, _ = _task(200, 2)
    tflite_bytes = to_tflite(trained, quantize="int8", representative_data=x_cal)
    info = summary(tflite_bytes)
    egru_in = [op for op in info["ops"] if op["name"] == "KE_EGRU"][0]["inputs"][0]
    assert info["tensors"][egru_in]["dtype"] == "int8"
    int8_logits, _ = run_tflite(tflite_bytes, x_val)
    agreement = (int8_logits.argmax(1) == float_logits.argmax(1)).mean()
    assert agreement >= 0.99, f"argmax agreement {agreement:.3f}"


@pytest.mark.parametrize("sparsity", [0.0, 0.7])
def test_int8_op_output_is_bit_exact_with_numpy_model(sparsity):
    model = egru_model(T, I, 16, return_sequences=True, head=4, sparsity=sparsity, seed=5)
    x = np.random.default_rng(6).normal(0, 1, (8, T, I)).astype(np.float32)
    tflite_bytes = to_tflite(model, quantize="int8", representative_data=x)
    _, interpreter = run_tflite(tflite_bytes, x, experimental_preserve_all_tensors=True)
    op = [o for o in interpreter._get_ops_details() if o["op_name"] == "KE_EGRU"][0]
    get = lambda i: interpreter.get_tensor(int(op["inputs"][i]))
    x_q = get(0)
    units = 16
    w = packing.unpack_rows(get(1), get(2), get(3), 3 * units)
    v = packing.unpack_rows(get(4), get(5), get(6), 3 * units)
    details = {d["index"]: d for d in interpreter.get_tensor_details()}
    x_scale, x_zp = details[int(op["inputs"][0])]["quantization"]
    y_scale, y_zp = details[int(op["outputs"][0])]["quantization"]
    expected = egru_int8(x_q, w, v, get(7), get(8), get(9), get(10), x_scale, x_zp, y_scale, y_zp)
    y_q = interpreter.get_tensor(int(op["outputs"][0]))
    assert (y_q != y_zp).mean() > 0.05, "partial activity expected"
    np.testing.assert_array_equal(y_q, expected)


def test_int8_tflite_is_smaller_than_float():
    model = egru_model(10, 40, 64, sparsity=0.8)
    x = np.random.default_rng(7).normal(0, 1, (16, 10, 40)).astype(np.float32)
    float_size = len(to_tflite(model))
    int8_size = len(to_tflite(model, quantize="int8", representative_data=x))
    assert int8_size < 0.7 * float_size  # values 4 -> 1 byte; int16 indices stay

"""A Functional model with builtin ops before and after the event layer, float and int8."""

import keras
import numpy as np
import pytest
from export_helpers import randomize_egru, run_tflite

from keras_events import EGRU
from keras_events.export import summary, to_tflite

pytestmark = pytest.mark.tensorflow_only


def test_functional_model_with_dense_before_and_pooling_after():
    inputs = keras.Input((12, 6))
    h = keras.layers.Dense(10, activation="relu")(inputs)
    events = EGRU(16, return_sequences=True)(h)
    outputs = keras.layers.Dense(4)(keras.layers.GlobalAveragePooling1D()(events))
    model = keras.Model(inputs, outputs)
    randomize_egru(model.layers[2])
    x = np.random.default_rng(0).normal(0, 1, (64, 12, 6)).astype(np.float32)
    ref = model(x).numpy()

    y, _ = run_tflite(to_tflite(model), x)
    np.testing.assert_allclose(y, ref, atol=1e-5, rtol=0)

    int8_bytes = to_tflite(model, quantize="int8", representative_data=x)
    ops = [op["name"] for op in summary(int8_bytes)["ops"]]
    # only the model's float interface converts; the event layer sits between int8 ops
    assert ops.count("QUANTIZE") == 1 and ops.count("DEQUANTIZE") == 1
    y8, _ = run_tflite(int8_bytes, x)
    assert (y8.argmax(1) == ref.argmax(1)).mean() >= 0.95
    assert np.abs(y8 - ref).max() < 0.1 * np.abs(ref).max() + 0.02

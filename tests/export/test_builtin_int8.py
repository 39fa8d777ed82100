"""builtin_int8_tflite: the converter's full-integer baseline used by benchmarks and recipes."""

import numpy as np
import pytest

from keras_events.export import builtin_int8_tflite

pytestmark = pytest.mark.tensorflow_only


def test_gru_baseline_is_int8_in_and_out_and_follows_the_float_model():
    import keras
    import tensorflow as tf

    model = keras.Sequential([keras.Input((6, 5), batch_size=1),
                              keras.layers.GRU(8, unroll=True), keras.layers.Dense(3)])
    x = np.random.default_rng(0).uniform(-1, 1, (32, 6, 5)).astype(np.float32)
    interpreter = tf.lite.Interpreter(model_content=builtin_int8_tflite(model, x))
    interpreter.allocate_tensors()
    inp, out = interpreter.get_input_details()[0], interpreter.get_output_details()[0]
    assert inp["dtype"] == np.int8 and out["dtype"] == np.int8
    (s_in, z_in), (s_out, z_out) = inp["quantization"], out["quantization"]
    interpreter.set_tensor(inp["index"], np.round(x[:1] / s_in + z_in).astype(np.int8))
    interpreter.invoke()
    y = (interpreter.get_tensor(out["index"]).astype(np.float32) - z_out) * s_out
    np.testing.assert_allclose(y, model(x[:1]).numpy(), atol=0.1)


def test_bad_representative_data():
    import keras

    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
    with pytest.raises(ValueError, match="representative_data"):
        builtin_int8_tflite(model, np.zeros((0, 4)))

"""to_tflite(streaming=True): one frame per invoke on the host TFLite, state kept between
invokes (KE_EGRU option `streaming`), calibration over whole sequences."""
import keras
import numpy as np
import pytest

from keras_events import EGRUCell, tflite_file
from keras_events.export import Interpreter, reset_states, to_tflite

pytestmark = pytest.mark.tensorflow_only

T, F, U = 12, 5, 8


def _ke_egru_options(model_bytes):
    model = tflite_file.load(model_bytes)
    codes = model.operatorCodes
    return [tflite_file.custom_options(op) for op in model.subgraphs[0].operators
            if tflite_file.op_name(codes[op.opcodeIndex]) == "KE_EGRU"]


def _models(seed=0):
    rng = np.random.default_rng(seed)
    cell = EGRUCell(U)
    whole = keras.Sequential([keras.Input((T, F)),
                              keras.layers.RNN(cell, return_sequences=True, name="egru"),
                              keras.layers.Dense(3, name="head")])
    whole.get_layer("egru").set_weights(
        [rng.normal(0, 0.8, w.shape).astype(np.float32) for w in whole.get_layer("egru").get_weights()])
    stream = keras.Sequential([keras.Input(batch_shape=(1, 1, F)),
                               keras.layers.RNN(EGRUCell.from_config(cell.get_config()), name="egru"),
                               keras.layers.Dense(3, name="head")])
    stream.get_layer("egru").set_weights(whole.get_layer("egru").get_weights())
    stream.get_layer("head").set_weights(whole.get_layer("head").get_weights())
    return whole, stream


def _stream(model_bytes, x):
    interp = Interpreter(model_content=model_bytes)
    interp.allocate_tensors()
    inp, out = interp.get_input_details()[0], interp.get_output_details()[0]
    ys = []
    for seq in x:
        reset_states()
        for frame in seq:
            value = frame[None, None]
            if inp["dtype"] == np.int8:
                scale, zp = inp["quantization"]
                value = np.clip(np.round(value / scale) + zp, -128, 127).astype(np.int8)
            interp.set_tensor(inp["index"], value)
            interp.invoke()
            y = interp.get_tensor(out["index"])[0]
            if out["dtype"] == np.int8:
                scale, zp = out["quantization"]
                y = (y.astype(np.float32) - zp) * scale
            ys.append(y)
    return np.asarray(ys).reshape(len(x), T, -1)


def test_float_streaming_equals_whole_sequence():
    whole, stream = _models()
    x = np.random.default_rng(1).normal(0, 1, (3, T, F)).astype(np.float32)
    model_bytes = to_tflite(stream, streaming=True)
    assert [bool(o["streaming"]) for o in _ke_egru_options(model_bytes)] == [True]  # b: true -> -1
    np.testing.assert_allclose(_stream(model_bytes, x), whole.predict(x, verbose=0), atol=1e-5)


def test_int8_streaming_calibrates_on_whole_sequences():
    whole, stream = _models()
    rng = np.random.default_rng(2)
    x = rng.normal(0, 1, (3, T, F)).astype(np.float32)
    model_bytes = to_tflite(stream, quantize="int8", representative_data=rng.normal(
        0, 1, (40, T, F)).astype(np.float32), streaming=True)
    expected = whole.predict(x, verbose=0)
    got = _stream(model_bytes, x)
    # the output range covers the per-frame outputs of later frames, not only first frames
    assert np.abs(got - expected).max() < 0.05 * np.ptp(expected) + 0.05


def test_streaming_needs_a_one_frame_model():
    whole, _ = _models()
    with pytest.raises(ValueError, match="one frame per invoke"):
        to_tflite(whole, streaming=True)

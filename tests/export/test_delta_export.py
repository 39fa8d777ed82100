"""KE_DELTA_GRU / KE_DELTA_LSTM export: float .tflite vs Keras, int8 .tflite vs the independent
integer model (delta_int8_model.py, bit for bit), streaming, unsupported layers, malformed
models rejected in Prepare."""
import keras
import numpy as np
import pytest
from delta_int8_model import delta_int8
from export_helpers import run_tflite

from keras_events import DeltaGRUCell, DeltaLSTMCell, ops, tflite_file
from keras_events.export import Interpreter, reset_states, summary, to_tflite
from keras_events.ops import packing

pytestmark = pytest.mark.tensorflow_only

T, I, U = 10, 6, 12
CELLS = {"gru": DeltaGRUCell, "lstm": DeltaLSTMCell}


def delta_model(kind, time=T, thresholds=(0.1, 0.05), return_sequences=True, sparsity=0.5,
                seed=0, batch_size=None):
    cell = CELLS[kind](U, input_threshold=thresholds[0], hidden_threshold=thresholds[1])
    layer = keras.layers.RNN(cell, return_sequences=return_sequences)
    model = keras.Sequential([keras.Input((time, I), batch_size=batch_size), layer])
    rng = np.random.default_rng(seed)
    pruned = lambda shape: rng.normal(0, 0.5, shape) * (rng.random(shape) >= sparsity)
    cell.kernel.assign(pruned(cell.kernel.shape))
    cell.recurrent_kernel.assign(pruned(cell.recurrent_kernel.shape))
    cell.bias.assign(rng.normal(0, 0.3, cell.bias.shape))
    return model


def inputs(n=4, time=T, seed=1):
    """Slowly varying inputs (a random walk): deltas below and above the threshold."""
    rng = np.random.default_rng(seed)
    return np.cumsum(rng.normal(0, 0.15, (n, time, I)), axis=1).astype(np.float32)


@pytest.mark.parametrize("kind", sorted(CELLS))
@pytest.mark.parametrize("return_sequences", [True, False])
def test_float_matches_keras(kind, return_sequences):
    model = delta_model(kind, return_sequences=return_sequences)
    x = inputs()
    tflite = to_tflite(model)
    assert ops.get(f"KE_DELTA_{kind.upper()}").name.encode() in tflite
    y, _ = run_tflite(tflite, x)
    np.testing.assert_allclose(y, model.predict(x, verbose=0), atol=1e-4, rtol=0)
    info = summary(tflite)  # the summary finds the op through the registry
    assert info["op_counts"][f"KE_DELTA_{kind.upper()}"] == 1


def _int8_run(tflite, x):
    """Raw int8 output and the input/output quantization of an int8-in/out model."""
    interp = Interpreter(model_content=tflite)
    d_in = interp.get_input_details()[0]
    interp.resize_tensor_input(d_in["index"], list(x.shape))
    interp.allocate_tensors()
    (xs, xz), (ys, yz) = d_in["quantization"], interp.get_output_details()[0]["quantization"]
    xq = np.clip(np.round(x / xs) + xz, -128, 127).astype(np.int8)
    interp.set_tensor(d_in["index"], xq)
    interp.invoke()
    return xq, interp.get_tensor(interp.get_output_details()[0]["index"]), (xs, xz, ys, yz)


@pytest.mark.parametrize("kind", sorted(CELLS))
@pytest.mark.parametrize("thresholds", [(0.0, 0.0), (0.1, 0.05)])
def test_int8_bit_exact_with_integer_model(kind, thresholds):
    import tensorflow as tf

    model = delta_model(kind, thresholds=thresholds)
    x = inputs()
    tflite = to_tflite(model, quantize="int8", representative_data=inputs(16, seed=2),
                       inference_input_type=tf.int8, inference_output_type=tf.int8)
    xq, y, (xs, xz, ys, yz) = _int8_run(tflite, x)
    op = ops.get(f"KE_DELTA_{kind.upper()}")
    p = op.pack_int8(op.layer_weights(model.layers[-1]), xs, xz, ys, yz)
    dense = lambda m: packing.unpack_rows(p[f"{m}_values"], p[f"{m}_index"], p[f"{m}_offsets"],
                                          op.gates * U)
    ref, rates = delta_int8(kind, xq, dense("w"), dense("v"), p["bias"], p["threshold"],
                            p["w_scale"], p["v_scale"], xs, xz, ys, yz)
    np.testing.assert_array_equal(y, ref)
    if thresholds[0] > 0:  # the thresholds skip work: some, not all, components are sent
        assert 0.05 < rates[0] < 0.95 and 0.05 < rates[1] < 0.95, rates
    # and the int8 model stays near the float one
    np.testing.assert_allclose((y.astype(np.float32) - yz) * ys, model.predict(x, verbose=0),
                               atol=0.08)


@pytest.mark.parametrize("kind", sorted(CELLS))
def test_streaming_equals_whole_sequence(kind):
    model = delta_model(kind)
    x = inputs(1)
    whole, _ = run_tflite(to_tflite(model), x)
    stream_model = delta_model(kind, time=1, batch_size=1)
    stream_model.set_weights(model.get_weights())
    interp = Interpreter(model_content=to_tflite(stream_model, streaming=True,
                                                 representative_data=x))
    interp.allocate_tensors()
    frames = []
    for _ in range(2):  # the second pass, after a reset, repeats the first
        reset_states()
        for t in range(T):
            interp.set_tensor(interp.get_input_details()[0]["index"], x[:, t:t + 1])
            interp.invoke()
            frames.append(interp.get_tensor(interp.get_output_details()[0]["index"]).reshape(-1))
    frames = np.array(frames)
    np.testing.assert_allclose(frames[:T], whole[0], atol=1e-5)
    np.testing.assert_array_equal(frames[T:], frames[:T])


def test_unsupported_activation_is_a_value_error():
    cell = DeltaGRUCell(4, activation="relu")
    model = keras.Sequential([keras.Input((3, 2)), keras.layers.RNN(cell)])
    with pytest.raises(ValueError, match="activation"):
        to_tflite(model)


# ---- malformed models: Prepare rejects them with a message ----

@pytest.fixture(scope="module")
def models():
    model = delta_model("gru", time=4)
    x = inputs(8, time=4)
    return {"float": to_tflite(model), "int8": to_tflite(model, quantize="int8",
                                                        representative_data=x)}


def _mutate(tflite_bytes, change):
    model = tflite_file.load(tflite_bytes)
    g = model.subgraphs[0]
    op = [o for o in g.operators
          if model.operatorCodes[o.opcodeIndex].customCode == b"KE_DELTA_GRU"][0]
    change(model, g, op)
    return tflite_file.dump(model)


def _edit_input(i, dtype, edit):
    from test_export_malformed import _data, _set_data

    def change(model, g, op):
        _set_data(model, g.tensors[op.inputs[i]], edit(_data(model, g, op, i, dtype)))
    return change


def _drop_last_input(model, g, op):
    op.inputs = op.inputs[:-1]


def _tiny_output_scale(model, g, op):
    g.tensors[op.outputs[0]].quantization.scale = np.asarray([1e-12], np.float32)


CASES = {
    "negative threshold": ("float", _edit_input(8, np.float32, lambda a: -a - 1), "threshold"),
    "nan threshold": ("float", _edit_input(8, np.float32, lambda a: a * np.nan), "threshold"),
    "one threshold": ("float", _edit_input(8, np.float32, lambda a: a[:1]), "threshold"),
    "bias rank 1": ("float", _edit_input(7, np.float32, lambda a: a[: 3 * U]), "bias"),
    "index out of range": ("float", _edit_input(2, np.int16, lambda a: np.full_like(a, 3 * U)), "index"),
    "offsets too short": ("float", _edit_input(3, np.int32, lambda a: a[:-1]), "w_offsets"),
    "input count": ("float", _drop_last_input, "inputs"),
    "int8 threshold above 255": ("int8", _edit_input(8, np.int32, lambda a: a + 256), "threshold"),
    "int8 threshold float": ("int8", _edit_input(8, np.int32, lambda a: a.astype(np.float32)), "threshold"),
    "int8 bias too large": ("int8", _edit_input(7, np.int32, lambda a: np.full_like(a, 2**31 - 1)), "bias"),
    "int8 negative scale": ("int8", _edit_input(9, np.float32, lambda a: -a), "scale"),
    "int8 missing scale input": ("int8", _drop_last_input, "inputs"),
    "int8 tiny output scale": ("int8", _tiny_output_scale, "scale"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_malformed_model_raises(models, case):
    kind, change, message = CASES[case]
    with pytest.raises(ValueError, match=message):
        Interpreter(model_content=_mutate(models[kind], change)).allocate_tensors()

"""KE_EGRU_EMB: the Q15 C core vs its NumPy statement (bit for bit) and vs the float
model (stated tolerance); float and int8 `.tflite` exports vs Keras and vs an independent
NumPy integer model; export errors."""

import keras
import numpy as np
import pytest
from export_helpers import run_tflite
from int8_model import mbm, quantize_multiplier

from keras_events import EmbeddedGRUCell
from keras_events.export import summary, to_tflite
from keras_events.ops import egru_emb, egru_emb_native

T, I, U = 12, 6, 8

#: Q15 kernel vs the float model with the same power-of-two weights: largest |Δh| over a
#: 100-step sequence of a contracting cell (weights N(0, 0.2), I = 40, U = 64, measured
#: 4.6e-4, mean 7e-5). The floor of each shift costs <= 1 LSB per weight and step; cells
#: with large recurrent gains amplify it (N(0, 0.5): 1.6e-2).
Q15_TOLERANCE = 2e-3


def _weights(features, units, scale, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.normal(0, scale, (features, 2 * units)).astype("float32"),
            rng.normal(0, scale, (units, 2 * units)).astype("float32"),
            rng.normal(0, 0.3, 2 * units).astype("float32"))


def _q15(x):
    return np.clip(np.round(np.asarray(x) * 32768), -32767, 32767).astype(np.int16)


@pytest.mark.parametrize("features, units", [(7, 5), (40, 64), (1, 1)])
def test_c_core_equals_numpy_q15_statement_bit_for_bit(features, units):
    kernel, recurrent, bias = _weights(features, units, 0.4)
    x = _q15(np.random.default_rng(1).uniform(-1.2, 1.2, (30, features)))
    c = egru_emb_native.run_q15(x, kernel, recurrent, bias)
    w_codes, u_codes, b_q = egru_emb.codes(kernel), egru_emb.codes(recurrent), egru_emb.bias_q15(bias)
    h = np.zeros((1, units), np.int16)
    for t in range(len(x)):
        h = egru_emb.reference_q15_step(w_codes, u_codes, b_q, x[t:t + 1], h)
        np.testing.assert_array_equal(c[t], h[0], err_msg=f"step {t}")


def test_integer_softsign_is_floor_of_the_exact_quotient():
    a = np.concatenate([np.arange(-70000, 70000, 997), [0, 1, -1, 2**24, -2**24, 2**31 - 1,
                                                       -2**31 + 1, 32768, -32768]])
    got = egru_emb_native.softsign_q15(a)
    m = np.minimum(np.abs(a.astype(np.int64)), 2**24)
    np.testing.assert_array_equal(got, np.sign(a) * np.floor(32768 * m / (32768 + m)))
    assert np.abs(got).max() < 32768


def test_q15_kernel_follows_the_float_model_within_the_stated_tolerance():
    kernel, recurrent, bias = _weights(40, 64, 0.2)
    x = _q15(np.random.default_rng(2).uniform(-1, 1, (100, 40)))
    c = egru_emb_native.run_q15(x, kernel, recurrent, bias) / 32768.0
    h = np.zeros((1, 64))
    kq, rq = egru_emb.power_of_two(kernel), egru_emb.power_of_two(recurrent)
    err = []
    for t in range(len(x)):
        h = egru_emb.reference_step(kq, rq, bias, x[t:t + 1] / 32768.0, h)
        err.append(np.abs(h[0] - c[t]).max())
    assert np.mean(np.abs(h)) > 0.1, "the test cell should not sit at zero"
    assert max(err) < Q15_TOLERANCE


def _model(quantize=True, return_sequences=True, seed=0, **rnn_kwargs):
    rnn = keras.layers.RNN(EmbeddedGRUCell(U, quantize=quantize),
                           return_sequences=return_sequences, **rnn_kwargs)
    model = keras.Sequential([keras.Input((T, I)), rnn])
    kernel, recurrent, bias = _weights(I, U, 0.5, seed)
    rnn.cell.kernel.assign(kernel)
    rnn.cell.recurrent_kernel.assign(recurrent)
    rnn.cell.bias.assign(bias)
    return model


def _x(n=4, seed=3):
    return np.random.default_rng(seed).uniform(-1, 1, (n, T, I)).astype("float32")


pytestmark = pytest.mark.tensorflow_only


@pytest.mark.parametrize("quantize, return_sequences", [(True, True), (False, False)])
def test_float_tflite_equals_keras(quantize, return_sequences):
    model = _model(quantize, return_sequences)
    y, _ = run_tflite(to_tflite(model), _x())
    np.testing.assert_allclose(y, keras.ops.convert_to_numpy(model(_x())), atol=1e-5)


def _int8_reference(model, x_q, x_quant, y_quant):
    """Independent NumPy model of the int8 op: int8 -> Q15 (TFLite multiplier), the Q15
    step of `egru_emb.reference_q15_step`, Q15 -> int8."""
    weights = egru_emb.layer_weights(model.layers[0])
    w_codes, u_codes = egru_emb.codes(weights["kernel"]), egru_emb.codes(weights["recurrent_kernel"])
    b_q = egru_emb.bias_q15(weights["bias"])
    xm, xs = quantize_multiplier(x_quant[0] * 32768)
    ym, ys = quantize_multiplier(1 / (32768 * y_quant[0]))
    h = np.zeros((x_q.shape[0], U), np.int16)
    out = []
    for t in range(x_q.shape[1]):
        xt = np.clip(mbm(x_q[:, t].astype(np.int64) - x_quant[1], xm, xs), -32767, 32767)
        h = egru_emb.reference_q15_step(w_codes, u_codes, b_q, xt, h)
        out.append(np.clip(y_quant[1] + mbm(h, ym, ys), -128, 127))
    return np.stack(out, 1).astype(np.int8)


def test_int8_tflite_equals_numpy_integer_model_and_follows_keras():
    import tensorflow as tf

    from keras_events.export import Interpreter

    model = _model()
    rep = _x(64, seed=5)
    tflite = to_tflite(model, quantize="int8", representative_data=rep,
                       inference_input_type=tf.int8, inference_output_type=tf.int8)
    assert summary(tflite)["op_counts"] == {"KE_EGRU_EMB": 1}
    interpreter = Interpreter(model_content=tflite)
    inp, out = interpreter.get_input_details()[0], interpreter.get_output_details()[0]
    x = _x()
    x_q = np.clip(np.round(x / inp["quantization"][0]) + inp["quantization"][1], -128, 127)
    interpreter.resize_tensor_input(inp["index"], list(x.shape))
    interpreter.allocate_tensors()
    interpreter.set_tensor(inp["index"], x_q.astype(np.int8))
    interpreter.invoke()
    y_q = interpreter.get_tensor(out["index"])
    np.testing.assert_array_equal(
        y_q, _int8_reference(model, x_q, inp["quantization"], out["quantization"]))
    scale, zero_point = out["quantization"]
    y = (y_q.astype(np.float32) - zero_point) * scale
    # input rounding (1/2 LSB of x) and Q15 floors, then 1/2 LSB of the int8 output
    assert np.abs(y - keras.ops.convert_to_numpy(model(x))).max() < 3 * scale


def _stream_frames(model_bytes, x, passes=2):
    """Output of each frame of x (1, T, I), one invoke a frame; `passes` times, with the
    op state reset before each pass."""
    from keras_events.export import Interpreter, reset_states

    interp = Interpreter(model_content=model_bytes)
    interp.allocate_tensors()
    inp, out = interp.get_input_details()[0], interp.get_output_details()[0]
    frames = []
    for _ in range(passes):
        reset_states()
        for t in range(x.shape[1]):
            interp.set_tensor(inp["index"], x[:, t:t + 1])
            interp.invoke()
            frames.append(interp.get_tensor(out["index"]).reshape(-1))
    return np.array(frames), inp, out


@pytest.mark.parametrize("quantize", ["float", "int8"])
def test_streaming_option_keeps_h_between_invokes(quantize):
    """`streaming=True`: one frame an invoke, h kept in the op between invokes (float: equal
    to the whole sequence; int8: equal to the integer model over the whole sequence); a
    reset starts over."""
    import tensorflow as tf

    model = _model()
    stream = keras.Sequential([keras.Input(batch_shape=(1, 1, I)),
                               keras.layers.RNN(EmbeddedGRUCell(U, quantize=True))])
    stream.set_weights(model.get_weights())
    x = _x(1)
    if quantize == "float":
        frames, _, _ = _stream_frames(to_tflite(stream, streaming=True), x)
        np.testing.assert_allclose(frames[:T], keras.ops.convert_to_numpy(model(x))[0],
                                   atol=1e-5)
    else:
        tflite = to_tflite(stream, streaming=True, quantize="int8", representative_data=_x(8),
                           inference_input_type=tf.int8, inference_output_type=tf.int8)
        from keras_events.export import Interpreter

        details = Interpreter(model_content=tflite).get_input_details()[0]
        x_q = np.clip(np.round(x / details["quantization"][0]) + details["quantization"][1],
                      -128, 127).astype(np.int8)
        frames, inp, out = _stream_frames(tflite, x_q)
        expected = _int8_reference(stream, x_q, inp["quantization"], out["quantization"])
        np.testing.assert_array_equal(frames[:T], expected[0])
    np.testing.assert_array_equal(frames[T:], frames[:T])


def test_weight_bytes_are_half_a_byte_per_weight():
    kernel, recurrent, bias = _weights(I, U, 0.5)
    packed = egru_emb.EGRU_EMB.pack_int8(dict(kernel=kernel, recurrent_kernel=recurrent,
                                              bias=bias), 0.01, 0, 0.01, 0)
    groups = -(-U // 4)
    assert packed["w_codes"].shape == (groups, 4 * (I + I % 2))
    assert packed["w_codes"].dtype == np.int8
    assert packed["u_codes"].shape == (groups, 4 * (U + U % 2))
    if U % 4 == 0 and I % 2 == 0:  # no padding: exactly half a byte a weight
        assert packed["w_codes"].nbytes + packed["u_codes"].nbytes == (I + U) * 2 * U // 2


def test_unsupported_layers_and_weights_raise_clear_errors():
    with pytest.raises(ValueError, match="go_backwards"):
        to_tflite(_model(go_backwards=True))
    big = _model()
    big.layers[0].cell.bias.assign(np.full(2 * U, 2.0**15, np.float32))
    with pytest.raises(ValueError, match="bias"):
        to_tflite(big, quantize="int8", representative_data=_x(8))

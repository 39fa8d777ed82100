"""Small .tflite models for the micro tests, generated with the TF converter.

Run as a script in a subprocess (``python model_factory.py NAME OUT_DIR``) so test
processes (possibly under AddressSanitizer) never import TensorFlow; conftest.py caches the
result by this file's hash.
"""
import os
import pathlib
import sys

import numpy as np


def fc_int8(out: pathlib.Path) -> None:
    """QUANTIZE-free int8 graph: FULLY_CONNECTED(relu) -> FULLY_CONNECTED -> SOFTMAX,
    int8 input and output (full-integer post-training quantization)."""
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    model = keras.Sequential([keras.Input((16,)), keras.layers.Dense(32, activation="relu"),
                              keras.layers.Dense(8), keras.layers.Softmax()])

    def representative():
        for _ in range(64):
            yield [rng.standard_normal((1, 16)).astype(np.float32)]

    conv = tf.lite.TFLiteConverter.from_keras_model(model)
    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    conv.representative_dataset = representative
    conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    conv.inference_input_type = tf.int8
    conv.inference_output_type = tf.int8
    tflite = conv.convert()
    x = rng.integers(-128, 128, (6, 1, 16)).astype(np.int8)
    (out / "model.tflite").write_bytes(tflite)
    np.save(out / "x.npy", x)
    np.save(out / "y_tflite.npy", _tflite_outputs(tflite, x))


def _tflite_outputs(tflite: bytes, x: np.ndarray) -> np.ndarray:
    """The standard TFLite interpreter's outputs, one invoke per row of ``x``."""
    import tensorflow as tf
    interp = tf.lite.Interpreter(model_content=tflite)
    interp.allocate_tensors()
    i, o = interp.get_input_details()[0]["index"], interp.get_output_details()[0]["index"]
    ys = []
    for row in x:
        interp.set_tensor(i, row)
        interp.invoke()
        ys.append(interp.get_tensor(o))
    return np.stack(ys)


def _run_sequences(model: bytes, xs: np.ndarray, quantize: bool):
    """(inputs as fed, outputs): each sequence of ``xs`` through the project's host
    interpreter (one invoke per sequence), quantized to the model's int8 input first."""
    from keras_events.export import Interpreter

    interp = Interpreter(model_content=model)
    interp.allocate_tensors()
    d_in, d_out = interp.get_input_details()[0], interp.get_output_details()[0]
    if quantize:
        scale, zp = d_in["quantization"]
        xs = np.clip(np.round(xs / scale) + zp, -128, 127).astype(np.int8)
    ys = []
    for x in xs:
        interp.set_tensor(d_in["index"], x[None])
        interp.invoke()
        ys.append(interp.get_tensor(d_out["index"])[0])
    return xs, np.stack(ys)


# Constructed EGRU (Subramoney et al., ICLR 2023) whose event rate is set by the input:
# unit j belongs to input group j % GROUPS; the candidate gate of a unit is driven to
# tanh(+1.5) when its group's input is 1 (c ~ 0.9 > threshold 0.5: an event every step)
# and to tanh(-1.5) when it is 0 (c < 0: never an event). The update gate is held open
# (bias +4) and recurrent weights are small, so activity = fraction of groups switched on.
GROUPS, T, UNITS = 10, 12, 40
ACTIVITIES = (1.0, 0.5, 0.2, 0.1)
SPARSITIES = (0.0, 0.8, 0.9)


def egru_weights(units, features, sparsity, seed=0):
    rng = np.random.default_rng(seed)
    kernel = np.zeros((features, 3 * units), np.float32)
    for j in range(units):
        kernel[j % features, 2 * units + j] = 3.0
    rec = (0.1 * rng.standard_normal((units, 3 * units))).astype(np.float32)
    if sparsity > 0:  # magnitude pruning to the requested fraction of zeros
        cut = np.quantile(np.abs(rec), sparsity)
        rec[np.abs(rec) <= cut] = 0.0
    bias = np.zeros((2, 3 * units), np.float32)
    bias[0, :units] = 4.0
    bias[0, 2 * units:] = -1.5
    return [kernel, rec, bias, np.zeros((units,), np.float32)]


def activity_inputs(activity, time=T, features=GROUPS):
    x = np.zeros((1, time, features), np.float32)
    x[:, :, : int(round(activity * features))] = 1.0
    return x


def _egru_model(time, features, units, return_sequences, weights):
    import keras
    from keras_events import EGRU
    model = keras.Sequential([keras.Input((time, features), batch_size=1),
                              EGRU(units, return_sequences=return_sequences)])
    model.layers[-1].cell.set_weights(weights)
    return model


def _with_time_steps(model: bytes, steps: int) -> bytes:
    """The same model (identical weights and quantization) with its [batch, time, ...]
    input and output resized to ``steps`` time steps: the streaming twin, one frame per
    invoke. Edited with the schema object API that ships with TensorFlow."""
    import flatbuffers
    from tensorflow.lite.python import schema_py_generated as schema
    m = schema.ModelT.InitFromPackedBuf(bytearray(model), 0)
    sg = m.subgraphs[0]
    for t in [*sg.inputs, *sg.outputs]:
        tensor = sg.tensors[t]
        tensor.shape = np.array([tensor.shape[0], steps, *tensor.shape[2:]], np.int32)
        if tensor.shapeSignature is not None:
            tensor.shapeSignature = tensor.shape.copy()
    b = flatbuffers.Builder(1024)
    b.Finish(m.Pack(b), file_identifier=b"TFL3")
    return bytes(b.Output())


def _egru_family(out, quantize):
    """Whole-sequence models at each weight sparsity, a T=1 streaming twin of the dense
    one, the activity inputs and the host TFLite (custom_ops) reference outputs."""
    from keras_events.export import to_tflite
    xs = np.concatenate([activity_inputs(a) for a in ACTIVITIES])  # (4, T, GROUPS)
    rep = np.concatenate([xs, np.random.default_rng(1).random((16, T, GROUPS), np.float32)])
    kwargs = {}
    if quantize:
        import tensorflow as tf
        kwargs = dict(quantize="int8", representative_data=rep,
                      inference_input_type=tf.int8, inference_output_type=tf.int8)
    for s in SPARSITIES:
        w = egru_weights(UNITS, GROUPS, s)
        model = _egru_model(T, GROUPS, UNITS, True, w)
        (out / f"seq_s{int(s * 100)}.tflite").write_bytes(to_tflite(model, **kwargs))
        if s == 0.0:
            seq = (out / "seq_s0.tflite").read_bytes()
            (out / "stream.tflite").write_bytes(_with_time_steps(seq, 1))
    model_bytes = (out / "seq_s0.tflite").read_bytes()
    xs, ys = _run_sequences(model_bytes, xs, quantize)
    np.save(out / "x.npy", xs)
    np.save(out / "y_tflite.npy", ys)
    (out / "model.tflite").write_bytes(model_bytes)


def egru_float(out):
    _egru_family(out, quantize=False)


def egru_int8(out):
    _egru_family(out, quantize=True)


# A deployment-sized EGRU for host == board: hidden 128, 80 % of both weight matrices
# pruned by magnitude, thresholds in four groups of units, normal (non-binary) inputs.
H128 = dict(units=128, features=16, time=12, sequences=3)
H128_THRESHOLD_PARAMS = (-2.0, -1.0, 0.0, 1.0)  # thresholds sigmoid(.) = 0.12, 0.27, 0.5, 0.73


def h128_weights(seed=0):
    rng = np.random.default_rng(seed)
    u, f = H128["units"], H128["features"]

    def pruned(shape, scale):  # exactly 80 % zeros, the smallest magnitudes
        w = rng.normal(0, scale, shape).astype(np.float32)
        w[np.abs(w) <= np.quantile(np.abs(w), 0.8)] = 0.0
        return w

    bias = rng.uniform(0, 1, (2, 3 * u)).astype(np.float32)  # EvNN's U(0, 1) bias init
    threshold = np.repeat(np.float32(H128_THRESHOLD_PARAMS), u // len(H128_THRESHOLD_PARAMS))
    return [pruned((f, 3 * u), 1.0), pruned((u, 3 * u), 0.5), bias, threshold]


def _egru_h128(out, quantize):
    """``seq.tflite`` (whole sequences), ``stream.tflite`` (its T=1 twin: the same weights
    and quantization, state kept between invokes), ``x.npy`` and the host TFLite
    (custom_ops) references ``y_seq.npy`` and ``y_stream.npy`` (reset before each
    sequence), all with the model's own input/output types."""
    from keras_events.export import Interpreter, reset_states, to_tflite
    n, t, f = H128["sequences"], H128["time"], H128["features"]
    rng = np.random.default_rng(7)
    xs = rng.normal(0, 1, (n, t, f)).astype(np.float32)
    kwargs = {}
    if quantize:
        import tensorflow as tf
        rep = np.concatenate([xs, rng.normal(0, 1, (16, t, f)).astype(np.float32)])
        kwargs = dict(quantize="int8", representative_data=rep,
                      inference_input_type=tf.int8, inference_output_type=tf.int8)
    seq = to_tflite(_egru_model(t, f, H128["units"], True, h128_weights()), **kwargs)
    stream = _with_time_steps(seq, 1)
    xs, y_seq = _run_sequences(seq, xs, quantize)
    sinterp = Interpreter(model_content=stream)
    sinterp.allocate_tensors()
    s_in, s_out = sinterp.get_input_details()[0], sinterp.get_output_details()[0]
    y_stream = []
    for x in xs:
        reset_states()
        for frame in x:
            sinterp.set_tensor(s_in["index"], frame[None, None])
            sinterp.invoke()
            y_stream.append(sinterp.get_tensor(s_out["index"]).reshape(-1))
    (out / "seq.tflite").write_bytes(seq)
    (out / "stream.tflite").write_bytes(stream)
    np.save(out / "x.npy", xs)
    np.save(out / "y_seq.npy", y_seq)
    np.save(out / "y_stream.npy", np.stack(y_stream).reshape(n, t, -1))


def egru_h128_float(out):
    _egru_h128(out, quantize=False)


def egru_h128_int8(out):
    _egru_h128(out, quantize=True)


MODELS = {"fc_int8": fc_int8, "egru_float": egru_float, "egru_int8": egru_int8,
          "egru_h128_float": egru_h128_float, "egru_h128_int8": egru_h128_int8}


# Delta-GRU / Delta-LSTM (KE_DELTA_GRU, KE_DELTA_LSTM) for host == board: 50 % of both weight
# matrices pruned, thresholds > 0 on slowly varying inputs (a random walk), so some but not
# all inputs and hidden units are sent each step.
DELTA = dict(units=32, features=10, time=12, sequences=3, thresholds=(0.08, 0.04))


def delta_weights(cell, seed=0):
    rng = np.random.default_rng(seed)
    out = []
    for w in cell.get_weights():
        w = rng.normal(0, 0.5 if w.ndim == 2 else 0.3, w.shape)
        prune = w.ndim == 2 and w.shape[0] > 2  # kernels, not the bias
        out.append((w * (rng.random(w.shape) >= 0.5) if prune else w).astype(np.float32))
    return out


def delta_inputs(n, seed=1):
    rng = np.random.default_rng(seed)
    return np.cumsum(rng.normal(0, 0.15, (n, DELTA["time"], DELTA["features"])), axis=1
                     ).astype(np.float32)


def _delta_family(out, kind, quantize):
    """seq.tflite (whole sequences), stream.tflite (its T = 1 twin), x.npy (as fed), the host
    TFLite outputs y_seq.npy and y_stream.npy (streamed frame by frame, reset per sequence)."""
    import keras
    from keras_events import DeltaGRUCell, DeltaLSTMCell
    from keras_events.export import reset_states, to_tflite
    cell = {"gru": DeltaGRUCell, "lstm": DeltaLSTMCell}[kind](
        DELTA["units"], input_threshold=DELTA["thresholds"][0],
        hidden_threshold=DELTA["thresholds"][1])
    model = keras.Sequential([keras.Input((DELTA["time"], DELTA["features"]), batch_size=1),
                              keras.layers.RNN(cell, return_sequences=True)])
    cell.set_weights(delta_weights(cell))
    xs = delta_inputs(DELTA["sequences"])
    kwargs = {}
    if quantize:
        import tensorflow as tf
        kwargs = dict(quantize="int8", representative_data=delta_inputs(32, seed=2),
                      inference_input_type=tf.int8, inference_output_type=tf.int8)
    seq = to_tflite(model, **kwargs)
    stream = _with_time_steps(seq, 1)
    (out / "seq.tflite").write_bytes(seq)
    (out / "stream.tflite").write_bytes(stream)
    xs, ys = _run_sequences(seq, xs, quantize)
    np.save(out / "x.npy", xs)
    np.save(out / "y_seq.npy", ys)
    frames = []
    for x in xs:
        reset_states()
        _, y = _run_sequences(stream, x[:, None], False)
        frames.append(y.reshape(DELTA["time"], -1))
    np.save(out / "y_stream.npy", np.stack(frames))


MODELS.update({f"delta_{kind}_{dtype}": (lambda out, k=kind, q=dtype == "int8":
                                         _delta_family(out, k, q))
               for kind in ("gru", "lstm") for dtype in ("float", "int8")})


# The embedded GRU (KE_EGRU_EMB, int8 interface) for host == Cortex-M0 board: a small
# whole-sequence model (groups of four units and a partial one) and the keyword-sized
# streaming model (40 inputs, 64 units, one frame per invoke) of the M0 benchmark.
EGRU_EMB = dict(seq=(10, 6, 7), stream=(8, 40, 64))  # (time, features, units)


def egru_emb_weights(features, units, seed):
    rng = np.random.default_rng(seed)
    return [rng.normal(0, 0.3, (features, 2 * units)).astype(np.float32),
            rng.normal(0, 0.3, (units, 2 * units)).astype(np.float32),
            rng.normal(0, 0.3, 2 * units).astype(np.float32)]


def egru_emb_int8(out):
    import keras
    import tensorflow as tf
    from keras_events import EmbeddedGRUCell
    from keras_events.export import Interpreter, to_tflite

    int8 = dict(quantize="int8", inference_input_type=tf.int8, inference_output_type=tf.int8)
    time, features, units = EGRU_EMB["seq"]
    model = keras.Sequential([keras.Input((time, features)), keras.layers.RNN(
        EmbeddedGRUCell(units, quantize=True), return_sequences=True)])
    model.layers[0].cell.set_weights(egru_emb_weights(features, units, 0))
    rep = np.random.default_rng(1).uniform(-1, 1, (32, time, features)).astype(np.float32)
    seq = to_tflite(model, representative_data=rep, **int8)
    xs = np.random.default_rng(2).uniform(-1.2, 1.2, (2, time, features)).astype(np.float32)
    xs, ys = _run_sequences(seq, xs, quantize=True)
    (out / "seq.tflite").write_bytes(seq)
    np.save(out / "x_seq.npy", xs)
    np.save(out / "y_seq.npy", ys)

    time, features, units = EGRU_EMB["stream"]
    model = keras.Sequential([keras.Input(batch_shape=(1, 1, features)), keras.layers.RNN(
        EmbeddedGRUCell(units, quantize=True))])
    model.layers[0].cell.set_weights(egru_emb_weights(features, units, 3))
    rep = np.random.default_rng(4).uniform(-1, 1, (8, time, features)).astype(np.float32)
    stream = to_tflite(model, representative_data=rep, streaming=True, **int8)
    interp = Interpreter(model_content=stream)
    interp.allocate_tensors()
    d_in, d_out = interp.get_input_details()[0], interp.get_output_details()[0]
    scale, zp = d_in["quantization"]
    x = np.random.default_rng(5).uniform(-1.2, 1.2, (time, 1, 1, features))
    x = np.clip(np.round(x / scale) + zp, -128, 127).astype(np.int8)
    ys = []
    for frame in x:
        interp.set_tensor(d_in["index"], frame)
        interp.invoke()
        ys.append(interp.get_tensor(d_out["index"]))
    (out / "stream.tflite").write_bytes(stream)
    np.save(out / "x_stream.npy", x)
    np.save(out / "y_stream.npy", np.stack(ys))


MODELS["egru_emb_int8"] = egru_emb_int8

if __name__ == "__main__":
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    name, out_dir = sys.argv[1], pathlib.Path(sys.argv[2])
    out_dir.mkdir(parents=True, exist_ok=True)
    MODELS[name](out_dir)

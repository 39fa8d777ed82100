"""int8 ``.tflite`` models of a recipe and their runs on the host.

From the trained Keras models (an event model ``Input -> event RNN (all steps) ->
GlobalAveragePooling1D -> Dense(softmax)`` and a dense ``keras.layers.GRU`` baseline):
  * the whole-sequence event classifier, input [B, frames, features], output logits (the
    trained model without its final softmax: argmax is unchanged) -- ``export_event``;
  * the same weights as a streaming model, input one frame [1, 1, features], output the
    per-frame logits ``Dense(y_t)`` -- ``export_stream``. An event op keeps its state
    between invokes when its input has one time step (micro/README.md), so a board feeds
    one frame per invoke. The trained head is linear in the mean of y over time, so
    mean_t(Dense(y_t)) == Dense(mean_t(y_t)): the mean of the per-frame logits equals the
    whole-sequence logits (``streaming_check``);
  * the dense baseline -- ``export_dense``. TF 2.21 converts ``keras.layers.GRU`` to int8
    only when unrolled, so the GRU is rebuilt with ``unroll=True`` and batch 1.
The event op of an exported model is found by name among ``keras_events.ops.names()``.
"""

import warnings

import numpy as np

from recipes.common.output import quiet_native

ARENA_SIZE = 256 * 1024  # bytes; the measured use is reported (``arena_used_bytes``)


# -- Keras models derived from the trained ones --------------------------------------------


def _dense_head(model):
    import keras

    return [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)][-1]


def event_layer(model):
    """The (single) event RNN layer of ``model`` (``keras_events.activity.event_layers``)."""
    from keras_events.activity import event_layers

    layers = event_layers(model)
    if len(layers) != 1:
        raise ValueError(f"Argument `model` must have exactly one event layer, found {len(layers)}.")
    return layers[0][1]


def _clone_rnn(rnn, **kwargs):
    import keras

    cell = type(rnn.cell).from_config(rnn.cell.get_config())
    return keras.layers.RNN(cell, name=rnn.name, **kwargs)


def logits_model(model):
    """The whole-sequence event classifier with a linear head (logits instead of softmax)."""
    import keras

    rnn = event_layer(model)
    head = _dense_head(model)
    frames, features = model.inputs[0].shape[1:]
    clone = keras.Sequential([
        keras.Input((frames, features)),
        _clone_rnn(rnn, return_sequences=True),
        keras.layers.GlobalAveragePooling1D(),
        keras.layers.Dense(head.units, name="logits"),
    ], name=f"{rnn.name}_logits")
    clone.get_layer(rnn.name).set_weights(rnn.cell.get_weights())
    clone.get_layer("logits").set_weights(head.get_weights())
    return clone


def streaming_model(model):
    """One frame in, the per-frame logits out: ``Dense(y_t)`` with the trained weights."""
    import keras

    rnn = event_layer(model)
    head = _dense_head(model)
    features = model.inputs[0].shape[-1]
    stream = keras.Sequential([
        keras.Input(batch_shape=(1, 1, features)),
        _clone_rnn(rnn),
        keras.layers.Dense(head.units, name="logits"),
    ], name=f"{rnn.name}_stream")
    stream.get_layer(rnn.name).set_weights(rnn.cell.get_weights())
    stream.get_layer("logits").set_weights(head.get_weights())
    return stream


def unrolled_gru(model):
    """The trained GRU baseline rebuilt with ``unroll=True`` and batch 1 (int8-convertible)."""
    import keras

    gru = [layer for layer in model.layers if isinstance(layer, keras.layers.GRU)][0]
    head = _dense_head(model)
    frames, features = model.inputs[0].shape[1:]
    clone = keras.Sequential([
        keras.Input(batch_shape=(1, frames, features)),
        keras.layers.GRU(gru.units, unroll=True, reset_after=gru.reset_after, name="gru"),
        keras.layers.Dense(head.units, activation=head.activation, name="head"),
    ], name="gru_unrolled")
    clone.get_layer("gru").set_weights(gru.get_weights())
    clone.get_layer("head").set_weights(head.get_weights())
    return clone


# -- export -----------------------------------------------------------------------------


def export_event(model, representative):
    """int8 whole-sequence event classifier (logits) via keras_events.export.to_tflite."""
    import tensorflow as tf
    from keras_events import export

    with quiet_native():
        return export.to_tflite(logits_model(model), quantize="int8",
                                representative_data=representative,
                                inference_input_type=tf.int8, inference_output_type=tf.int8)


def export_stream(model, representative):
    """int8 streaming event model: one frame in, the per-frame logits out, the state kept
    between invokes (``to_tflite(..., streaming=True)``), calibrated on the whole
    representative clips fed frame by frame, so the ranges are those of real streams."""
    import tensorflow as tf
    from keras_events import export

    with quiet_native():
        return export.to_tflite(streaming_model(model), quantize="int8",
                                representative_data=np.asarray(representative, np.float32),
                                inference_input_type=tf.int8, inference_output_type=tf.int8,
                                streaming=True)


def export_dense(model, representative):
    """int8 unrolled GRU with the standard converter (post-training full-integer)."""
    from keras_events.export import builtin_int8_tflite

    with quiet_native():
        return builtin_int8_tflite(unrolled_gru(model), representative)


# -- host runs --------------------------------------------------------------------------


def quantize(x, details):
    """Float input -> the int8 input of a tensor with ``details["quantization"]``."""
    scale, zero_point = details["quantization"]
    return np.clip(np.round(np.asarray(x) / scale) + zero_point, -128, 127).astype(np.int8)


def dequantize(q, details):
    scale, zero_point = details["quantization"]
    return (np.asarray(q, np.float32) - zero_point) * scale


def check_bytes(model_bytes):
    """``model_bytes`` if it can be a ``.tflite`` model, else a ValueError naming it."""
    if not isinstance(model_bytes, (bytes, bytearray)) or len(model_bytes) < 16:
        raise ValueError("Argument `model_bytes` must be the bytes of a .tflite model.")
    return model_bytes


def tflite_predict(model_bytes, x, batch=None):
    """Dequantized outputs of an int8 ``.tflite`` on the host TFLite interpreter (with the
    project's event ops). ``batch=None`` resizes to the whole ``x`` (one invoke);
    ``batch=1`` for models with a fixed batch of 1 (the unrolled GRU)."""
    from keras_events.export import Interpreter

    interp = Interpreter(model_content=bytes(check_bytes(model_bytes)))
    inp = interp.get_input_details()[0]
    out = interp.get_output_details()[0]
    chunks = [x] if batch is None else [x[i:i + batch] for i in range(0, len(x), batch)]
    if batch is None:
        interp.resize_tensor_input(inp["index"], list(x.shape))
    interp.allocate_tensors()
    ys = []
    for chunk in chunks:
        interp.set_tensor(inp["index"], quantize(chunk, inp))
        interp.invoke()
        ys.append(dequantize(interp.get_tensor(out["index"]), out))
    return np.concatenate(ys)


def stream_on_host(stream_bytes, clips, arena_size=ARENA_SIZE):
    """Per-frame logits (dequantized, [clips, frames, classes]) of the streaming model on
    the host TFLM, one frame per invoke, state reset between clips. Also returns the
    raw int8 outputs and quantized inputs (to compare with the board bit for bit)."""
    from keras_events.micro import Interpreter

    interp = Interpreter(bytes(stream_bytes), arena_size=arena_size)
    inp, out = interp.get_input_details()[0], interp.get_output_details()[0]
    xq = quantize(clips, inp)  # [clips, frames, features]
    raw = np.empty((len(clips), clips.shape[1], out["shape"][-1]), np.int8)
    for c in range(len(clips)):
        interp.reset_state()
        for t in range(clips.shape[1]):
            interp.set_input(0, xq[c, t].reshape(inp["shape"]))
            interp.invoke()
            raw[c, t] = interp.get_output(0).reshape(-1)
    used = interp.arena_used_bytes()
    interp.close()
    return {"logits": dequantize(raw, out), "raw": raw, "inputs": xq, "arena_used_bytes": used}


def streaming_check(stream_bytes, whole_bytes, logits_keras, clips):
    """Mean of the streaming per-frame logits vs the whole-sequence logits (int8 host
    TFLite and float Keras) on ``clips``: argmax agreement and max |difference|."""
    streamed = stream_on_host(stream_bytes, clips)
    mean_logits = streamed["logits"].mean(axis=1)
    whole = tflite_predict(whole_bytes, clips)
    return {
        "clips": int(len(clips)),
        "argmax_equal_int8": float(np.mean(mean_logits.argmax(-1) == whole.argmax(-1))),
        "argmax_equal_float": float(np.mean(mean_logits.argmax(-1) == logits_keras.argmax(-1))),
        "max_abs_diff_int8": float(np.abs(mean_logits - whole).max()),
        "max_abs_diff_float": float(np.abs(mean_logits - logits_keras).max()),
        "logit_range": float(np.ptp(logits_keras)),
        "arena_used_bytes": int(streamed["arena_used_bytes"]),
    }


def event_op_details(interp):
    """The ``_get_ops_details()`` entry of the first event op (a name in
    ``keras_events.ops.names()``) of a host TFLite interpreter."""
    from keras_events import ops

    names = set(ops.names())
    found = [op for op in interp._get_ops_details() if op["op_name"] in names]
    if not found:
        raise ValueError(f"the model has no event op (registered: {sorted(names)}).")
    return found[0]


def event_host_run(whole_bytes, x):
    """The whole-sequence int8 event model on the host TFLite interpreter, all of ``x`` in
    one invoke: dequantized logits, the int8 events (the event op's output != its zero
    point), the event rate and the multiply-accumulates the event kernel executed per
    frame."""
    from keras_events.export import Interpreter, runtime

    with warnings.catch_warnings():  # "intended for debugging": here it reads the events
        warnings.filterwarnings("ignore", message=".*experimental_preserve_all_tensors.*")
        interp = Interpreter(model_content=bytes(check_bytes(whole_bytes)),
                             experimental_preserve_all_tensors=True)
    inp, out = interp.get_input_details()[0], interp.get_output_details()[0]
    interp.resize_tensor_input(inp["index"], list(x.shape))
    interp.allocate_tensors()
    interp.set_tensor(inp["index"], quantize(x, inp))
    runtime.reset_mac_count()
    interp.invoke()
    macs = runtime.mac_count()
    logits = dequantize(interp.get_tensor(out["index"]), out)
    y_index = int(event_op_details(interp)["outputs"][0])
    y_zero = [t for t in interp.get_tensor_details() if t["index"] == y_index][0]["quantization"][1]
    events = interp.get_tensor(y_index) != y_zero  # [clips, frames, units]
    return {"logits": logits, "events": events, "event_rate": float(events.mean()),
            "macs_per_frame": macs / float(x.shape[0] * x.shape[1])}

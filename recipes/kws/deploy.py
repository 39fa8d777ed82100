"""Deployment pieces of the keyword recipe: int8 `.tflite` models, host runs, the
emulated Cortex-M4 and the streaming check.

Three int8 models are exported from the trained Keras models:
  * ``egru_int8.tflite``: the whole-sequence EGRU classifier, input [B, 98, 40],
    output logits (the trained model without its final softmax: argmax is unchanged);
  * ``egru_stream_int8.tflite``: the same weights as a streaming model, input one
    frame [1, 1, 40], output the per-frame logits ``Dense(y_t)``. The KE_EGRU op keeps
    its state between invokes when its input has one time step (micro/README.md), so
    a board feeds one 10 ms frame per invoke. The trained head is linear in the mean
    of y over time, so mean_t(Dense(y_t)) == Dense(mean_t(y_t)): the mean of the
    per-frame logits equals the whole-sequence logits (``streaming_check``);
  * ``gru_int8.tflite``: the dense baseline. TF 2.21 converts ``keras.layers.GRU`` to
    int8 only when unrolled, so the GRU is rebuilt with ``unroll=True`` and batch 1.
"""

import warnings

import numpy as np

ARENA_SIZE = 256 * 1024  # bytes; the measured use is reported (``arena_used_bytes``)


# -- Keras models derived from the trained ones --------------------------------------------


def _dense_head(model):
    import keras

    return [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)][-1]


def logits_model(model):
    """The whole-sequence EGRU classifier with a linear head (logits instead of softmax)."""
    import keras
    from keras_events import EGRUCell

    rnn = model.get_layer("egru")
    head = _dense_head(model)
    frames, mels = model.inputs[0].shape[1:]
    clone = keras.Sequential([
        keras.Input((frames, mels)),
        keras.layers.RNN(EGRUCell.from_config(rnn.cell.get_config()), return_sequences=True,
                         name="egru"),
        keras.layers.GlobalAveragePooling1D(),
        keras.layers.Dense(head.units, name="logits"),
    ], name="egru_logits")
    clone.get_layer("egru").set_weights(rnn.get_weights())
    clone.get_layer("logits").set_weights(head.get_weights())
    return clone


def streaming_model(model):
    """One frame in, the per-frame logits out: ``Dense(y_t)`` with the trained weights."""
    import keras
    from keras_events import EGRUCell

    rnn = model.get_layer("egru")
    head = _dense_head(model)
    mels = model.inputs[0].shape[-1]
    stream = keras.Sequential([
        keras.Input(batch_shape=(1, 1, mels)),
        keras.layers.RNN(EGRUCell.from_config(rnn.cell.get_config()), name="egru"),
        keras.layers.Dense(head.units, name="logits"),
    ], name="egru_stream")
    stream.get_layer("egru").set_weights(rnn.get_weights())
    stream.get_layer("logits").set_weights(head.get_weights())
    return stream


def unrolled_gru(model):
    """The trained GRU baseline rebuilt with ``unroll=True`` and batch 1 (int8-convertible)."""
    import keras

    gru = [layer for layer in model.layers if isinstance(layer, keras.layers.GRU)][0]
    head = _dense_head(model)
    frames, mels = model.inputs[0].shape[1:]
    clone = keras.Sequential([
        keras.Input(batch_shape=(1, frames, mels)),
        keras.layers.GRU(gru.units, unroll=True, reset_after=gru.reset_after, name="gru"),
        keras.layers.Dense(head.units, activation=head.activation, name="head"),
    ], name="gru_unrolled")
    clone.get_layer("gru").set_weights(gru.get_weights())
    clone.get_layer("head").set_weights(head.get_weights())
    return clone


# -- export -----------------------------------------------------------------------------


def export_egru(model, representative):
    """int8 whole-sequence EGRU (logits) via keras_events.export.to_tflite."""
    import tensorflow as tf
    from keras_events import export

    return export.to_tflite(logits_model(model), quantize="int8",
                            representative_data=representative,
                            inference_input_type=tf.int8, inference_output_type=tf.int8)


def export_stream(model, representative):
    """int8 streaming EGRU: one log-mel frame in, the per-frame logits out, the state kept
    between invokes (``to_tflite(..., streaming=True)``), calibrated on the whole
    representative clips fed frame by frame, so the ranges are those of real streams."""
    import tensorflow as tf
    from keras_events import export

    return export.to_tflite(streaming_model(model), quantize="int8",
                            representative_data=np.asarray(representative, np.float32),
                            inference_input_type=tf.int8, inference_output_type=tf.int8,
                            streaming=True)


def export_gru(model, representative):
    """int8 unrolled GRU with the standard converter (post-training full-integer)."""
    from keras_events.export import builtin_int8_tflite

    return builtin_int8_tflite(unrolled_gru(model), representative)


# -- host runs --------------------------------------------------------------------------


def quantize(x, details):
    """Float input -> the int8 input of a tensor with ``details["quantization"]``."""
    scale, zero_point = details["quantization"]
    return np.clip(np.round(np.asarray(x) / scale) + zero_point, -128, 127).astype(np.int8)


def dequantize(q, details):
    scale, zero_point = details["quantization"]
    return (np.asarray(q, np.float32) - zero_point) * scale


def tflite_predict(model_bytes, x, batch=None):
    """Dequantized outputs of an int8 ``.tflite`` on the host TFLite interpreter (with the
    KE_* ops). ``batch=None`` resizes to the whole ``x`` (one invoke); ``batch=1`` for
    models with a fixed batch of 1 (the unrolled GRU)."""
    from keras_events.export import Interpreter

    interp = Interpreter(model_content=bytes(_check_bytes(model_bytes)))
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


def _check_bytes(model_bytes):
    if not isinstance(model_bytes, (bytes, bytearray)) or len(model_bytes) < 16:
        raise ValueError("Argument `model_bytes` must be the bytes of a .tflite model.")
    return model_bytes


def stream_on_host(stream_bytes, clips, arena_size=ARENA_SIZE):
    """Per-frame logits (dequantized, [clips, frames, classes]) of the streaming model on
    the host TFLM, one frame per invoke, state reset between clips. Also returns the
    raw int8 outputs and quantized inputs (to compare with the board bit for bit)."""
    from keras_events.micro import Interpreter

    interp = Interpreter(bytes(stream_bytes), arena_size=arena_size)
    inp, out = interp.get_input_details()[0], interp.get_output_details()[0]
    xq = quantize(clips, inp)  # [clips, frames, mels]
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


def egru_host_run(whole_bytes, x):
    """The whole-sequence int8 EGRU on the host TFLite interpreter, all of ``x`` in one
    invoke: dequantized logits, the int8 events (KE_EGRU output != its zero point), the
    event rate and the multiply-accumulates the KE_EGRU kernel executed per frame."""
    from keras_events.export import Interpreter, runtime

    with warnings.catch_warnings():  # "intended for debugging": here it reads the events
        warnings.filterwarnings("ignore", message=".*experimental_preserve_all_tensors.*")
        interp = Interpreter(model_content=bytes(_check_bytes(whole_bytes)),
                             experimental_preserve_all_tensors=True)
    inp, out = interp.get_input_details()[0], interp.get_output_details()[0]
    interp.resize_tensor_input(inp["index"], list(x.shape))
    interp.allocate_tensors()
    interp.set_tensor(inp["index"], quantize(x, inp))
    runtime.reset_mac_count()
    interp.invoke()
    macs = runtime.mac_count()
    logits = dequantize(interp.get_tensor(out["index"]), out)
    ke_op = [op for op in interp._get_ops_details() if op["op_name"] == "KE_EGRU"][0]
    y_index = int(ke_op["outputs"][0])
    y_zero = [t for t in interp.get_tensor_details() if t["index"] == y_index][0]["quantization"][1]
    events = interp.get_tensor(y_index) != y_zero  # [clips, frames, units]
    return {"logits": logits, "events": events, "event_rate": float(events.mean()),
            "macs_per_frame": macs / float(x.shape[0] * x.shape[1])}


# -- emulated Cortex-M4 ---------------------------------------------------------------------


def board_available():
    """(True, "") when the emulated board can run, else (False, reason)."""
    import shutil

    missing = [t for t in ("qemu-system-arm", "arm-none-eabi-gcc") if shutil.which(t) is None]
    if missing:
        return False, f"{', '.join(missing)} not installed (make install-apt)"
    return True, ""


def _memory(run):
    """Flash = code + model (not the embedded test inputs); RAM = static data + the arena
    actually used (the firmware reserves a larger arena)."""
    m = run.memory
    return {"flash_bytes": int(m["flash_code_bytes"] + m["flash_model_bytes"]),
            "ram_bytes": int(m["static_ram_bytes"] - m["arena_size"] + m["arena_used_bytes"])}


def _arena_for(model_bytes, limit=3 * 1024 * 1024):
    """Arena for ``model_bytes`` on the board: at least 1 MiB and 2x what the host TFLM
    uses. TFLM's memory planner also plans inside the arena and fails with "Too many
    buffers" when it is tight, which the unrolled GRU (~100 ops per step) hits."""
    from keras_events.micro import Interpreter

    interp = Interpreter(bytes(model_bytes), arena_size=limit)
    used = interp.arena_used_bytes()
    interp.close()
    return int(min(limit, max(1024 * 1024, 2 * used)))


def dense_kernel_model(units, mels, classes, frames, seed=0):
    """The "dense kernel" baseline of benchmarks/micro_bench.py for the board: a streaming
    KE_EGRU of the same size storing every weight (``sparse_weights=False``) whose units
    all fire every step (update gate open, candidate above threshold), i.e. all 3U(I+U)
    MACs per frame in the same kernel style. Instructions only: its outputs mean nothing."""
    import keras
    import tensorflow as tf
    from keras_events import EGRUCell, export

    rng = np.random.default_rng(seed)
    model = keras.Sequential([keras.Input(batch_shape=(1, 1, mels)), keras.layers.RNN(EGRUCell(units)),
                              keras.layers.Dense(classes)])
    bias = np.zeros((2, 3 * units), np.float32)
    bias[0, :units] = 4.0  # update gate ~1: c follows the candidate
    bias[0, 2 * units:] = 1.5  # candidate ~0.9 > threshold 0.5: an event every step
    model.layers[0].cell.set_weights([
        (0.05 * rng.standard_normal((mels, 3 * units))).astype(np.float32),
        (0.05 * rng.standard_normal((units, 3 * units))).astype(np.float32),
        bias, np.zeros((units,), np.float32)])
    return export.to_tflite(model, quantize="int8", sparse_weights=False,
                            representative_data=np.asarray(frames, np.float32).reshape(-1, 1, mels),
                            inference_input_type=tf.int8, inference_output_type=tf.int8)


def board_runs(tflite, clip, units, calibration):
    """Runs on QEMU mps2-an386 (Cortex-M4F) with ``keras_events.micro.run``:
      * ``egru``: the streaming model over ``clip`` (one frame per invoke);
      * ``gru``: the unrolled int8 GRU on ``clip`` (one invoke);
      * ``dense_kernel``: ``dense_kernel_model`` streaming over ``clip``.
    Each: instructions per inference (and per frame), flash/RAM, and whether the board's
    int8 outputs equal the host TFLM's (fraction of equal values)."""
    from keras_events import micro

    frames, mels = clip.shape
    results = {}

    def streamed(name, model):
        from keras_events.micro import Interpreter

        details = Interpreter(bytes(model), arena_size=ARENA_SIZE).get_input_details()[0]
        xq = quantize(clip, details).reshape(frames, *details["shape"])
        board = micro.run(bytes(model), xq, board="mps2-an386", arena_size=ARENA_SIZE, timeout=600)
        host = micro.run(bytes(model), xq, board="host", arena_size=ARENA_SIZE)
        equal = np.mean([np.array_equal(b[0], h[0]) for b, h in zip(board.outputs, host.outputs)])
        results[name] = {"instructions": int(sum(board.instructions)),
                         "instructions_per_frame": [int(i) for i in board.instructions],
                         "host_equal": float(equal), **_memory(board)}

    def gru(model):
        from keras_events.export import Interpreter

        arena = _arena_for(model)
        details = Interpreter(model_content=model).get_input_details()[0]
        xq = quantize(clip[None], details)
        board = micro.run(model, xq, board="mps2-an386", arena_size=arena, timeout=600)
        host = micro.run(model, xq, board="host", arena_size=arena)
        results["gru"] = {"instructions": int(board.instructions[0]),
                          "host_equal": float(np.mean(board.outputs[0][0] == host.outputs[0][0])),
                          **_memory(board)}

    def dense_kernel(stream):
        classes = micro.Interpreter(bytes(stream), ARENA_SIZE).get_output_details()[0]["shape"][-1]
        streamed("dense_kernel", dense_kernel_model(units, mels, classes, calibration))

    jobs = []
    if "egru_stream" in tflite:
        jobs += [("egru", lambda: streamed("egru", tflite["egru_stream"])),
                 ("dense_kernel", lambda: dense_kernel(tflite["egru_stream"]))]
    if "gru" in tflite:
        jobs.append(("gru", lambda: gru(bytes(tflite["gru"]))))
    for name, job in jobs:  # one failing model (e.g. too large for the board) spares the others
        try:
            job()
        except Exception as err:
            results[name] = {"error": str(err).splitlines()[0][:300]}
    return results


# -- Arduino -------------------------------------------------------------------------------


def arduino_library(stream_bytes, out_dir, labels, feature_norm, audio):
    """``keras_events.export.arduino.to_arduino_library`` for the streaming model, with
    ``audio`` (float in [-1, 1)) as the example sketch's test clip."""
    import pathlib

    from keras_events.export.arduino import to_arduino_library

    clip = np.round(np.clip(audio, -1.0, 1.0 - 1.0 / 32768) * 32768).astype(np.int16)
    lib = to_arduino_library(bytes(stream_bytes), pathlib.Path(out_dir), labels=list(labels),
                             feature_mean=feature_norm["mean"], feature_std=feature_norm["std"],
                             test_clip=clip)
    return {"path": str(lib), "files": sorted(str(p.relative_to(lib)) for p in lib.rglob("*")
                                              if p.is_file())}

"""The eGRU (``--models embedded_gru``, keras_events.EmbeddedGRUCell) through export and
boards, as the other event models: int8 ``.tflite`` with the ``KE_EGRU_EMB`` op (whole
sequence and streaming), its host accuracy, the streaming check, the streaming model on
the emulated Cortex-M4 (TFLM), and the bare Q15 kernel on the emulated Cortex-M0
(``keras_events.micro.m0.run_egru_emb``: instructions per frame and per second of audio).

Row ``embedded_gru_int8`` of ``state["results"]``; files ``<out>/embedded_gru_int8.tflite``
and ``<out>/embedded_gru_stream_int8.tflite``.
"""
import time

import numpy as np

NAME = "embedded_gru"
FRAMES_PER_SECOND = 100  # 10 ms hop (features.HOP at 16 kHz)
STREAM_CALIBRATION_CLIPS = 20


def _layers(model):
    """(input scaling, the eGRU RNN layer, the Dense head) of ``models.build_embedded_gru``."""
    import keras

    scale = [l for l in model.layers if isinstance(l, keras.layers.Rescaling)]
    rnn = [l for l in model.layers if isinstance(l, keras.layers.RNN)][0]
    head = [l for l in model.layers if isinstance(l, keras.layers.Dense)][-1]
    return (float(scale[0].scale) if scale else 1.0), rnn, head


def logits_models(model):
    """(whole-sequence logits model, streaming model: one frame in, per-frame logits out)
    with the trained weights; the input scaling stays in both."""
    import keras

    scale, rnn, head = _layers(model)
    frames, features = model.inputs[0].shape[1:]

    def build(inputs, rnn_kwargs, pool):
        cell = type(rnn.cell).from_config(rnn.cell.get_config())
        layers = [inputs, keras.layers.Rescaling(scale),
                  keras.layers.RNN(cell, name=rnn.name, **rnn_kwargs)]
        layers += [keras.layers.GlobalAveragePooling1D()] if pool else []
        clone = keras.Sequential(layers + [keras.layers.Dense(head.units, name="logits")])
        clone.get_layer(rnn.name).set_weights(rnn.cell.get_weights())
        clone.get_layer("logits").set_weights(head.get_weights())
        return clone

    return (build(keras.Input((frames, features)), dict(return_sequences=True), True),
            build(keras.Input(batch_shape=(1, 1, features)), {}, False))


def evaluate(cfg, state, log=print):
    """Exports both int8 models, runs the whole one on the host TFLite and checks the
    streaming one against it (host TFLM); fills the ``embedded_gru_int8`` row."""
    import tensorflow as tf

    from keras_events.export import to_tflite
    from recipes.common import export
    from recipes.common.output import quiet_native
    from recipes.common.stages import write_bytes

    started = time.perf_counter()
    whole_model, stream_model = logits_models(state["models"][NAME])
    rep = np.asarray(state["x_training"][:cfg.calibration_clips], np.float32)
    with quiet_native():
        whole = to_tflite(whole_model, quantize="int8", representative_data=rep,
                          inference_input_type=tf.int8, inference_output_type=tf.int8)
        stream = to_tflite(stream_model, quantize="int8",
                           representative_data=rep[:STREAM_CALIBRATION_CLIPS],
                           inference_input_type=tf.int8, inference_output_type=tf.int8,
                           streaming=True)
    write_bytes(cfg.out, f"{NAME}_int8.tflite", whole)
    write_bytes(cfg.out, f"{NAME}_stream_int8.tflite", stream)
    state.setdefault("tflite", {}).update({NAME: whole, f"{NAME}_stream": stream})
    x, y = state["x_testing"], state["y_testing"]
    logits = export.tflite_predict(whole, x)
    keras_logits = whole_model.predict(x, verbose=0)
    clips = x[:cfg.stream_check_clips]
    check = export.streaming_check(stream, whole, keras_logits[:len(clips)], clips)
    row = state["results"][f"{NAME}_int8"] = {
        "test_accuracy": float(np.mean(logits.argmax(-1) == y)),
        "argmax_equal_keras": float(np.mean(logits.argmax(-1) == keras_logits.argmax(-1))),
        "event_rate": 1.0,  # dense: every unit, every step
        "stream_argmax_equal_int8": check["argmax_equal_int8"],
        "tflite_bytes": len(whole), "stream_tflite_bytes": len(stream),
    }
    log(f"{NAME} int8: host accuracy {row['test_accuracy']:.4f}, streaming argmax equal "
        f"{check['argmax_equal_int8']:.3f}, {len(whole)} B, {time.perf_counter() - started:.0f} s")
    return row


def m0_run(model, clip):
    """The trained eGRU layer's Q15 kernel on the emulated Cortex-M0 over ``clip``
    (frames, features): the firmware's h equals the NumPy Q15 statement (checked), and
    its instructions per frame and per second of audio (the layer only: no head)."""
    from keras_events.micro import m0
    from keras_events.ops import egru_emb

    scale, rnn, _ = _layers(model)
    w = egru_emb.layer_weights(rnn)
    x_q15 = np.clip(np.round(np.asarray(clip, np.float64) * scale * 32768), -32767, 32767)
    run = m0.run_egru_emb(w["kernel"], w["recurrent_kernel"], w["bias"],
                          x_q15.astype(np.int16), timeout=600)
    codes = (egru_emb.codes(w["kernel"]), egru_emb.codes(w["recurrent_kernel"]),
             egru_emb.bias_q15(w["bias"]))
    h = np.zeros((1, rnn.cell.units), np.int16)
    equal = []
    for t in range(len(x_q15)):
        h = egru_emb.reference_q15_step(*codes, x_q15[t:t + 1].astype(np.int16), h)
        equal.append(np.array_equal(h[0], run["h"][t]))
    per_frame = float(np.mean(run["instructions"][1:]))
    return {"m0_instructions_per_frame": per_frame,
            "m0_instructions_per_second": per_frame * FRAMES_PER_SECOND,
            "m0_equal_numpy": float(np.mean(equal)),
            "m0_flash_bytes": run["memory"]["flash_bytes"],
            "m0_ram_bytes": run["memory"]["static_ram_bytes"] + run["memory"]["stack_bytes"]}


def m4_run(stream, clip):
    """The streaming int8 model on the emulated Cortex-M4 (TFLM) over ``clip``, one frame
    per invoke: instructions, and the fraction of frames whose outputs equal the host TFLM's."""
    from keras_events import micro
    from recipes.common.board import BOARD, memory
    from recipes.common.export import ARENA_SIZE, quantize

    details = micro.Interpreter(bytes(stream), arena_size=ARENA_SIZE).get_input_details()[0]
    xq = quantize(clip, details).reshape(len(clip), *details["shape"])
    board = micro.run(bytes(stream), xq, board=BOARD, arena_size=ARENA_SIZE, timeout=600)
    host = micro.run(bytes(stream), xq, board="host", arena_size=ARENA_SIZE)
    equal = np.mean([np.array_equal(b[0], h[0]) for b, h in zip(board.outputs, host.outputs)])
    mem = memory(board)
    return {"mcu_instructions": int(sum(board.instructions)), "host_mcu_agreement": float(equal),
            "flash_bytes": mem["flash_bytes"], "ram_bytes": mem["ram_bytes"]}


def run_boards(cfg, state, clip, log=print):
    """``m4_run`` and ``m0_run`` of the exported eGRU, added to its row (an error is
    recorded in the row, not raised)."""
    row = state["results"].get(f"{NAME}_int8")
    if row is None or f"{NAME}_stream" not in state.get("tflite", {}):
        return
    for what, job in (("m4", lambda: m4_run(state["tflite"][f"{NAME}_stream"], clip)),
                      ("m0", lambda: m0_run(state["models"][NAME], clip))):
        try:
            row.update(job())
        except Exception as err:  # the table must still be printed
            row[f"{what}_error"] = str(err).splitlines()[0][:300]
    if "m0_instructions_per_second" in row:
        log(f"{NAME} Cortex-M0 (Q15 kernel): {row['m0_instructions_per_frame']:.0f} "
            f"instructions/frame, {row['m0_instructions_per_second'] / 1e6:.2f} M/s of audio, "
            f"equal to NumPy on {row['m0_equal_numpy']:.0%} of frames")

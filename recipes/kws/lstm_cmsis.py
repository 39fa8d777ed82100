"""The fused int8 LSTM baseline of the keyword recipe (``--models lstm``, issue 18): TFLM's
builtin ``UNIDIRECTIONAL_SEQUENCE_LSTM`` (CMSIS-NN ``arm_lstm_unidirectional_s8`` on the
Cortex-M4), the recurrent kernel a user would deploy instead of the EGRU.

Trained like the GRU baseline (``models.build_lstm``: Keras 3 ``LSTM(units)`` reading the
last step of the 98 x 40 log-mel, ``Dense(12, softmax)``). Keras 3 layers carry no
``api_implements`` tag, so the TFLite converter never fuses a Keras 3 LSTM: the export
copies the trained weights into the same model built with ``tf_keras`` (``LSTM(unroll=False)``,
batch 1, fixed length; the weight layout and gate order i, f, c, o are the same), which
the converter turns into one fused op. The int8 model then runs on the host TFLite
interpreter (accuracy) and on the emulated board, one invoke per 98-frame clip.

The fused op keeps its hidden and cell state in *variable* tensors, which outlive an
invoke: that is what makes it stream on a device, but a clip classified after another one
then starts from the previous clip's state instead of zeros (the trained cell state reaches
about +-100 on keywords). Evaluated clip after clip without a reset, the recipe's LSTM(128)
(seed 0, 15 epochs, Keras 0.9750) scored 0.7125 as int8, and 0.9708 with the reset; an
LSTM trained 4 epochs scored 0.906 as float ``.tflite`` without the reset against 0.936
in Keras and 0.936 with it: it was never quantization. ``host_predict`` resets the
variables before every clip.
"""
import os
import time

import numpy as np

FUSED_OP = "UNIDIRECTIONAL_SEQUENCE_LSTM"


def tf_keras_clone(model, batch=1):
    """``model`` (Keras 3 Input -> LSTM -> Dense) rebuilt in tf_keras with its weights."""
    import tf_keras

    lstm, dense = [l for l in model.layers if l.weights]
    frames, mels = model.input_shape[1:]
    clone = tf_keras.Sequential([
        tf_keras.Input((frames, mels), batch_size=batch),
        tf_keras.layers.LSTM(lstm.units, unroll=False),
        tf_keras.layers.Dense(dense.units, activation="softmax"),
    ])
    clone.set_weights([np.asarray(w) for w in model.get_weights()])
    return clone


def export_int8(model, representative):
    """int8 ``.tflite`` (int8 in/out) with the fused LSTM op; raises when the converter did
    not fuse it (the row would then measure something else)."""
    import tensorflow as tf

    from keras_events.micro import model_ops
    from recipes.common.output import quiet_native

    conv = tf.lite.TFLiteConverter.from_keras_model(tf_keras_clone(model))
    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    rep = np.asarray(representative, np.float32)
    conv.representative_dataset = lambda: ([x[None]] for x in rep)
    conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    conv.inference_input_type = conv.inference_output_type = tf.int8
    with quiet_native():
        model_bytes = conv.convert()
    ops = model_ops.model_op_names(model_bytes)
    if FUSED_OP not in ops:
        raise RuntimeError(f"the converter did not fuse the LSTM (ops: {sorted(set(ops))})")
    return model_bytes


def host_predict(model_bytes, x):
    """Dequantized outputs of the int8 (or float) fused-LSTM ``.tflite`` for the clips
    ``x`` [clips, frames, features] on the host TFLite interpreter, each clip from a zero
    state (the op's state tensors are reset before every invoke, see the module docstring)."""
    from recipes.common.export import check_bytes, dequantize, quantize
    from keras_events.export import Interpreter

    interp = Interpreter(model_content=bytes(check_bytes(model_bytes)))
    interp.allocate_tensors()
    inp, out = interp.get_input_details()[0], interp.get_output_details()[0]
    integer = inp["dtype"] != np.float32
    ys = []
    for clip in np.asarray(x, np.float32):
        interp.reset_all_variables()
        interp.set_tensor(inp["index"], quantize(clip[None], inp) if integer else clip[None])
        interp.invoke()
        y = interp.get_tensor(out["index"])
        ys.append(dequantize(y, out) if integer else y)
    return np.concatenate(ys)


def evaluate(cfg, state, log=print):
    """Exports the trained LSTM (``<out>/lstm_int8.tflite``), measures its host accuracy and,
    with the board, instructions per 98-frame inference on the emulated Cortex-M4 and
    board == host TFLite interpreter (fraction of equal int8 outputs); adds the
    ``lstm_int8`` row."""
    from recipes.common import board as common_board
    from recipes.common.export import ARENA_SIZE, quantize

    started = time.perf_counter()
    model = state["models"]["lstm"]
    model_bytes = export_int8(model, state["x_training"][:cfg.calibration_clips])
    with open(os.path.join(cfg.out, "lstm_int8.tflite"), "wb") as f:
        f.write(model_bytes)
    x, y = state["x_testing"], state["y_testing"]
    probs = host_predict(model_bytes, x)
    row = state["results"]["lstm_int8"] = {
        "test_accuracy": float(np.mean(probs.argmax(-1) == y)),
        "argmax_equal_keras": float(np.mean(probs.argmax(-1) ==
                                            model.predict(x, verbose=0).argmax(-1))),
        "tflite_bytes": len(model_bytes), "frames": int(x.shape[1]),
    }
    log(f"lstm int8 (fused {FUSED_OP}): host accuracy {row['test_accuracy']:.4f}, "
        f"{len(model_bytes)} B, {time.perf_counter() - started:.0f} s")
    ok, why = common_board.board_available()
    if not cfg.board or not ok:
        row["board"] = "not run: " + ("--no-board" if not cfg.board else why)
        return state
    try:
        from keras_events import micro
        from keras_events.export import Interpreter

        interp = Interpreter(model_content=model_bytes)
        details = interp.get_input_details()[0]
        xq = quantize(x[:1], details)
        on_board = micro.run(model_bytes, xq, board=common_board.BOARD, arena_size=ARENA_SIZE,
                             timeout=600)
        # The host TFLM library registers the project's ops and the builtins its models
        # need, not this LSTM: the board is compared with the host TFLite interpreter.
        interp.allocate_tensors()  # fresh: zero state, as on the board
        interp.set_tensor(details["index"], xq.reshape(details["shape"]))
        interp.invoke()
        host = interp.get_tensor(interp.get_output_details()[0]["index"])
        row.update(mcu_instructions=int(on_board.instructions[0]),
                   host_mcu_agreement=float(np.mean(on_board.outputs[0][0].ravel() ==
                                                    host.ravel())),
                   **common_board.memory(on_board))
        cycles = getattr(on_board, "est_cycles", None)
        if cycles:
            row["mcu_est_cycles"] = float(cycles[0] if isinstance(cycles, (list, tuple)) else cycles)
        log(f"lstm int8 on Cortex-M4: {row['mcu_instructions']} instructions/inference")
    except Exception as err:  # recorded, not raised: the table must still be printed
        row["board"] = f"failed: {str(err).splitlines()[0][:300]}"
    return state

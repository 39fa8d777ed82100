"""DS-CNN-S, the MLPerf Tiny keyword-spotting reference topology, as a recipe baseline.

Model (Zhang et al., "Hello Edge: Keyword Spotting on Microcontrollers", arXiv:1711.07128;
MLPerf Tiny's DS-CNN-S, Banbury et al., arXiv:2106.07597), on a 49 x 10 MFCC input:

  Conv2D(64, 10x4, stride 2, same) BN ReLU Dropout(0.2)
  4 x [DepthwiseConv2D(3x3, same) BN ReLU, Conv2D(64, 1x1) BN ReLU]
  Dropout(0.4), AveragePooling2D(25x5), Flatten, Dense(classes, softmax)

Features: MLPerf Tiny uses 40 ms windows every 20 ms (49 frames per second) and 10 MFCCs.
Here the MFCCs come from the recipe's own log-mel front end (30 ms window, 40 HTK mel
bands, float or q15), every other frame (20 ms hop: frames 0, 2, ..., 96 of the 98) and
an orthonormal DCT-II keeping coefficients 0..9, standardised per coefficient with the
training set's statistics. So DS-CNN and the recurrent models see the same audio through
the same front end; on a board the DS-CNN front end runs 50 log-mel frames per second
plus a 10 x 40 DCT per frame.

int8: the standard TFLite converter (builtin ops, int8 in/out), run by TFLite Micro with
CMSIS-NN kernels on the emulated Cortex-M4 (``keras_events.micro``).
"""

import time

import numpy as np

FRAMES = 49
COEFFS = 10
FILTERS = 64


def dct_matrix(mels, coeffs=COEFFS):
    """(coeffs, mels) orthonormal DCT-II basis (as scipy.fft.dct(norm="ortho"))."""
    m = np.arange(mels)
    basis = np.cos(np.pi * np.arange(coeffs)[:, None] * (m[None, :] + 0.5) / mels)
    basis *= np.sqrt(2.0 / mels)
    basis[0] /= np.sqrt(2.0)
    return basis.astype(np.float32)


def mfcc(log_mel):
    """(N, 98, M) log-mel -> (N, 49, 10) MFCC: every other frame, DCT-II over the bands."""
    x = np.asarray(log_mel, np.float32)[:, ::2][:, :FRAMES]
    if x.shape[1] != FRAMES:
        raise ValueError(f"log_mel must have >= {2 * FRAMES - 1} frames, got {log_mel.shape}.")
    return (x @ dct_matrix(x.shape[-1]).T).astype(np.float32)


def build_dscnn(cfg, frames=FRAMES, coeffs=COEFFS, classes=12, batch=None):
    """DS-CNN-S (see the module docstring); ``batch=1`` for the int8 export."""
    import keras
    from keras import layers

    reg = keras.regularizers.l2(1e-4)

    def bn_relu(x):
        return layers.ReLU()(layers.BatchNormalization()(x))

    inputs = keras.Input((frames, coeffs, 1), batch_size=batch)
    x = layers.Conv2D(FILTERS, (10, 4), strides=(2, 2), padding="same",
                      kernel_regularizer=reg)(inputs)
    x = layers.Dropout(0.2)(bn_relu(x))
    for _ in range(4):
        x = bn_relu(layers.DepthwiseConv2D((3, 3), padding="same",
                                           depthwise_regularizer=reg)(x))
        x = bn_relu(layers.Conv2D(FILTERS, (1, 1), kernel_regularizer=reg)(x))
    x = layers.Dropout(0.4)(x)
    x = layers.AveragePooling2D(pool_size=tuple(x.shape[1:3]))(x)
    x = layers.Flatten()(x)
    outputs = layers.Dense(classes, activation="softmax")(x)
    return keras.Model(inputs, outputs, name="dscnn")


def inputs(state):
    """The DS-CNN inputs of every split, (N, 49, 10, 1), standardised per coefficient by
    the training statistics; cached in ``state["dscnn_inputs"]``."""
    if "dscnn_inputs" not in state:
        raw = {s: mfcc(state[f"x_{s}"]) for s in ("training", "validation", "testing")}
        mean = raw["training"].mean(axis=(0, 1))
        std = raw["training"].std(axis=(0, 1)) + 1e-6
        state["dscnn_inputs"] = {s: ((v - mean) / std)[..., None].astype(np.float32)
                                 for s, v in raw.items()}
        state["dscnn_norm"] = {"mean": mean.tolist(), "std": std.tolist()}
    return state["dscnn_inputs"]


def fit(cfg, state, log=print):
    """Trains DS-CNN-S on the recipe's batches (the clean set and one augmented copy per
    epoch, ``batches.cycled_batches``) for ``cfg.epochs``; returns (model, results)."""
    from recipes.common import training
    from recipes.kws import batches

    data = inputs(state)
    copies = state["augment_copies"]
    clips = len(state["y_training"]) // (copies + 1)
    return training.fit(
        lambda: build_dscnn(cfg, classes=len(state["class_names"])),
        lambda: batches.cycled_batches(data["training"], state["y_training"], copies,
                                       cfg.batch_size, cfg.seed, cfg.epochs),
        epochs=cfg.epochs, steps_per_epoch=batches.steps_per_epoch(clips, copies, cfg.batch_size),
        learning_rate=cfg.learning_rate, seed=cfg.seed,
        validation=(data["validation"], state["y_validation"]),
        test=(data["testing"], state["y_testing"]), name="dscnn", log=log)


def export_int8(model, representative):
    """int8 ``.tflite`` (builtin ops, int8 in/out) of ``model`` rebuilt with batch 1."""
    from keras_events.export import builtin_int8_tflite

    clone = build_dscnn(None, classes=model.output_shape[-1], batch=1)
    clone.set_weights(model.get_weights())
    return builtin_int8_tflite(clone, representative)


def evaluate(cfg, state, log=print):
    """Exports the trained DS-CNN to int8 (``<out>/dscnn_int8.tflite``), measures its host
    accuracy and, with the board, its instructions per inference on the emulated
    Cortex-M4 (CMSIS-NN) and host-TFLM == board; adds the ``dscnn_int8`` row."""
    import os

    from recipes.common import board as common_board
    from recipes.common.export import ARENA_SIZE, quantize, tflite_predict

    data = inputs(state)
    started = time.perf_counter()
    model_bytes = export_int8(state["models"]["dscnn"],
                              data["training"][:cfg.calibration_clips])
    with open(os.path.join(cfg.out, "dscnn_int8.tflite"), "wb") as f:
        f.write(model_bytes)
    x, y = data["testing"], state["y_testing"]
    probs = tflite_predict(model_bytes, x, batch=1)
    row = state["results"]["dscnn_int8"] = {
        "test_accuracy": float(np.mean(probs.argmax(-1) == y)),
        "argmax_equal_keras": float(np.mean(
            probs.argmax(-1) == state["models"]["dscnn"].predict(x, verbose=0).argmax(-1))),
        "tflite_bytes": len(model_bytes),
    }
    log(f"dscnn int8: host accuracy {row['test_accuracy']:.4f}, {len(model_bytes)} B, "
        f"{time.perf_counter() - started:.0f} s")
    ok, why = common_board.board_available()
    if not cfg.board or not ok:
        row["board"] = "not run: " + ("--no-board" if not cfg.board else why)
        return state
    try:
        from keras_events import micro
        from keras_events.export import Interpreter

        details = Interpreter(model_content=model_bytes).get_input_details()[0]
        xq = quantize(x[:1], details)
        on_board = micro.run(model_bytes, xq, board=common_board.BOARD, arena_size=ARENA_SIZE,
                             timeout=600)
        host = micro.run(model_bytes, xq, board="host", arena_size=ARENA_SIZE)
        row.update(mcu_instructions=int(on_board.instructions[0]),
                   host_mcu_agreement=float(np.mean(on_board.outputs[0][0] == host.outputs[0][0])),
                   **common_board.memory(on_board))
        if getattr(on_board, "est_cycles", None) is not None:
            row["mcu_est_cycles"] = _first(on_board.est_cycles)
        log(f"dscnn int8 on Cortex-M4: {row['mcu_instructions']} instructions/inference")
    except Exception as err:  # recorded, not raised: the table must still be printed
        row["board"] = f"failed: {str(err).splitlines()[0][:300]}"
    return state


def _first(value):
    return int(value[0]) if isinstance(value, (list, tuple)) else int(value)

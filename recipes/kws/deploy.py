"""The keyword recipe's export and run stages: the shared int8 export, host and board
runs (``recipes.common.evaluate``) plus what is keyword-specific: the Arduino library
of the streaming model with a test clip, and the C log-mel front end on the board.

Exports (``<out>/``): ``egru_int8.tflite`` (whole sequence, [B, 98, 40] -> logits),
``egru_stream_int8.tflite`` (one 10 ms frame per invoke, [1, 1, 40] -> per-frame
logits), ``gru_int8.tflite`` (the unrolled GRU baseline), with ``--models ...,delta_gru``
``delta_gru_int8.tflite`` and ``delta_gru_stream_int8.tflite`` (the same two forms of the
Delta-GRU, op ``KE_DELTA_GRU``), with ``--models ...,embedded_gru`` the eGRU's two
(op ``KE_EGRU_EMB``, plus its Q15 kernel on the Cortex-M0: ``recipes/kws/embedded.py``);
see ``recipes/common/export.py``.
"""

import os

import numpy as np

from recipes.common import evaluate
from recipes.common.stages import NOT_BUILT
from recipes.kws import data as kws_data
from recipes.kws import features as kws_features
from recipes.kws.config import log


def stage_export(cfg, state):
    """int8 ``.tflite`` of the whole-sequence and streaming EGRU (and Delta-GRU) and of the
    unrolled GRU baseline; their host accuracy (TFLite interpreter with the project's ops). DS-CNN
    (``--models dscnn``): exported, host accuracy and emulated Cortex-M4 run here too
    (``dscnn.evaluate``)."""
    state = evaluate.stage_export(cfg, state, log=log)
    if "dscnn" in state.get("models", {}):
        from recipes.kws import dscnn

        try:
            dscnn.evaluate(cfg, state, log=log)
        except Exception as err:  # the table must still be printed
            state["results"]["dscnn_int8"] = {"error": str(err).splitlines()[0][:300]}
    if "embedded_gru" in state.get("models", {}):
        _embedded_gru(cfg, state, "export")
    if "lstm" in state.get("models", {}):
        from recipes.kws import lstm_cmsis

        try:
            lstm_cmsis.evaluate(cfg, state, log=log)
        except Exception as err:  # the table must still be printed
            state["results"]["lstm_int8"] = {"error": str(err).splitlines()[0][:300]}
    return state


def stage_run(cfg, state):
    """Streaming == whole sequence on the host TFLM; the int8 models on the emulated
    Cortex-M4 (instructions, flash/RAM, bit-exactness vs host TFLM); the Arduino library.

    Also: the C front end streams one test clip on the emulated board and its features
    are compared with the training features (``front_end_board``).
    """
    index = kws_data.first_keyword_clip(state["y_testing"])
    evaluate.stage_run(cfg, state, index, log=log)
    tflite = state.get("tflite", {})
    if cfg.arduino and "egru_stream" in tflite:
        try:
            state["arduino"] = arduino_library(
                tflite["egru_stream"], os.path.join(cfg.out, "arduino", "kws_egru"),
                state["class_names"], state["feature_norm"],
                state["splits"]["testing"].audio[index])
        except Exception as err:
            state["stages"]["arduino"] = f"failed: {err}"
    if getattr(cfg, "board", True):
        _embedded_gru(cfg, state, "run", state["x_testing"][index])
    state["front_end_board"] = (front_end_on_board(state, getattr(cfg, "frontend", "float"))
                                if getattr(cfg, "board", True) else {"status": "not run: --no-board"})
    return state


def _embedded_gru(cfg, state, stage, clip=None):
    """The eGRU's export (``stage="export"``) or board runs (``"run"``): recipes/kws/embedded.py."""
    from recipes.kws import embedded

    try:
        if stage == "export":
            embedded.evaluate(cfg, state, log=log)
        else:
            embedded.run_boards(cfg, state, clip, log=log)
    except Exception as err:  # the table must still be printed
        state["results"].setdefault(f"{embedded.NAME}_int8", {})["error"] = str(err).splitlines()[0][:300]


def _int16(audio):
    """float audio in [-1, 1) -> int16 samples."""
    return np.round(np.clip(audio, -1.0, 1.0 - 1.0 / 32768) * 32768).astype(np.int16)


def arduino_library(stream_bytes, out_dir, labels, feature_norm, audio):
    """``keras_events.export.arduino.to_arduino_library`` for the streaming model, with
    ``audio`` (float in [-1, 1)) as the example sketch's test clip."""
    import pathlib

    from keras_events.export.arduino import to_arduino_library

    lib = to_arduino_library(bytes(stream_bytes), pathlib.Path(out_dir), labels=list(labels),
                             feature_mean=feature_norm["mean"], feature_std=feature_norm["std"],
                             test_clip=_int16(audio))
    return {"path": str(lib), "files": sorted(str(p.relative_to(lib)) for p in lib.rglob("*")
                                              if p.is_file())}


def front_end_on_board(state, frontend="float"):
    """Features of one test clip computed on the emulated Cortex-M4 vs librosa (and, for
    the fixed-point front end, vs the same C code on the host: must be bit-exact)."""
    from recipes.kws import mcu_frontend

    ok, why = mcu_frontend.available(frontend)
    if not ok:
        return {"status": f"{NOT_BUILT}: {why}"}
    split = state["splits"]["testing"]
    index = kws_data.first_keyword_clip(split.labels)
    clip = _int16(split.audio[index])
    norm = state["feature_norm"]
    try:
        board = mcu_frontend.run_on_board(clip, norm["mean"], 1.0 / norm["std"],
                                          frontend=frontend)
    except Exception as err:  # the board check is informative; it must not end the recipe
        return {"status": f"failed: {err}"}
    python = kws_features.standardize(kws_features.log_mel(clip / 32768.0), norm["mean"],
                                      norm["std"])
    features = board.features
    extra = {}
    if frontend == "q15":
        from recipes.kws.logmel_q import FRAC_BITS, CLogMelQ

        extra["bit_exact_vs_host"] = bool(np.array_equal(features, CLogMelQ().clip(clip)))
        features = kws_features.standardize(features.astype(np.float32) / 2 ** FRAC_BITS,
                                            norm["mean"], norm["std"])
    result = {
        "status": "ok",
        "frontend": frontend,
        "clip": split.paths[index],
        "max_abs_diff_vs_librosa": float(np.abs(features - python).max()),
        "instructions_per_frame": board.instructions_per_frame,
        "est_cycles_per_frame": board.est_cycles_per_frame,
        "init_instructions": board.init_instructions,
        "state_bytes": board.state_bytes,
        # q15: the DS-CNN's MFCC step (10-coefficient DCT, ke_dct_q.c) per frame; float: None
        "dct_instructions_per_frame": board.dct_instructions,
        "dct_est_cycles_per_frame": board.dct_est_cycles,
        **extra,
    }
    log(f"front end on Cortex-M4: {result['instructions_per_frame']:.0f} instructions/frame, "
        f"max |board - librosa| = {result['max_abs_diff_vs_librosa']:.1e}")
    return result

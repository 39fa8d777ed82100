"""The export and board stages on the shared ``state`` (see ``stages``): int8 models of
the event model and the dense baseline, their host accuracy, the streaming check, and
the emulated Cortex-M4 runs, as rows of ``state["results"]``."""

import time

import numpy as np

from recipes.common import board
from recipes.common import export
from recipes.common.stages import DENSE, EVENT, EVENT_MODELS, NOT_BUILT, set_status, write_bytes

# Streaming calibration: whole utterances fed frame by frame, in order (for 98-frame
# clips 20 of them are 1960 invokes, the state carried as on the board); with 2 the
# ranges are too narrow.
STREAM_CALIBRATION_CLIPS = 20


def stage_export(cfg, state, log=print):
    """int8 ``.tflite`` of the whole-sequence and streaming event models (``EVENT_MODELS``
    trained: the event custom op, ``keras_events.export.to_tflite``) and of the unrolled GRU baseline, written to
    ``<out>/<name>_int8.tflite``; their host accuracy (TFLite interpreter with the
    project's ops) as the ``<name>_int8`` rows."""
    import keras

    if keras.backend.backend() != "tensorflow":
        set_status(state, "export", f"{NOT_BUILT}: to_tflite needs KERAS_BACKEND=tensorflow "
                                    f"(running {keras.backend.backend()})")
        return state
    rep = state["x_training"][:cfg.calibration_clips]
    x, y = state["x_testing"], state["y_testing"]
    state["tflite"] = {}
    for name in EVENT_MODELS:
        if name in state["models"]:
            _export_event_model(cfg, state, name, rep, x, y, log)
    if DENSE in state["models"]:
        started = time.perf_counter()
        dense = export.export_dense(state["models"][DENSE], rep)
        write_bytes(cfg.out, f"{DENSE}_int8.tflite", dense)
        probs = export.tflite_predict(dense, x, batch=1)
        float_probs = state["models"][DENSE].predict(x, verbose=0)
        state["tflite"][DENSE] = dense
        base = state["results"][DENSE]
        row = state["results"][f"{DENSE}_int8"] = {
            "test_accuracy": float(np.mean(probs.argmax(-1) == y)),
            "argmax_equal_keras": float(np.mean(probs.argmax(-1) == float_probs.argmax(-1))),
            "event_rate": 1.0,
            "weight_sparsity": base["weight_sparsity"],
            "effective_macs_per_frame": base["effective_macs_per_frame"],
            "tflite_bytes": len(dense),
        }
        log(f"{DENSE} int8 (unrolled): host accuracy {row['test_accuracy']:.4f}, "
            f"{len(dense)} B, {time.perf_counter() - started:.0f} s")
    set_status(state, "export", "ok: " + ", ".join(f"{k}_int8.tflite" for k in state["tflite"]))
    return state


def _export_event_model(cfg, state, name, rep, x, y, log):
    """``<name>_int8.tflite`` and ``<name>_stream_int8.tflite`` of the event-op model
    ``name`` and its ``<name>_int8`` row (host TFLite). The op comes from the registry
    (``keras_events.export.to_tflite``), the same path for every event model. The event
    rate of the EGRU is read from the int8 op's output (a unit fired); a delta model's
    output h is dense, so its row keeps the float model's delta rates (its int8 MACs per
    frame are the kernel's own count, which only sent deltas cost)."""
    started = time.perf_counter()
    model = state["models"][name]
    whole = export.export_event(model, rep)
    stream = export.export_stream(model, rep[:STREAM_CALIBRATION_CLIPS])
    write_bytes(cfg.out, f"{name}_int8.tflite", whole)
    write_bytes(cfg.out, f"{name}_stream_int8.tflite", stream)
    host = export.event_host_run(whole, x)
    keras_logits = export.logits_model(model).predict(x, verbose=0)
    state["tflite"].update({name: whole, f"{name}_stream": stream})
    base = state["results"][name]
    row = state["results"][f"{name}_int8"] = {
        "test_accuracy": float(np.mean(host["logits"].argmax(-1) == y)),
        "argmax_equal_keras": float(np.mean(host["logits"].argmax(-1) == keras_logits.argmax(-1))),
        "event_rate": host["event_rate"],
        "weight_sparsity": base["weight_sparsity"],
        "effective_macs_per_frame": host["macs_per_frame"],
        "tflite_bytes": len(whole),
        "stream_tflite_bytes": len(stream),
    }
    if name == EVENT:
        state[f"{EVENT}_int8_events"] = host["events"]
    else:  # delta model: the rates are the float model's (see the docstring)
        row.update({k: base[k] for k in ("event_rate", "input_delta_rate", "hidden_delta_rate")
                    if k in base})
    log(f"{name} int8: host accuracy {row['test_accuracy']:.4f}, "
        f"{len(whole)} B (stream {len(stream)} B), {time.perf_counter() - started:.0f} s")


def stage_run(cfg, state, example, log=print):
    """Streaming == whole sequence on the host TFLM (``cfg.stream_check_clips`` test
    clips); the int8 models on the emulated Cortex-M4 over test clip ``example``
    (instructions, flash/RAM, bit-exactness vs host TFLM), added to the ``*_int8`` rows.
    A board failure is recorded, not raised: after a long training the table must still
    be printed."""
    tflite = state.get("tflite", {})
    x = state["x_testing"]
    state.setdefault("stages", {})
    for name in EVENT_MODELS:
        if f"{name}_stream" not in tflite:
            continue
        clips = x[:cfg.stream_check_clips]
        keras_logits = export.logits_model(state["models"][name]).predict(clips, verbose=0)
        check = export.streaming_check(tflite[f"{name}_stream"], tflite[name], keras_logits, clips)
        if name == EVENT:
            state["streaming"] = check
        else:
            state["results"][f"{name}_int8"]["stream_argmax_equal_int8"] = check["argmax_equal_int8"]
        log(f"{name} streaming (host TFLM, {check['clips']} clips): argmax equal "
            f"{check['argmax_equal_int8']:.3f}, max |mean(stream) - whole| "
            f"{check['max_abs_diff_int8']:.4f} (logit range {check['logit_range']:.2f})")
    ok, why = board.board_available()
    if not tflite:
        set_status(state, "run", f"{NOT_BUILT}: nothing exported")
    elif not cfg.board:
        set_status(state, "run", f"{NOT_BUILT}: --no-board")
    elif not ok:
        set_status(state, "run", f"{NOT_BUILT}: {why}")
    else:
        _run_on_board(cfg, state, tflite, x[example], log)
    return state


def _run_on_board(cfg, state, tflite, clip, log):
    stages = state["stages"]
    started = time.perf_counter()
    try:
        state["board"] = board.board_runs(tflite, clip, cfg.units, state["x_training"][:20])
    except Exception as err:
        state["board"] = {}
        stages["run"] = f"failed: {str(err).splitlines()[0][:300]}"
        log(f"board run failed: {err}")
    for name, run in state["board"].items():
        row = state["results"].get(f"{name}_int8")
        if row is not None and "instructions" in run:
            row.update(mcu_instructions=run["instructions"], flash_bytes=run["flash_bytes"],
                       ram_bytes=run["ram_bytes"], host_mcu_agreement=run["host_equal"])
    errors = [f"{n}: {r['error']}" for n, r in state["board"].items() if "error" in r]
    if "run" not in stages or not stages["run"].startswith("failed"):
        stages["run"] = (f"ok: emulated Cortex-M4 ({time.perf_counter() - started:.0f} s)"
                         if not errors else "failed: " + "; ".join(errors))

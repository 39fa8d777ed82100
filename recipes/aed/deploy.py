"""Export and board stages of the acoustic-event recipe.

  * EGRU, Delta-GRU, GRU: the shared stages (``recipes.common.evaluate``): int8
    ``.tflite`` (whole clip and streaming), host accuracy, streaming check, emulated
    Cortex-M4 over one test clip (instructions, flash, RAM, host == board);
  * DS-CNN: int8 with the standard converter, host accuracy, one inference on the M4;
  * eGRU (``embedded_gru``): its Q15 kernel (``custom_ops/core/ke_egru_emb.c``) over the
    test clips on the host (the ``embedded_gru_q15`` row: the accuracy of the deployed
    arithmetic) and over one clip on the emulated Cortex-M0 (``keras_events.micro.m0``,
    bare-kernel firmware), checked against the host bit for bit.
Every int8 row gets ``mcu_instructions_per_second``: instructions per second of audio.
"""

import time

import numpy as np

from recipes.aed.config import M0_CPI, M0_HZ, log
from recipes.common import board as common_board
from recipes.common import evaluate
from recipes.common.stages import write_bytes

EMBEDDED_INPUT_SCALE = 0.25  # recipes.kws.models.build_embedded_gru's Rescaling
M0_STEPS = 32  # steps of the clip run on the Cortex-M0 (see _embedded_m0)


def stage_export(cfg, state):
    state = evaluate.stage_export(cfg, state, log=log)
    for name, fn in (("dscnn", _dscnn), ("embedded_gru", _embedded_q15)):
        if name in state.get("models", {}):
            try:
                fn(cfg, state)
            except Exception as err:  # the table must still be printed
                state["results"][f"{name}_{'q15' if name == 'embedded_gru' else 'int8'}"] = {
                    "error": str(err).splitlines()[0][:300]}
    return state


def stage_run(cfg, state):
    """The shared board stage (example: test clip 0), the DS-CNN and eGRU board runs, and
    instructions per second of audio in every row that has board instructions."""
    evaluate.stage_run(cfg, state, 0, log=log)
    ok, why = common_board.board_available()
    if cfg.board and ok:
        if "dscnn_int8" in state["results"] and "dscnn" in state.get("tflite", {}):
            _dscnn_board(state)
        if "embedded_gru_q15" in state["results"] and "error" not in state["results"]["embedded_gru_q15"]:
            _embedded_m0(cfg, state)
    for row in state["results"].values():
        if row.get("mcu_instructions") is not None:
            row["mcu_instructions_per_second"] = row["mcu_instructions"] / cfg.seconds
    return state


# -- DS-CNN ---------------------------------------------------------------------------


def _dscnn(cfg, state):
    from keras_events.export import builtin_int8_tflite
    from recipes.aed.training import model_input
    from recipes.common.export import tflite_predict
    from recipes.common.output import quiet_native

    started = time.perf_counter()
    model = state["models"]["dscnn"]
    frames, features = state["x_testing"].shape[1:]
    from recipes.kws.dscnn import build_dscnn

    clone = build_dscnn(None, frames=frames, coeffs=features, classes=len(state["class_names"]),
                        batch=1)
    clone.set_weights(model.get_weights())
    rep = model_input("dscnn", state["x_training"][:cfg.calibration_clips])
    with quiet_native():
        tfl = builtin_int8_tflite(clone, rep)
    write_bytes(cfg.out, "dscnn_int8.tflite", tfl)
    state["tflite"]["dscnn"] = tfl
    x = model_input("dscnn", state["x_testing"])
    probs = tflite_predict(tfl, x, batch=1)
    y = state["y_testing"]
    state["results"]["dscnn_int8"] = {
        "test_accuracy": float(np.mean(probs.argmax(-1) == y)),
        "argmax_equal_keras": float(np.mean(probs.argmax(-1) == model.predict(x, verbose=0).argmax(-1))),
        "event_rate": 1.0, "weight_sparsity": state["results"]["dscnn"]["weight_sparsity"],
        "tflite_bytes": len(tfl)}
    log(f"dscnn int8: host accuracy {state['results']['dscnn_int8']['test_accuracy']:.4f}, "
        f"{len(tfl)} B, {time.perf_counter() - started:.0f} s")


def _dscnn_board(state):
    from keras_events import micro
    from keras_events.export import Interpreter
    from recipes.common.export import quantize

    row = state["results"]["dscnn_int8"]
    tfl = state["tflite"]["dscnn"]
    try:
        arena = common_board.arena_for(tfl)
        details = Interpreter(model_content=tfl).get_input_details()[0]
        xq = quantize(state["x_testing"][:1, ..., None], details)
        board = micro.run(tfl, xq, board=common_board.BOARD, arena_size=arena, timeout=600)
        host = micro.run(tfl, xq, board="host", arena_size=arena)
        row.update(mcu_instructions=int(board.instructions[0]),
                   host_mcu_agreement=float(np.mean(board.outputs[0][0] == host.outputs[0][0])),
                   **common_board.memory(board))
        log(f"dscnn int8 on Cortex-M4: {row['mcu_instructions']} instructions per clip")
    except Exception as err:  # recorded, not raised
        row["board"] = f"failed: {str(err).splitlines()[0][:300]}"


# -- eGRU: Q15 kernel on the host and on the Cortex-M0 --------------------------------------


def embedded_q15_inputs(x):
    """Standardised features -> the eGRU kernel's Q15 inputs (the model's Rescaling)."""
    return np.clip(np.round(np.asarray(x) * EMBEDDED_INPUT_SCALE * 32768), -32768, 32767).astype(np.int16)


def _embedded_parts(model):
    from keras_events.ops import egru_emb

    rnn = model.get_layer("embedded_gru")
    head = [l for l in model.layers if l.__class__.__name__ == "Dense"][-1]
    return egru_emb.layer_weights(rnn), head.get_weights()


def _embedded_q15(cfg, state):
    """The ``embedded_gru_q15`` row: the C Q15 kernel over every test clip, then the
    float head on the mean of h (as the device would finish)."""
    from keras_events.ops import egru_emb_native

    model = state["models"]["embedded_gru"]
    weights, (w, b) = _embedded_parts(model)
    xq = embedded_q15_inputs(state["x_testing"])
    h = np.stack([egru_emb_native.run_q15(c, **weights) for c in xq])  # [clips, T, U]
    logits = (h.astype(np.float32) / 32768).mean(axis=1) @ w + b
    keras_pred = model.predict(state["x_testing"], verbose=0).argmax(-1)
    state["embedded_h0"] = h[0]
    state["results"]["embedded_gru_q15"] = {
        "test_accuracy": float(np.mean(logits.argmax(-1) == state["y_testing"])),
        "argmax_equal_keras": float(np.mean(logits.argmax(-1) == keras_pred)),
        "event_rate": 1.0, "weight_sparsity": float(np.mean(weights["kernel"] == 0)),
        "weight_bytes": _code_bytes(weights),
    }
    log(f"embedded_gru Q15 kernel (host C): accuracy "
        f"{state['results']['embedded_gru_q15']['test_accuracy']:.4f}")


def _code_bytes(weights):
    from keras_events.ops import egru_emb

    return int(egru_emb.pack_codes(weights["kernel"]).nbytes
               + egru_emb.pack_codes(weights["recurrent_kernel"]).nbytes + 4 * len(weights["bias"]))


def _embedded_m0(cfg, state):
    """One test clip through the eGRU kernel on the emulated Cortex-M0; real time at
    ``M0_HZ`` with ``M0_CPI`` cycles per instruction."""
    from keras_events.micro import m0

    row = state["results"]["embedded_gru_q15"]
    weights, _ = _embedded_parts(state["models"]["embedded_gru"])
    # The firmware keeps h of every step in RAM for the check (T x U int16): 124 steps of
    # 64 units overflow the 16 KiB, so it runs the clip's first M0_STEPS steps. The eGRU
    # is dense (every weight every step): the per-step count is that of any step.
    xq = embedded_q15_inputs(state["x_testing"][0])[:M0_STEPS]
    started = time.perf_counter()
    try:
        run = m0.run_egru_emb(x_q15=xq, timeout=900, **weights)
    except Exception as err:
        row["board"] = f"failed: {str(err).splitlines()[-1][:300]}"
        return
    per_step = float(np.mean(run["instructions"]))
    total = int(round(per_step * state["x_testing"].shape[1]))
    per_second = total / cfg.seconds
    budget = M0_HZ / M0_CPI
    row.update(m0_instructions=total, m0_instructions_per_second=per_second,
               m0_flash_bytes=int(run["memory"]["flash_bytes"]),
               m0_ram_bytes=int(run["memory"]["static_ram_bytes"] + run["memory"]["stack_bytes"]),
               m0_steps_run=len(xq), m0_instructions_per_step=per_step,
               m0_host_equal=bool(np.array_equal(run["h"], state["embedded_h0"][:len(xq)])),
               m0_budget_instructions_per_second=budget,
               m0_real_time=bool(per_second <= budget),
               m0_real_time_factor=float(budget / per_second))
    state.setdefault("stages", {})["m0"] = (
        f"ok: eGRU on the emulated Cortex-M0, {per_second / 1e6:.2f} M instructions per second of "
        f"audio vs a {budget / 1e6:.0f} M budget ({M0_HZ / 1e6:.0f} MHz, CPI {M0_CPI}), "
        f"{time.perf_counter() - started:.0f} s")
    log(state["stages"]["m0"])

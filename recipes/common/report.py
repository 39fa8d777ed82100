"""The results table, the target checks ([PASS]/[FAIL]) and ``results.json``.

Rows are the float Keras models (``gru``, ``egru``) and their int8 exports
(``gru_int8``, ``egru_int8``); "n/a" marks values of stages not run, "-" values that do
not apply (the deployment columns of the float models).
"""

import dataclasses
import json
import os

from recipes.common.stages import DENSE, EVENT, NOT_BUILT

NOT_APPLICABLE = "-"
SPLITS = ("training", "validation", "testing")
TABLE_COLUMNS = (
    ("test_accuracy", "accuracy", "{:.4f}"),
    ("event_rate", "event rate", "{:.3f}"),
    ("weight_sparsity", "w-sparsity", "{:.3f}"),
    ("effective_macs_per_frame", "eff. MAC/frame", "{:.0f}"),
    ("tflite_bytes", ".tflite B", "{:d}"),
    ("flash_bytes", "flash B", "{:d}"),
    ("ram_bytes", "RAM B", "{:d}"),
    ("mcu_instructions", "M4 instr/inf", "{:d}"),
    ("host_mcu_agreement", "host=MCU", "{:.3f}"),
)
# Columns of deployed (int8) models only: "-" in the rows of the float Keras models.
DEPLOY_COLUMNS = ("tflite_bytes", "flash_bytes", "ram_bytes", "mcu_instructions",
                  "host_mcu_agreement")
ROW_ORDER = (DENSE, f"{DENSE}_int8", EVENT, f"{EVENT}_int8")


def format_table(results):
    """The results table: one row per model (``ROW_ORDER`` first), one column per
    ``TABLE_COLUMNS`` entry, a name column as wide as the longest name (at least 10
    characters) and 15-character value columns."""
    names = [n for n in ROW_ORDER if n in results] + [n for n in results if n not in ROW_ORDER]
    width = max([10] + [len(n) + 1 for n in names])
    head = f"{'model':<{width}}" + "".join(f"{label:>15}" for _, label, _ in TABLE_COLUMNS)
    rows = [head, "-" * len(head)]
    for name in names:
        r = results[name]
        cells = []
        for key, _, fmt in TABLE_COLUMNS:
            if r.get(key) is not None:
                cells.append(fmt.format(r[key]))
            elif key in DEPLOY_COLUMNS and not name.endswith("_int8"):
                cells.append(NOT_APPLICABLE)
            else:
                cells.append(NOT_BUILT)
        rows.append(f"{name:<{width}}" + "".join(f"{c:>15}" for c in cells))
    return "\n".join(rows)


@dataclasses.dataclass(frozen=True)
class Targets:
    """What the event model must reach against the dense baseline."""

    accuracy_gap: float = 0.01  # at most this far behind the dense model
    event_rate: float = 0.2  # events per unit and step, at most
    weight_sparsity: float = 0.8  # at least (compared at the printed 3 decimals)
    instruction_ratio: float = 5.0  # dense kernel / event model instructions, at least
    train_minutes: float = 15.0  # all models together, at most (2 cores)


def target_checks(state, targets=Targets()):
    """The targets as ``{"target", "pass" (None if not measured), "text"}`` dicts."""
    r, board = state["results"], state.get("board", {})
    dense_name, event_name = DENSE.upper(), EVENT.upper()
    checks = []

    def add(name, value, ok, text):
        checks.append({"target": name, "pass": None if value is None else bool(ok), "text": text})

    dense, event = r.get(DENSE, {}), r.get(EVENT, {})
    if dense and event:
        gap = dense["test_accuracy"] - event["test_accuracy"]
        add("accuracy", gap, gap <= targets.accuracy_gap,
            f"{event_name} accuracy {event['test_accuracy']:.4f} vs {dense_name} "
            f"{dense['test_accuracy']:.4f}: {100 * gap:+.1f} points behind "
            f"(target <= {100 * targets.accuracy_gap:g})")
    if event:
        add("event_rate", event["event_rate"], event["event_rate"] <= targets.event_rate,
            f"{event_name} event rate {event['event_rate']:.3f} (target <= {targets.event_rate:g})")
        # Pruning to 0.8 leaves 0.79998 (whole weights): compare at the printed precision.
        add("weight_sparsity", event["weight_sparsity"],
            round(event["weight_sparsity"], 3) >= targets.weight_sparsity,
            f"{event_name} weight sparsity {event['weight_sparsity']:.3f} "
            f"(target >= {targets.weight_sparsity:g})")
    if "instructions" in board.get(EVENT, {}) and "instructions" in board.get("dense_kernel", {}):
        ev, dk = board[EVENT]["instructions"], board["dense_kernel"]["instructions"]
        ratio = dk / ev
        text = (f"Cortex-M4 instructions/inference: {event_name} {ev} vs dense kernel {dk}: "
                f"{ratio:.1f}x fewer (target >= {targets.instruction_ratio:g})")
        if "instructions" in board.get(DENSE, {}):
            text += (f"; vs converter int8 {dense_name} {board[DENSE]['instructions']}: "
                     f"{board[DENSE]['instructions'] / ev:.1f}x")
        add("instructions", ratio, ratio >= targets.instruction_ratio, text)
    else:
        add("instructions", None, False, "Cortex-M4 instructions: not measured (board run skipped)")
    seconds = sum(m.get("train_seconds", 0) for m in r.values())
    add("train_time", seconds, seconds <= 60 * targets.train_minutes,
        f"training time {seconds / 60:.1f} min (target <= {targets.train_minutes:g} on 2 cores)")
    return checks


def format_checks(checks):
    """One ``  [PASS]``/``  [FAIL]``/``  [n/a ]`` line per check."""
    mark = {True: "PASS", False: "FAIL", None: "n/a "}
    return "\n".join(f"  [{mark[c['pass']]}] {c['text']}" for c in checks)


def print_report(state, table, checks):
    """Prints the table, the checks, each stage's status, the streaming check and the
    Arduino library (stdout: the results)."""
    print(table)
    print(format_checks(checks))
    for stage, status in state.get("stages", {}).items():
        print(f"  {stage}: {status}")
    stream = state.get("streaming")
    if stream:
        print(f"  streaming (host TFLM, {stream['clips']} clips): argmax(mean of per-frame logits) "
              f"== whole sequence on {stream['argmax_equal_int8']:.0%}, max |diff| "
              f"{stream['max_abs_diff_int8']:.4f} (int8 whole), {stream['max_abs_diff_float']:.4f} (float)")
    if state.get("arduino"):
        print(f"  Arduino library: {state['arduino']['path']} ({len(state['arduino']['files'])} files)")


def summary(cfg, state, checks, table, plots, inputs=None, outputs=None):
    """The ``results.json`` dict: settings, data, ``inputs`` (recipe-specific: front end,
    normalisation...), every model's results, targets, board and streaming runs,
    ``outputs`` (recipe-specific runs), stage statuses, plots and the table."""
    return {
        "config": dataclasses.asdict(cfg),
        "data_dir": state["data_dir"],
        "class_names": state["class_names"],
        "clips": {n: int(len(state[f"y_{n}"])) for n in SPLITS},
        **(inputs or {}),
        "models": state["results"],
        "targets": checks,
        "streaming": state.get("streaming"),
        "board": state.get("board"),
        "sparsity_points": state.get("sparsity_points", []),
        "arduino": state.get("arduino"),
        **(outputs or {}),
        "stages": state.get("stages", {}),
        "plots": plots,
        "table": table,
    }


def write_results(out, summary_dict):
    """Writes ``<out>/results.json``; returns its path."""
    path = os.path.join(out, "results.json")
    with open(path, "w", encoding="utf-8") as f:
        json.dump(summary_dict, f, indent=1)
    return path


def stage_report(cfg, state, example, log=print, inputs=None, outputs=None, lines=(),
                 raster_labels=None, cost=None):
    """The report stage: prints the table, the target checks, the stage statuses and the
    recipe's own ``lines``; writes the PNG plots (``cfg.plots``; event raster and board
    run of test input ``example``) and ``results.json`` (with the recipe's ``inputs`` and
    ``outputs``, see ``summary``). ``cost``: the always-on cost table
    (``recipes.common.cost.cost_table``), printed, stored as ``cost`` and plotted
    (``always_on_cost.png``)."""
    from recipes.common import cost as common_cost
    from recipes.common import plots as common_plots

    table = format_table(state["results"])
    checks = target_checks(state)
    print_report(state, table, checks)
    for line in lines:
        print(line)
    if cost is not None:
        print(common_cost.format_cost(cost))
    plots = (common_plots.write_all(cfg.out, state, example, raster_labels=raster_labels)
             if cfg.plots else [])
    if cost is not None and cfg.plots and cost["models"]:
        plots.append(common_cost.plot_cost(cost, os.path.join(cfg.out, "always_on_cost.png")))
    extra = {"cost": cost} if cost is not None else {}
    state["summary"] = summary(cfg, state, checks, table, plots, inputs, {**(outputs or {}), **extra})
    path = write_results(cfg.out, state["summary"])
    log(f"wrote {path} and {', '.join(plots) or 'no plots'}")
    return state

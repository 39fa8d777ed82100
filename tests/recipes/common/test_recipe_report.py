"""recipes/common/report.py: the table and the target checks against rows and verdicts
computed by hand (values chosen exact in binary, so no rounding decides a verdict)."""

import dataclasses
import json

import pytest

from recipes.common import report


def _row(name, *cells):
    """A table row as specified: name in 10 characters, each value right-aligned in 15."""
    return name.ljust(10) + "".join(c.rjust(15) for c in cells)


def test_table_rows_and_markers():
    results = {
        "egru_int8": {"test_accuracy": 0.5, "event_rate": 0.1875, "weight_sparsity": 0.8125,
                      "effective_macs_per_frame": 5608.4, "tflite_bytes": 50408,
                      "flash_bytes": 153076, "ram_bytes": 10960, "mcu_instructions": 5373660,
                      "host_mcu_agreement": 1.0},
        "gru": {"test_accuracy": 0.984375, "event_rate": 1.0, "weight_sparsity": 0.0,
                "effective_macs_per_frame": 64512.0},
        "egru": {"test_accuracy": 0.25},
        "egru@0.5": {"test_accuracy": 0.125},
    }
    lines = report.format_table(results).splitlines()
    assert lines[0] == _row("model", "accuracy", "event rate", "w-sparsity", "eff. MAC/frame",
                            ".tflite B", "flash B", "RAM B", "M4 instr/inf", "host=MCU")
    assert lines[1] == "-" * (10 + 9 * 15)
    # ROW_ORDER first (gru, gru_int8, egru, egru_int8), then the others in given order.
    assert lines[2:] == [
        _row("gru", "0.9844", "1.000", "0.000", "64512", "-", "-", "-", "-", "-"),
        # Float model: deployment columns do not apply ("-"), other missing values "n/a".
        _row("egru", "0.2500", "n/a", "n/a", "n/a", "-", "-", "-", "-", "-"),
        _row("egru_int8", "0.5000", "0.188", "0.812", "5608", "50408", "153076", "10960",
             "5373660", "1.000"),
        _row("egru@0.5", "0.1250", "n/a", "n/a", "n/a", "-", "-", "-", "-", "-"),
    ]
    # An int8 row is deployed: its missing deployment values are "n/a", not "-".
    (line,) = report.format_table({"gru_int8": {"test_accuracy": 0.5}}).splitlines()[2:]
    assert line == _row("gru_int8", "0.5000", *["n/a"] * 8)


def test_results_table_widens_its_name_column_for_long_names():
    lines = report.format_table({"gru_int8": {"test_accuracy": 0.5},
                                 "delta_gru_int8": {"test_accuracy": 0.25}}).splitlines()
    # Every row as wide as the header: the longest name and one space, then the values.
    assert {len(line) for line in lines} == {len("delta_gru_int8") + 1 + 9 * 15}
    assert lines[3].startswith("delta_gru_int8 ") and lines[3][15:].lstrip().startswith("0.2500")


def _state(gru=0.5, egru=0.4921875, rate=0.1875, sparsity=0.79951, egru_instr=100,
           dense_instr=500, gru_instr=2000, seconds=(300, 600)):
    results = {"gru": {"test_accuracy": gru, "train_seconds": seconds[0]},
               "egru": {"test_accuracy": egru, "event_rate": rate, "weight_sparsity": sparsity,
                        "train_seconds": seconds[1]}}
    board = {"egru": {"instructions": egru_instr}, "dense_kernel": {"instructions": dense_instr},
             "gru": {"instructions": gru_instr}}
    return {"results": results, "board": board}


def _verdicts(state, targets=report.Targets()):
    return {c["target"]: c["pass"] for c in report.target_checks(state, targets)}


def test_checks_pass_at_the_targets():
    checks = report.target_checks(_state())
    assert report.format_checks(checks).splitlines() == [
        "  [PASS] EGRU accuracy 0.4922 vs GRU 0.5000: +0.8 points behind (target <= 1)",
        "  [PASS] EGRU event rate 0.188 (target <= 0.2)",
        "  [PASS] EGRU weight sparsity 0.800 (target >= 0.8)",
        "  [PASS] Cortex-M4 instructions/inference: EGRU 100 vs dense kernel 500: 5.0x fewer "
        "(target >= 5); vs converter int8 GRU 2000: 20.0x",
        "  [PASS] training time 15.0 min (target <= 15 on 2 cores)",
    ]


@pytest.mark.parametrize("change,failed", [
    (dict(egru=0.484375), "accuracy"),  # 1.5625 points behind
    (dict(rate=0.203125), "event_rate"),
    (dict(sparsity=0.7994), "weight_sparsity"),  # prints 0.799
    (dict(dense_instr=499), "instructions"),  # 4.99x, printed "5.0x"
    (dict(seconds=(300, 601)), "train_time"),  # 15.02 min
])
def test_each_target_fails_alone(change, failed):
    verdicts = _verdicts(_state(**change))
    assert verdicts == {**{k: True for k in verdicts}, failed: False}


def test_unmeasured_targets_are_not_applicable():
    state = _state()
    del state["board"]
    del state["results"]["gru"]
    checks = report.target_checks(state)
    assert [c["target"] for c in checks] == ["event_rate", "weight_sparsity", "instructions",
                                             "train_time"]
    assert _verdicts(state)["instructions"] is None
    assert "  [n/a ] Cortex-M4 instructions: not measured (board run skipped)" in \
        report.format_checks(checks).splitlines()


def test_targets_are_parameters():
    strict = dataclasses.replace(report.Targets(), event_rate=0.125, instruction_ratio=10)
    verdicts = _verdicts(_state(), strict)
    assert verdicts["event_rate"] is False and verdicts["instructions"] is False
    assert verdicts["accuracy"] and verdicts["train_time"]


def test_summary_and_results_json(tmp_path, capsys):
    @dataclasses.dataclass
    class Cfg:
        out: str = str(tmp_path)
        seed: int = 3

    state = {**_state(), "data_dir": "/data", "class_names": ["a", "b"],
             "y_training": [0] * 5, "y_validation": [1] * 2, "y_testing": [0, 1, 1],
             "stages": {"export": "ok: x"}, "arduino": {"path": "/lib", "files": ["a", "b", "c"]}}
    checks = report.target_checks(state)
    table = report.format_table(state["results"])
    report.print_report(state, table, checks)
    printed = capsys.readouterr().out.splitlines()
    assert printed[:len(table.splitlines())] == table.splitlines()
    assert printed[-2:] == ["  export: ok: x", "  Arduino library: /lib (3 files)"]
    summary = report.summary(Cfg(), state, checks, table, ["training.png"],
                             inputs={"feature_norm": 1}, outputs={"front_end_board": 2})
    path = report.write_results(str(tmp_path), summary)
    loaded = json.loads(open(path, encoding="utf-8").read())
    assert loaded["config"] == {"out": str(tmp_path), "seed": 3}
    assert loaded["clips"] == {"training": 5, "validation": 2, "testing": 3}
    assert list(loaded)[:6] == ["config", "data_dir", "class_names", "clips", "feature_norm",
                                "models"]
    assert list(loaded)[-4:] == ["front_end_board", "stages", "plots", "table"]

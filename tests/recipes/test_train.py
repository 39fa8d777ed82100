"""End-to-end smoke test of ``python -m recipes.kws --quick`` and its stages."""

import json
import os

import numpy as np
import pytest

from recipes.kws import train
from recipes.kws.__main__ import parse_args


@pytest.mark.tensorflow_only
def test_quick_recipe_prune_export_stream(tiny_dataset, tmp_path, capsys):
    """Quick EGRU run without the board: pruned during training, int8 export, host
    accuracy, streaming == whole sequence on the host TFLM, Arduino library."""
    cfg = train.Config(data_dir=str(tiny_dataset), out=str(tmp_path / "out"), quick=True,
                       models=("egru",), board=False, calibration_clips=20, stream_check_clips=3)
    state = train.run(cfg)

    out = tmp_path / "out"
    for name in ("egru.keras", "egru_int8.tflite", "egru_stream_int8.tflite", "results.json",
                 "training.png", "event_raster.png", "accuracy_vs_sparsity.png",
                 "arduino/kws_egru/library.properties"):
        assert (out / name).is_file(), name
    summary = json.loads((out / "results.json").read_text())
    egru, egru_int8 = summary["models"]["egru"], summary["models"]["egru_int8"]
    assert 0.0 <= egru["test_accuracy"] <= 1.0 and 0.0 <= egru["event_rate"] <= 1.0
    assert egru["effective_macs_per_frame"] <= egru["dense_macs_per_frame"]
    # Pruned during training to the target (whole weights: within one weight of 0.8).
    assert egru["weight_sparsity"] == pytest.approx(0.8, abs=1e-3)
    assert summary["stages"]["prune"].startswith("ok") and summary["stages"]["export"].startswith("ok")
    assert summary["stages"]["run"] == "n/a: --no-board"
    # int8 on the host: same decisions as Keras on (almost) every clip, same sparsity.
    assert egru_int8["argmax_equal_keras"] >= 0.9
    assert egru_int8["weight_sparsity"] == egru["weight_sparsity"]
    assert 0 < egru_int8["effective_macs_per_frame"] <= egru["dense_macs_per_frame"]
    # Streaming (one frame per invoke, host TFLM) == whole sequence.
    stream = summary["streaming"]
    assert stream["argmax_equal_int8"] == 1.0
    assert stream["max_abs_diff_int8"] <= 0.1 * max(stream["logit_range"], 1.0)
    targets = {c["target"]: c for c in summary["targets"]}
    assert targets["instructions"]["pass"] is None and targets["train_time"]["pass"] is True
    from recipes.kws import mcu_frontend

    if mcu_frontend.available()[0]:
        assert summary["front_end_board"]["status"] == "ok"
        assert summary["front_end_board"]["max_abs_diff_vs_librosa"] <= 1e-3
    assert state["x_training"].shape[1:] == (98, 40)
    # The clean training clips and `augment_copies` augmented copies, stacked.
    assert len(state["y_training"]) == 9 * len(state["splits"]["training"].labels)
    printed = capsys.readouterr().out
    assert "egru_int8" in printed and "[PASS]" in printed

    # A second run reuses the cached features.
    again = train.stage_features(cfg, {k: state[k] for k in ("splits", "dataset", "data_dir")})
    np.testing.assert_array_equal(again["x_testing"], state["x_testing"])
    assert len(os.listdir(out / "features")) == 1


@pytest.mark.slow
@pytest.mark.tensorflow_only
def test_quick_recipe_end_to_end_with_board(tiny_dataset, tmp_path, capsys):
    """`python -m recipes.kws --quick`: every stage incl. the emulated Cortex-M4 (~3 min)."""
    from recipes.kws import deploy

    if not deploy.board_available()[0]:
        pytest.skip(deploy.board_available()[1])
    cfg = train.Config(data_dir=str(tiny_dataset), out=str(tmp_path / "out"), quick=True,
                       calibration_clips=20, stream_check_clips=3)
    train.run(cfg)
    out = tmp_path / "out"
    for name in ("gru_int8.tflite", "instructions_vs_activity.png", "accuracy_vs_sparsity.png"):
        assert (out / name).is_file(), name
    summary = json.loads((out / "results.json").read_text())
    assert set(summary["models"]) == {"gru", "gru_int8", "egru", "egru_int8"}
    assert "n/a" not in summary["table"]
    board = summary["board"]
    assert len(board["egru"]["instructions_per_frame"]) == 98
    assert board["egru"]["host_equal"] == 1.0 and board["gru"]["host_equal"] == 1.0
    assert board["dense_kernel"]["instructions"] > board["egru"]["instructions"]
    targets = {c["target"]: c for c in summary["targets"]}
    assert targets["instructions"]["pass"] is not None
    assert "n/a" not in capsys.readouterr().out.split("\n  prune:")[0]


def test_format_table_marks_missing_values():
    table = train.format_table({"gru": {"test_accuracy": 0.5}, "egru_int8": {"test_accuracy": 0.4}})
    gru_row = next(line for line in table.splitlines() if line.startswith("gru "))
    int8_row = next(line for line in table.splitlines() if line.startswith("egru_int8"))
    # Float rows: deployment columns do not apply ("-"); other missing values are "n/a".
    assert "0.5000" in gru_row and gru_row.split().count("-") == len(train.DEPLOY_COLUMNS)
    assert gru_row.count("n/a") == len(train.TABLE_COLUMNS) - 1 - len(train.DEPLOY_COLUMNS)
    assert int8_row.count("n/a") == len(train.TABLE_COLUMNS) - 1


def test_target_checks():
    results = {"gru": {"test_accuracy": 0.90, "train_seconds": 100},
               "egru": {"test_accuracy": 0.895, "event_rate": 0.15, "weight_sparsity": 0.79998,
                        "train_seconds": 200}}
    board = {"egru": {"instructions": 100}, "dense_kernel": {"instructions": 600},
             "gru": {"instructions": 2000}}
    checks = {c["target"]: c for c in train.target_checks({"results": results, "board": board})}
    assert all(c["pass"] for c in checks.values()), checks
    assert "6.0x fewer" in checks["instructions"]["text"] and "20.0x" in checks["instructions"]["text"]
    results["egru"].update(test_accuracy=0.85, event_rate=0.3)
    board["dense_kernel"]["instructions"] = 300
    checks = {c["target"]: c for c in train.target_checks({"results": results})}
    assert not checks["accuracy"]["pass"] and not checks["event_rate"]["pass"]
    assert checks["instructions"]["pass"] is None  # no board run
    assert "[n/a ]" in train.format_checks(checks.values())


def test_bad_config_is_a_clear_error():
    with pytest.raises(ValueError, match="--units must be >= 1"):
        train.Config(units=0)
    with pytest.raises(ValueError, match="--target-sparsity"):
        train.Config(target_sparsity=1.5)
    with pytest.raises(ValueError, match="unknown"):
        train.Config(models=("lstm",))


def test_cli_arguments():
    cfg = parse_args(["--epochs", "3", "--units", "8", "--models", "egru", "--seed", "2"])
    assert (cfg.epochs, cfg.egru_epochs, cfg.units, cfg.models, cfg.seed) == (3, 12, 8, ("egru",), 2)
    assert cfg.board and cfg.arduino and cfg.sweep == ()
    cfg = parse_args(["--target-sparsity", "0", "--sweep", "0.5,0.9", "--no-board", "--no-arduino",
                      "--prune-begin", "0.1", "--prune-end", "0.5"])
    assert (cfg.target_sparsity, cfg.sweep, cfg.board, cfg.arduino) == (0.0, (0.5, 0.9), False, False)
    assert (cfg.prune_begin, cfg.prune_end) == (0.1, 0.5)
    assert parse_args(["--augment-copies", "2"]).augment_copies == 2
    for bad in (["--units", "-1"], ["--sweep", "0.5,x"], ["--sweep", "1.5"],
                ["--prune-begin", "0.8", "--prune-end", "0.5"]):
        with pytest.raises(SystemExit):
            parse_args(bad)


def test_bad_data_dir_or_keywords_exit_with_message(tiny_dataset, tmp_path):
    from recipes.kws.__main__ import main

    with pytest.raises(SystemExit, match="does not exist"):
        main(["--data-dir", str(tmp_path / "missing"), "--out", str(tmp_path / "o")])
    with pytest.raises(SystemExit, match=r"\['banana'\] have no folder"):
        main(["--data-dir", str(tiny_dataset), "--keywords", "yes,banana",
              "--out", str(tmp_path / "o")])

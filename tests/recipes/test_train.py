"""End-to-end smoke test of ``python -m recipes.kws --quick`` and its stages."""

import json
import os

import numpy as np
import pytest

from recipes.kws import train
from recipes.kws.__main__ import parse_args


def test_quick_recipe_end_to_end(tiny_dataset, tmp_path, capsys):
    cfg = train.Config(data_dir=str(tiny_dataset), out=str(tmp_path / "out"), quick=True)
    state = train.run(cfg)

    out = tmp_path / "out"
    for name in ("gru.keras", "egru.keras", "results.json", "training.png", "event_raster.png"):
        assert (out / name).is_file(), name
    summary = json.loads((out / "results.json").read_text())
    assert set(summary["models"]) == {"gru", "egru"}
    egru = summary["models"]["egru"]
    assert 0.0 <= egru["test_accuracy"] <= 1.0 and 0.0 <= egru["event_rate"] <= 1.0
    assert egru["effective_macs_per_frame"] <= egru["dense_macs_per_frame"]
    assert all(v.startswith("n/a") for v in summary["stages"].values())
    from recipes.kws import mcu_frontend

    if mcu_frontend.available()[0]:
        assert summary["front_end_board"]["status"] == "ok"
        assert summary["front_end_board"]["max_abs_diff_vs_librosa"] <= 1e-3
    assert state["x_training"].shape[1:] == (98, 40)
    # Clean + one augmented copy of the training clips.
    assert len(state["y_training"]) == 2 * len(state["splits"]["training"].labels)
    table = capsys.readouterr().out
    assert "accuracy" in table and "n/a" in table

    # A second run reuses the cached features.
    again = train.stage_features(cfg, {k: state[k] for k in ("splits", "dataset", "data_dir")})
    np.testing.assert_array_equal(again["x_testing"], state["x_testing"])
    assert len(os.listdir(out / "features")) == 1


def test_format_table_marks_missing_values():
    table = train.format_table({"gru": {"test_accuracy": 0.5}})
    assert "0.5000" in table and table.count("n/a") == len(train.TABLE_COLUMNS) - 1


def test_bad_config_is_a_clear_error():
    with pytest.raises(ValueError, match="--units must be >= 1"):
        train.Config(units=0)
    with pytest.raises(ValueError, match="--target-sparsity"):
        train.Config(target_sparsity=1.5)
    with pytest.raises(ValueError, match="unknown"):
        train.Config(models=("lstm",))


def test_cli_arguments():
    cfg = parse_args(["--epochs", "3", "--units", "8", "--models", "egru", "--seed", "2"])
    assert (cfg.epochs, cfg.egru_epochs, cfg.units, cfg.models, cfg.seed) == (3, 6, 8, ("egru",), 2)
    with pytest.raises(SystemExit):
        parse_args(["--units", "-1"])


def test_bad_data_dir_or_keywords_exit_with_message(tiny_dataset, tmp_path):
    from recipes.kws.__main__ import main

    with pytest.raises(SystemExit, match="does not exist"):
        main(["--data-dir", str(tmp_path / "missing"), "--out", str(tmp_path / "o")])
    with pytest.raises(SystemExit, match=r"\['banana'\] have no folder"):
        main(["--data-dir", str(tiny_dataset), "--keywords", "yes,banana",
              "--out", str(tmp_path / "o")])

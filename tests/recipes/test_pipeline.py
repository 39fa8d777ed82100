"""End-to-end smoke test of ``python -m recipes.kws --quick`` and its stages; expected
sizes and counts are derived from the data, the front end and the settings."""

import json
import os

import numpy as np
import pytest

from recipes.kws import batches, config, features, pipeline, prepare
from recipes.kws import data as kws_data
from recipes.kws.__main__ import parse_args

FRAMES = features.num_frames(kws_data.CLIP_SAMPLES)


def _reference_test_accuracy_of_saved_model(out, state):
    import keras

    model = keras.saving.load_model(str(out / "egru.keras"))
    probs = model.predict(state["x_testing"], batch_size=256, verbose=0)
    return float(np.mean(probs.argmax(-1) == state["y_testing"])), model


@pytest.mark.tensorflow_only
def test_quick_recipe_prune_export_stream(tiny_dataset, tmp_path, capsys):
    """Quick EGRU run without the board: pruned during training, int8 export, host
    accuracy, streaming == whole sequence on the host TFLM, Arduino library."""
    import keras

    from recipes.common import export

    cfg = config.Config(data_dir=str(tiny_dataset), out=str(tmp_path / "out"), quick=True,
                        models=("egru",), board=False, calibration_clips=20, stream_check_clips=3)
    state = pipeline.run(cfg)

    out = tmp_path / "out"
    for name in ("egru.keras", "egru_int8.tflite", "egru_stream_int8.tflite", "results.json",
                 "training.png", "event_raster.png", "accuracy_vs_sparsity.png",
                 "arduino/kws_egru/library.properties"):
        assert (out / name).is_file(), name
    summary = json.loads((out / "results.json").read_text())
    egru, egru_int8 = summary["models"]["egru"], summary["models"]["egru_int8"]
    # The reported accuracy is that of the saved model; the event rate that of its events.
    accuracy, model = _reference_test_accuracy_of_saved_model(out, state)
    assert egru["test_accuracy"] == accuracy
    probe = keras.Model(model.inputs, model.get_layer("egru").output)
    events = np.asarray(probe.predict(state["x_testing"][:256], verbose=0)) != 0
    assert egru["event_rate"] == pytest.approx(events.mean(), abs=0.01)
    assert egru["epochs"] == cfg.egru_epochs == len(egru["history"]["val_accuracy"])
    assert egru["effective_macs_per_frame"] <= egru["dense_macs_per_frame"]
    # Pruned during training to the target (whole weights: within one weight of 0.8).
    assert egru["weight_sparsity"] == pytest.approx(0.8, abs=1e-3)
    assert summary["stages"]["prune"].startswith("ok") and summary["stages"]["export"].startswith("ok")
    assert summary["stages"]["run"] == "n/a: --no-board"
    # int8 on the host: the reported accuracy is the saved .tflite's; same sparsity.
    whole = (out / "egru_int8.tflite").read_bytes()
    logits = export.tflite_predict(whole, state["x_testing"])
    assert egru_int8["test_accuracy"] == float(np.mean(logits.argmax(-1) == state["y_testing"]))
    assert egru_int8["tflite_bytes"] == len(whole)
    assert egru_int8["argmax_equal_keras"] >= 0.9
    assert egru_int8["weight_sparsity"] == egru["weight_sparsity"]
    assert 0 < egru_int8["effective_macs_per_frame"] <= egru["dense_macs_per_frame"]
    # Streaming (one frame per invoke, host TFLM) == whole sequence.
    stream = summary["streaming"]
    assert stream["clips"] == cfg.stream_check_clips
    assert stream["argmax_equal_int8"] == 1.0
    assert stream["max_abs_diff_int8"] <= 0.1 * max(stream["logit_range"], 1.0)
    targets = {c["target"]: c for c in summary["targets"]}
    assert targets["instructions"]["pass"] is None
    minutes = sum(m["train_seconds"] for m in summary["models"].values() if "train_seconds" in m) / 60
    assert f"training time {minutes:.1f} min" in targets["train_time"]["text"]
    # --no-board runs nothing on QEMU, the front end's board check included (its own
    # tests: test_mcu_frontend.py, test_mcu_logmel_q.py).
    assert summary["front_end_board"]["status"] == "not run: --no-board"
    assert state["x_training"].shape[1:] == (FRAMES, features.N_MELS)
    # The clean training clips and `augment_copies` augmented copies, stacked.
    clips = len(state["splits"]["training"].labels)
    assert summary["augment_copies"] == batches.default_copies(clips)
    assert len(state["y_training"]) == (1 + batches.default_copies(clips)) * clips
    assert summary["clips"] == {n: len(state[f"y_{n}"]) for n in kws_data.SPLITS}
    printed = capsys.readouterr().out
    assert summary["table"] in printed and "[PASS]" in printed

    # A second run reuses the cached features.
    again = prepare.stage_features(cfg, {k: state[k] for k in ("splits", "dataset", "data_dir")})
    np.testing.assert_array_equal(again["x_testing"], state["x_testing"])
    assert len(os.listdir(out / "features")) == 1


@pytest.mark.slow
@pytest.mark.tensorflow_only
def test_quick_recipe_end_to_end_with_board(tiny_dataset, tmp_path, capsys):
    """`python -m recipes.kws --quick`: every stage incl. the emulated Cortex-M4 (~3 min)."""
    from recipes.common import board

    from prereq import require
    require(*board.board_available())
    cfg = config.Config(data_dir=str(tiny_dataset), out=str(tmp_path / "out"), quick=True,
                        calibration_clips=20, stream_check_clips=3)
    pipeline.run(cfg)
    out = tmp_path / "out"
    for name in ("gru_int8.tflite", "instructions_vs_activity.png", "accuracy_vs_sparsity.png"):
        assert (out / name).is_file(), name
    summary = json.loads((out / "results.json").read_text())
    assert set(summary["models"]) == {"gru", "gru_int8", "egru", "egru_int8"}
    assert "n/a" not in summary["table"]
    runs = summary["board"]
    assert len(runs["egru"]["instructions_per_frame"]) == FRAMES  # one invoke per frame
    assert runs["egru"]["instructions"] == sum(runs["egru"]["instructions_per_frame"])
    assert runs["egru"]["host_equal"] == 1.0 and runs["gru"]["host_equal"] == 1.0
    assert runs["dense_kernel"]["instructions"] > runs["egru"]["instructions"]
    # the cost table's dense GRU row is the SMLAD kernel's run (bit-exact inside the firmware)
    assert summary["cost"]["models"]["gru_dense_int8"]["m4_instructions_per_inference"] == \
        runs["dense_smlad"]["instructions"]
    assert summary["models"]["egru_int8"]["mcu_instructions"] == runs["egru"]["instructions"]
    targets = {c["target"]: c for c in summary["targets"]}
    assert targets["instructions"]["pass"] == (
        runs["dense_kernel"]["instructions"] / runs["egru"]["instructions"] >= 5)
    assert "n/a" not in capsys.readouterr().out.split("\n  prune:")[0]
    assert summary["front_end_board"]["status"] == "ok"
    assert summary["front_end_board"]["max_abs_diff_vs_librosa"] <= 1e-3


def test_bad_config_is_a_clear_error():
    with pytest.raises(ValueError, match="--units must be >= 1"):
        config.Config(units=0)
    with pytest.raises(ValueError, match="--target-sparsity"):
        config.Config(target_sparsity=1.5)
    with pytest.raises(ValueError, match="unknown"):
        config.Config(models=("transformer",))
    with pytest.raises(ValueError, match="--augment-copies must be >= 0"):
        config.Config(augment_copies=-1)
    with pytest.raises(ValueError, match="--prune-block 5 must divide"):
        config.Config(prune_block=5)  # 3 x 128 columns
    with pytest.raises(ValueError, match="--prune-block must be an integer >= 1"):
        config.Config(prune_block=0)


def test_cli_arguments():
    cfg = parse_args(["--epochs", "3", "--units", "8", "--models", "egru", "--seed", "2"])
    assert (cfg.epochs, cfg.egru_epochs, cfg.units, cfg.models, cfg.seed) == (3, 12, 8, ("egru",), 2)
    assert cfg.board and cfg.arduino and cfg.sweep == ()
    cfg = parse_args(["--target-sparsity", "0", "--sweep", "0.5,0.9", "--no-board", "--no-arduino",
                      "--prune-begin", "0.1", "--prune-end", "0.5"])
    assert (cfg.target_sparsity, cfg.sweep, cfg.board, cfg.arduino) == (0.0, (0.5, 0.9), False, False)
    assert (cfg.prune_begin, cfg.prune_end) == (0.1, 0.5)
    assert parse_args(["--augment-copies", "2"]).augment_copies == 2
    assert parse_args(["--prune-block", "4"]).prune_block == 4
    assert parse_args([]).prune_block == 4
    assert parse_args(["--prune-block", "1"]).prune_block == 1
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

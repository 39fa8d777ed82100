"""End-to-end runs of the acoustic-event recipe on tiny generated data (1 fold, 2 s
clips, a few epochs): on the host interpreter (fast) and with the emulated Cortex-M4
and M0 (slow). Reported numbers are recomputed from the saved artefacts."""

import json

import numpy as np
import pytest

from recipes.aed import config, pipeline
from recipes.aed.__main__ import parse_args

TINY = dict(quick=True, clips_per_class=5, seconds=2.0, stream_clips=4, calibration_clips=20,
            stream_check_clips=2)


def _saved_accuracy(out, name, state):
    import keras

    model = keras.saving.load_model(str(out / f"{name}.keras"))
    return float(np.mean(model.predict(state["x_testing"], verbose=0).argmax(-1) == state["y_testing"]))


@pytest.mark.tensorflow_only
def test_tiny_run_on_host(tmp_path):
    from recipes.common import export

    out = tmp_path / "out"
    cfg = config.Config(out=str(out), models=("egru",), board=False, **TINY)
    state = pipeline.run(cfg)
    summary = json.loads((out / "results.json").read_text())
    assert summary["folds"] == [1] and summary["clips"]["testing"] == 10  # 10 classes x 1
    egru, egru_int8 = summary["models"]["egru"], summary["models"]["egru_int8"]
    # One fold: the mean is that fold's accuracy, the saved model's.
    assert egru["fold_accuracies"] == [egru["test_accuracy"]] and egru["test_accuracy_std"] == 0
    assert egru["test_accuracy"] == _saved_accuracy(out, "egru", state)
    whole = (out / "egru_int8.tflite").read_bytes()
    logits = export.tflite_predict(whole, state["x_testing"])
    assert egru_int8["test_accuracy"] == float(np.mean(logits.argmax(-1) == state["y_testing"]))
    assert summary["streaming"]["argmax_equal_int8"] == 1.0  # stream == whole on host TFLM
    assert summary["stages"]["run"] == "n/a: --no-board"
    det = summary["detection"]
    assert det["references"] == 4 and det["frames"] == state["stream"]["features"].shape[0]
    assert 0 <= egru["detection_f1"] <= 1 and egru["detection_f1"] == det["models"]["egru"]["f1"]
    # The gate and threshold were tuned on the validation stream; the ungated run is kept.
    assert egru["detection_threshold"] in (0.5, 0.6, 0.7, 0.8, 0.9)
    assert egru["detection_f1_ungated"] == det["models"]["egru"]["ungated"]["f1"]
    assert egru["fold_cpu_seconds"][0] == egru["cpu_seconds"]
    assert json.loads((out / "folds.json").read_text())["folds_done"] == [1]
    for png in ("confusion_egru.png", "accuracy_vs_event_rate.png", "detection_timeline.png",
                "event_raster.png"):
        assert png in summary["plots"] and (out / png).is_file()


@pytest.mark.slow
@pytest.mark.tensorflow_only
def test_tiny_run_on_boards(tmp_path):
    from prereq import require_tools

    require_tools("arm-none-eabi-gcc", "qemu-system-arm", fix="make micro-toolchain")
    out = tmp_path / "out"
    cfg = config.Config(out=str(out), models=("gru", "egru", "embedded_gru"), **TINY)
    pipeline.run(cfg)
    summary = json.loads((out / "results.json").read_text())
    assert summary["stages"]["run"].startswith("ok"), summary["stages"]["run"]
    for name in ("egru_int8", "gru_int8"):
        row = summary["models"][name]
        assert row["host_mcu_agreement"] == 1.0  # int8 bit-exact host TFLM vs board
        assert row["mcu_instructions_per_second"] == row["mcu_instructions"] / cfg.seconds
    q15 = summary["models"]["embedded_gru_q15"]
    assert q15["m0_host_equal"] is True  # the M0 kernel == the host C kernel, bit for bit
    assert q15["m0_real_time"] == (q15["m0_instructions_per_second"] <= 48e6 / 1.5)


def test_cli_errors_name_the_flag():
    with pytest.raises(SystemExit):
        parse_args(["--folds", "6"])
    for kwargs, flag in ((dict(folds=0), "--folds"), (dict(frame_ms=15), "--frame-ms"),
                         (dict(subset="esc20"), "--subset"), (dict(models=("rnn",)), "--models"),
                         (dict(detection_threshold=1.0), "--detection-threshold"),
                         (dict(gap_seconds=(2.0, 1.0)), "--gap-seconds"),
                         (dict(patience=0), "--patience")):
        with pytest.raises(ValueError, match=flag):
            config.Config(**kwargs)


def test_folds_mean_std_and_saved_models(tmp_path, monkeypatch):
    """Two folds with a stub trainer: the row holds the fold mean and std, the state keeps
    fold 1 (its test clips, its model saved at <out>/gru.keras), fold 2's model goes to
    <out>/fold-2/."""
    import keras

    from recipes.aed import prepare, training

    def stub_fit(cfg, state, name, target_sparsity=None):
        model = keras.Sequential([keras.Input(state["x_training"].shape[1:]), keras.layers.GRU(2),
                                  keras.layers.Dense(len(state["class_names"]))])
        # the keys of a real recipes.common.training.fit row that the fold summary reads
        return model, {"test_accuracy": 0.5 + 0.25 * (state["test_fold"] - 1), "train_seconds": 1.0,
                       "cpu_seconds": 2.0, "epochs": 3, "best_epoch": 2}

    monkeypatch.setattr(training, "fit_one", stub_fit)
    cfg = config.Config(out=str(tmp_path / "out"), clips_per_class=5, seconds=1.0, folds=2,
                        augment_copies=1, models=("gru",))
    (tmp_path / "out").mkdir()
    state = prepare.stage_features(cfg, prepare.stage_data(cfg, {}))
    state = training.stage_train(cfg, state)
    row = state["results"]["gru"]
    assert row["fold_accuracies"] == [0.5, 0.75]
    assert row["test_accuracy"] == pytest.approx(0.625) and row["test_accuracy_std"] == pytest.approx(0.125)
    assert state["folds"] == [1, 2] and state["test_fold"] == 1
    assert set(state["dataset"].folds[state["index"]["testing"]]) == {1}
    assert len(state["y_training"]) == 2 * len(state["index"]["training"])  # clean + 1 copy
    assert (tmp_path / "out" / "gru.keras").is_file()
    assert (tmp_path / "out" / "fold-2" / "gru.keras").is_file()
    assert row["fold_cpu_seconds"] == [2.0, 2.0] and row["cpu_seconds_all_folds"] == 4.0
    assert row["fold_epochs_run"] == [3, 3] and row["fold_best_epochs"] == [2, 2]

"""The shared export and board stages export a Delta-GRU model like the EGRU: int8
whole-sequence and streaming ``.tflite`` (``KE_DELTA_GRU`` from the op registry), a
``delta_gru_int8`` row whose accuracy is that of the int8 model on the host interpreter,
and a streaming run on the emulated Cortex-M4 equal to the host TFLM bit for bit."""

import types

import numpy as np
import pytest

from recipes.common import evaluate, export

pytestmark = pytest.mark.tensorflow_only
FRAMES, FEATURES, UNITS, CLASSES = 20, 8, 8, 4


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """A tiny delta model through ``evaluate.stage_export``: (cfg, state)."""
    import keras

    from keras_events import DeltaGRUCell

    keras.utils.set_random_seed(3)
    model = keras.Sequential([
        keras.Input((FRAMES, FEATURES)),
        keras.layers.RNN(DeltaGRUCell(UNITS, input_threshold=0.2, hidden_threshold=0.1, seed=0),
                         return_sequences=True, name="delta_gru"),
        keras.layers.GlobalAveragePooling1D(),
        keras.layers.Dense(CLASSES, activation="softmax"),
    ])
    model.layers[-1].set_weights([
        np.random.default_rng(1).normal(0, 2.0, (UNITS, CLASSES)).astype("float32"),
        np.zeros(CLASSES, "float32")])
    rng = np.random.default_rng(2)
    x = np.cumsum(rng.normal(0, 0.5, (24, FRAMES, FEATURES)), axis=1).astype("float32")
    y = rng.integers(0, CLASSES, 24)
    cfg = types.SimpleNamespace(out=str(tmp_path_factory.mktemp("delta")), calibration_clips=16,
                                stream_check_clips=4, board=False, units=UNITS)
    state = {"models": {"delta_gru": model},
             "results": {"delta_gru": {"test_accuracy": 0.5, "weight_sparsity": 0.0,
                                       "event_rate": 0.3, "hidden_delta_rate": 0.3,
                                       "input_delta_rate": 0.4}},
             "x_training": x, "x_testing": x, "y_testing": y}
    state = evaluate.stage_export(cfg, state, log=lambda m: None)
    return cfg, state


def test_delta_gru_is_exported_whole_and_streaming(exported):
    cfg, state = exported
    assert {"delta_gru", "delta_gru_stream"} <= set(state["tflite"])
    row = state["results"]["delta_gru_int8"]
    # independent: the written .tflite on the host interpreter, argmax against the labels
    with open(f"{cfg.out}/delta_gru_int8.tflite", "rb") as f:
        logits = export.tflite_predict(f.read(), state["x_testing"])
    assert row["test_accuracy"] == pytest.approx(np.mean(logits.argmax(-1) == state["y_testing"]))
    assert row["hidden_delta_rate"] == 0.3 and row["event_rate"] == 0.3  # the float model's
    assert 0 < row["effective_macs_per_frame"] <= 3 * UNITS * (FEATURES + UNITS)
    assert "delta_gru_int8.tflite" in state["stages"]["export"]


def test_delta_gru_streams_like_the_whole_sequence(exported):
    cfg, state = exported
    evaluate.stage_run(cfg, state, example=0, log=lambda m: None)
    assert state["results"]["delta_gru_int8"]["stream_argmax_equal_int8"] == 1.0


@pytest.mark.slow
def test_delta_gru_runs_on_the_board_bit_exact(exported):
    from recipes.common import board

    ok, why = board.board_available()
    if not ok:
        pytest.skip(why)
    _, state = exported
    tflite = {k: v for k, v in state["tflite"].items() if k.startswith("delta_gru")}
    runs = board.board_runs(tflite, state["x_testing"][0], UNITS, state["x_training"][:4])
    run = runs["delta_gru"]
    assert "error" not in run, run
    assert run["host_equal"] == 1.0
    assert len(run["instructions_per_frame"]) == FRAMES and run["instructions"] > 0

"""The recipe's eGRU stage (recipes/kws/embedded.py) on a tiny model: int8 export with the
KE_EGRU_EMB op, host accuracy row, streaming == whole sequence, the streaming model on the
Cortex-M4 equal to host TFLM, the Q15 kernel on the Cortex-M0 equal to NumPy."""
import types

import numpy as np
import pytest
from prereq import require_tools


@pytest.fixture(scope="module")
def stage(tmp_path_factory):
    import keras

    from recipes.kws import embedded
    from recipes.kws.models import build_embedded_gru

    keras.utils.set_random_seed(0)
    model = build_embedded_gru(types.SimpleNamespace(units=8, seed=0), frames=12, mels=5,
                               classes=3)
    rng = np.random.default_rng(1)
    x = rng.normal(0, 1.5, (48, 12, 5)).astype(np.float32)
    state = {"models": {embedded.NAME: model}, "results": {}, "x_training": x[:32],
             "x_testing": x[32:], "y_testing": rng.integers(0, 3, 16)}
    cfg = types.SimpleNamespace(out=str(tmp_path_factory.mktemp("emb")), calibration_clips=32,
                                stream_check_clips=4)
    row = embedded.evaluate(cfg, state, log=lambda *a: None)
    return cfg, state, row


@pytest.mark.tensorflow_only
def test_export_row_and_streaming(stage):
    from keras_events.micro import model_ops

    cfg, state, row = stage
    assert "KE_EGRU_EMB" in model_ops.model_op_names(state["tflite"]["embedded_gru"])
    assert "KE_EGRU_EMB" in model_ops.model_op_names(state["tflite"]["embedded_gru_stream"])
    assert row["argmax_equal_keras"] >= 0.8  # int8 in, Q15 kernel, int8 out vs float Keras
    assert row["stream_argmax_equal_int8"] == 1.0
    assert 0 <= row["test_accuracy"] <= 1 and row["tflite_bytes"] > 0


@pytest.mark.tensorflow_only
def test_boards_m4_equals_host_and_m0_equals_numpy(stage):
    require_tools("arm-none-eabi-gcc", "qemu-system-arm", fix="make micro-toolchain")
    from recipes.kws import embedded

    cfg, state, row = stage
    clip = state["x_testing"][0]
    embedded.run_boards(cfg, state, clip, log=lambda *a: None)
    assert "m0_error" not in row and "m4_error" not in row, row
    assert row["host_mcu_agreement"] == 1.0 and row["mcu_instructions"] > 0
    assert row["m0_equal_numpy"] == 1.0
    assert row["m0_instructions_per_second"] == pytest.approx(
        100 * row["m0_instructions_per_frame"])

"""keras_events.micro pieces that need no TFLM build: op names, input packing, output parsing."""
import pathlib

import numpy as np
import pytest

from keras_events.micro import firmware, model_ops, qemu, tflm_build


def test_resolver_methods_exist_in_tflm():
    tree = tflm_build.tflm_dir_from_env() / "cmsis_nn"
    calls = model_ops.resolver_calls(["CONV_2D", "FULLY_CONNECTED", "SPLIT_V", "KE_EGRU",
                                      "UNIDIRECTIONAL_SEQUENCE_LSTM"], tree)
    assert calls[:3] == ["resolver.AddConv2D()", "resolver.AddFullyConnected()", "resolver.AddSplitV()"]
    assert "Register_KE_EGRU" in calls[3]
    with pytest.raises(ValueError, match="MY_OP"):
        model_ops.resolver_calls(["MY_OP"], tree)


def test_model_op_names_rejects_non_tflite():
    with pytest.raises(ValueError, match="TFL3"):
        model_ops.model_op_names(b"not a model at all")


def test_input_bytes_orders_invoke_major():
    a = np.arange(6, dtype=np.int8).reshape(3, 2)
    b = np.arange(30, 33, dtype=np.int8).reshape(3, 1)
    data, types = firmware.input_bytes([a, b])
    assert list(data) == [0, 1, 30, 2, 3, 31, 4, 5, 32] and types == [9, 9]
    with pytest.raises(ValueError, match="dtype"):
        firmware.input_bytes(np.zeros(3, np.float64))


def test_parse_output_decodes_values_counts_and_errors():
    stdout = ("KE_INPUTS 2\nKE_INVOKE 0\nKE_OUT 0 0 9 1x3 -1 0 5\nKE_OUT 0 1 1 2 3fc00000 bf800000\n"
              "KE_INVOKE 1\nsome TFLM message\nKE_ARENA_USED 1234\nKE_DONE\n")
    res = qemu.parse_output(stdout, "KE_COUNT 0 100\nKE_COUNT 1 101\nKE_TOTAL 5000\n", 0)
    assert res.ok and res.instructions == [100, 101] and res.arena_used_bytes == 1234
    np.testing.assert_array_equal(res.outputs[0][0], np.array([[-1, 0, 5]], np.int8))
    np.testing.assert_array_equal(res.outputs[0][1], np.array([1.5, -1.0], np.float32))
    bad = qemu.parse_output("KE_ERROR AllocateTensors failed\n", "", 2)
    assert not bad.ok and "AllocateTensors" in bad.reason()


def test_cache_key_depends_on_flags():
    d = tflm_build.tflm_dir_from_env()
    assert tflm_build.cache_key(d, tflm_build.VARIANTS["host"]) != \
        tflm_build.cache_key(d, tflm_build.VARIANTS["host-asan"])


def test_bad_tflm_dir_is_a_clear_error(monkeypatch, tmp_path: pathlib.Path):
    monkeypatch.setenv("TFLM_DIR", str(tmp_path))
    with pytest.raises(FileNotFoundError, match="TFLM_DIR"):
        tflm_build.tflm_dir_from_env()

"""Firmware on QEMU mps2-an386 (Cortex-M4F) with the instruction-count plugin."""
import numpy as np
import pytest

from keras_events.micro import qemu
from keras_events.micro.host_interpreter import Interpreter

pytestmark = [pytest.mark.tflm, pytest.mark.qemu]


@pytest.fixture(scope="module")
def fc_run(tflm_m4, fc_int8):
    model, x, _ = fc_int8
    return qemu.run_model(model, x, arena_size=16 * 1024)


def test_board_outputs_equal_host_tflm_bit_for_bit(fc_run, host_lib, fc_int8):
    model, x, _ = fc_int8
    res, _ = fc_run
    interp = Interpreter(model, arena_size=16 * 1024)
    host = np.stack([interp.run(row)[0] for row in x])
    board = np.stack([outs[0] for outs in res.outputs])
    assert board.dtype == np.int8 and board.shape == host.shape == (len(x), 1, 8)
    np.testing.assert_array_equal(board, host)


def test_memory_report(fc_run, fc_int8):
    res, mem = fc_run
    assert 0 < res.arena_used_bytes <= 16 * 1024 and mem["arena_used_bytes"] == res.arena_used_bytes
    assert mem["flash_model_bytes"] == len(fc_int8[0])
    assert 0 < mem["flash_code_bytes"] < mem["flash_bytes"]


def test_instruction_counts_are_exact_and_repeatable(fc_run, fc_int8, tflm_m4):
    model, x, _ = fc_int8
    res, _ = fc_run
    assert len(res.instructions) == len(x)
    assert all(n > 1000 for n in res.instructions)
    again, _ = qemu.run_model(model, x, arena_size=16 * 1024, print_outputs=False)
    assert again.instructions == res.instructions


def test_too_small_arena_fails_cleanly(tflm_m4, fc_int8):
    model, x, _ = fc_int8
    res, _ = qemu.run_model(model, x, arena_size=512, check=False)
    assert res.exit_code == 2  # setup error, not a fault (3) or a hang
    assert any("AllocateTensors failed" in e for e in res.errors)
    assert "arena" in res.reason().lower()


@pytest.mark.parametrize("corrupt", ["truncated", "bad_identifier"])
def test_malformed_model_fails_cleanly(tflm_m4, fc_int8, corrupt):
    model, x, _ = fc_int8
    bad = model[: len(model) // 2] if corrupt == "truncated" else model[:4] + b"XXXX" + model[8:]
    res, _ = qemu.run_model(bad, x, check=False, ops=["FULLY_CONNECTED", "SOFTMAX"])
    assert res.exit_code == 2
    assert any("model rejected" in e for e in res.errors) and "model:" in res.reason()


def test_failure_raises_firmware_error(tflm_m4, fc_int8):
    with pytest.raises(qemu.FirmwareError, match="AllocateTensors"):
        qemu.run_model(fc_int8[0], fc_int8[1], arena_size=512)


@pytest.mark.parametrize("board", ["mps2-an386", "host"])
def test_cli_run_json(tflm_m4, host_lib, fc_int8, fc_run, tmp_path, board):
    import json
    import os
    import subprocess
    import sys
    from micro_fixtures import REPO_ROOT
    model, x, _ = fc_int8
    (tmp_path / "m.tflite").write_bytes(model)
    np.save(tmp_path / "x.npy", x)
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT))
    r = subprocess.run([sys.executable, "-m", "keras_events.micro", "run", str(tmp_path / "m.tflite"),
                        "--input", str(tmp_path / "x.npy"), "--board", board, "--arena-size", "16384",
                        "--json"], capture_output=True, text=True, cwd=REPO_ROOT, env=env, timeout=300)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout.strip().splitlines()[-1])
    got = np.array([o[0]["values"] for o in out["outputs"]], np.int8)
    np.testing.assert_array_equal(got, np.stack([o[0].ravel() for o in fc_run[0].outputs]))
    assert (out["instructions"] == fc_run[0].instructions) if board != "host" else out["instructions"] is None
    assert out["memory"]["arena_used_bytes"] > 0


def test_cli_reports_errors_in_one_line(tmp_path):
    import os
    import subprocess
    import sys
    from micro_fixtures import REPO_ROOT
    (tmp_path / "bad.tflite").write_bytes(b"nonsense")
    np.save(tmp_path / "x.npy", np.zeros(3, np.int8))
    r = subprocess.run([sys.executable, "-m", "keras_events.micro", "run", str(tmp_path / "bad.tflite"),
                        "--input", str(tmp_path / "x.npy")], capture_output=True, text=True,
                       cwd=REPO_ROOT, env=dict(os.environ, PYTHONPATH=str(REPO_ROOT)), timeout=120)
    assert r.returncode == 1 and "error:" in r.stderr and "TFL3" in r.stderr


def test_arena_sizes_near_the_need_never_fault(tflm_m4, fc_int8, fc_run):
    model, x, _ = fc_int8
    need = fc_run[0].arena_used_bytes
    for size in (need - 200, need - 96, need - 16, need + 64):
        res, _ = qemu.run_model(model, x[:1], arena_size=size, check=False, timeout=60)
        assert res.exit_code in (0, 2), (size, res.exit_code, res.reason())
        assert res.exit_code == 0 or "AllocateTensors failed" in res.reason()

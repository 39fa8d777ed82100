"""TFLite Micro on the Cortex-M0 board (QEMU microbit, 256 KiB flash, 16 KiB RAM): the eGRU
int8 `.tflite` through the ARMv6-M TFLM firmware equals host TFLite bit for bit; a model,
inputs or arena that do not fit, and an arena too small for the model, fail with a reason.

The models come from model_factory.py (egru_emb_int8: outputs of the host TFLite
interpreter with the project's ops, the independent reference)."""
import numpy as np
import pytest

from micro_fixtures import make_model

pytestmark = [pytest.mark.tflm]


@pytest.fixture(scope="module")
def emb():
    d = make_model("egru_emb_int8")
    return {name: (d / f"{name}.tflite").read_bytes() for name in ("seq", "stream")} | {
        name: np.load(d / f"{name}.npy") for name in ("x_seq", "y_seq", "x_stream", "y_stream")}


@pytest.mark.qemu
def test_m0_tflm_runs_the_egru_emb_sequence_model_bit_exact(tflm_m0, emb):
    """Two whole sequences (two invokes, the state reset by the op each invoke), units in
    a full and a partial group of four: every output equals host TFLite's."""
    from keras_events.micro import run

    board = run(emb["seq"], emb["x_seq"], board="microbit")
    got = np.stack([o[0].reshape(emb["y_seq"].shape[1:]) for o in board.outputs])
    np.testing.assert_array_equal(got, emb["y_seq"])
    assert np.abs(emb["y_seq"].astype(int)).max() > 20, "the test model should not sit at zero"
    assert len(board.instructions) == 2 and min(board.instructions) > 0
    mem = board.memory
    assert mem["flash_bytes"] <= 256 * 1024 and mem["board_ram_bytes"] == 16 * 1024
    assert mem["static_ram_bytes"] + mem["stack_bytes"] <= 16 * 1024
    assert 0 < mem["arena_used_bytes"] <= mem["arena_size"]
    assert 0 < mem["stack_used_bytes"] <= mem["stack_bytes"]
    assert mem["ram_used_bytes"] < 16 * 1024


@pytest.mark.qemu
@pytest.mark.slow
def test_m0_tflm_streams_the_keyword_sized_egru_bit_exact(tflm_m0, emb):
    """40 inputs, 64 units, one frame per invoke with the state kept (the M0 benchmark's
    model; the op's Thumb-1 routines run when the code tensors are word-aligned)."""
    from keras_events.micro import run

    x, y = emb["x_stream"], emb["y_stream"]
    board = run(emb["stream"], x, board="microbit")
    got = np.stack([o[0].reshape(y.shape[1:]) for o in board.outputs])
    np.testing.assert_array_equal(got, y)
    assert len(set(map(tuple, y.reshape(len(y), -1)))) == len(y), "frames should differ"
    counts = np.array(board.instructions[1:])
    assert counts.max() - counts.min() < 0.02 * counts.mean()


@pytest.mark.qemu
def test_m0_tflm_arena_too_small_fails_with_the_reason(tflm_m0, emb):
    from keras_events.micro import FirmwareError, run

    with pytest.raises(FirmwareError, match="arena too small"):
        run(emb["seq"], emb["x_seq"][:1], board="microbit", arena_size=512)


def test_m0_tflm_arena_beyond_the_ram_fails_before_building(emb):
    from keras_events.micro import BoardFitError, run

    with pytest.raises(BoardFitError, match=r"arena_size=20000.*16 KiB RAM"):
        run(emb["seq"], emb["x_seq"][:1], board="microbit", arena_size=20000)


def test_m0_tflm_model_beyond_the_flash_fails_before_building(emb):
    from keras_events.micro import BoardFitError, run

    with pytest.raises(BoardFitError, match="256 KiB flash"):
        run(_padded(emb["seq"], 300 * 1024), emb["x_seq"][:1], board="microbit")


def _padded(model: bytes, extra: int) -> bytes:
    """The model with an unused buffer of ``extra`` bytes (a valid, larger flatbuffer)."""
    from keras_events import tflite_file
    m = tflite_file.load(model)
    buf = tflite_file.schema().BufferT()
    buf.data = np.zeros(extra, np.uint8)
    m.buffers.append(buf)
    return tflite_file.dump(m)


@pytest.mark.qemu
def test_m0_tflm_image_beyond_flash_or_ram_fails_at_link_with_the_overflow(tflm_m0, emb):
    """Model + inputs within 256 KiB but TFLM too (flash), and an arena that fits the RAM
    alone but not with the static data and stack: the link's overflow, reported."""
    from keras_events.micro import BoardFitError, run

    with pytest.raises(BoardFitError, match=r"bytes too large for the 256 KiB flash"):
        run(_padded(emb["seq"], 230 * 1024), emb["x_seq"][:1], board="microbit")
    with pytest.raises(BoardFitError, match=r"arena_size=15000 is \d+ bytes too large .* "
                                            r"use arena_size <= \d+"):
        run(emb["seq"], emb["x_seq"][:1], board="microbit", arena_size=15000)


def test_cli_names_the_microbit_limits(tmp_path, emb, capsys):
    from keras_events.micro.__main__ import main

    model = tmp_path / "big.tflite"
    model.write_bytes(_padded(emb["seq"], 300 * 1024))
    np.save(tmp_path / "x.npy", emb["x_seq"][:1])
    assert main(["run", str(model), "--input", str(tmp_path / "x.npy"),
                 "--board", "microbit"]) == 1
    assert "256 KiB flash of board 'microbit'" in capsys.readouterr().err


def test_host_tflm_refuses_a_file_of_another_egru_emb_version(host_lib, emb):
    """The TFLM glue checks the op version too (the firmware runs the same glue)."""
    from flatbuffers import flexbuffers

    from keras_events import tflite_file
    from keras_events.micro import MicroModelError, run

    model = tflite_file.load(emb["seq"])
    for op in model.subgraphs[0].operators:
        if model.operatorCodes[op.opcodeIndex].customCode == b"KE_EGRU_EMB":
            options = tflite_file.custom_options(op)
            assert options["version"] == 2
            options["version"] = 1
            op.customOptions = np.frombuffer(flexbuffers.Dumps(options), np.uint8)
    with pytest.raises(MicroModelError, match="version 1 of this op; this build runs version 2"):
        run(tflite_file.dump(model), emb["x_seq"][:1], board="host")

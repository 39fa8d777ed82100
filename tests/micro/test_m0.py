"""The Cortex-M0 board (QEMU microbit): the eGRU Q15 firmware equals the host C core and
the NumPy statement bit for bit, fits the board, counts instructions; the eGRU int8
`.tflite` on host TFLM equals host TFLite; board list entries. (TFLM firmware on the M0:
test_m0_tflm.py.)"""
import numpy as np
import pytest
from prereq import require_tools

from keras_events.ops import egru_emb, egru_emb_native


def _model(features, units, seed=0):
    rng = np.random.default_rng(seed)
    kernel = rng.normal(0, 0.3, (features, 2 * units)).astype(np.float32)
    recurrent = rng.normal(0, 0.3, (units, 2 * units)).astype(np.float32)
    bias = rng.normal(0, 0.3, 2 * units).astype(np.float32)
    x = np.clip(np.round(rng.uniform(-1.1, 1.1, (6, features)) * 32768), -32767, 32767)
    return kernel, recurrent, bias, x.astype(np.int16)


@pytest.mark.qemu
@pytest.mark.parametrize("features, units", [(40, 64), (7, 5)])
def test_m0_firmware_equals_host_core_and_numpy_bit_for_bit(features, units):
    require_tools("arm-none-eabi-gcc", "qemu-system-arm", fix="make micro-toolchain")
    from keras_events.micro import m0

    kernel, recurrent, bias, x = _model(features, units)
    run = m0.run_egru_emb(kernel, recurrent, bias, x, timeout=300)
    host = egru_emb_native.run_q15(x, kernel, recurrent, bias)
    np.testing.assert_array_equal(run["h"], host)
    h = np.zeros((1, units), np.int16)
    codes = egru_emb.codes(kernel), egru_emb.codes(recurrent), egru_emb.bias_q15(bias)
    for t in range(len(x)):
        h = egru_emb.reference_q15_step(*codes, x[t:t + 1], h)
        np.testing.assert_array_equal(run["h"][t], h[0], err_msg=f"step {t}")
    assert np.abs(host).max() > 1000, "the test model should not sit at zero"
    # one counted region per step; the dense kernel's cost hardly depends on the values
    counts = np.array(run["instructions"])
    assert len(counts) == len(x) and counts.min() > 0
    assert counts.max() - counts.min() < 0.02 * counts.mean()
    mem = run["memory"]
    assert mem["flash_bytes"] < 256 * 1024
    assert mem["static_ram_bytes"] + mem["stack_bytes"] <= 16 * 1024


def test_board_list_has_the_m0_with_its_tflm_library_and_the_m4_unchanged():
    from keras_events._native import board, tflm
    from keras_events.micro import BOARDS

    m0 = board.BOARDS["microbit"]
    assert m0.machine == "microbit" and "-mcpu=cortex-m0" in m0.arch
    assert m0.tflm == "m0" and tflm.VARIANTS["m0"].tree == "ref"
    assert "-mcpu=cortex-m0" in tflm.VARIANTS["m0"].flags
    assert "-mfloat-abi=soft" in tflm.VARIANTS["m0"].flags
    assert (m0.flash, m0.ram) == (256 << 10, 16 << 10) and m0.default_arena is None
    assert board.BOARDS["mps2-an386"].tflm == "m4" and board.BOARDS["mps2-an386"].arch == board.M4_ARCH
    assert "microbit" in BOARDS
    with pytest.raises(ValueError, match="choose one of"):
        board.get_board("pico")


@pytest.mark.tflm
@pytest.mark.tensorflow_only
def test_host_tflm_equals_host_tflite_int8(host_lib):
    import keras
    import tensorflow as tf

    from keras_events import EmbeddedGRUCell
    from keras_events.export import Interpreter, to_tflite
    from keras_events.micro import run

    kernel, recurrent, bias, _ = _model(6, 8, seed=1)
    model = keras.Sequential([keras.Input((10, 6)),
                              keras.layers.RNN(EmbeddedGRUCell(8, quantize=True))])
    model.layers[0].cell.set_weights([kernel, recurrent, bias])
    rep = np.random.default_rng(2).uniform(-1, 1, (32, 10, 6)).astype(np.float32)
    tflite = to_tflite(model, quantize="int8", representative_data=rep,
                       inference_input_type=tf.int8, inference_output_type=tf.int8)
    interpreter = Interpreter(model_content=tflite)
    interpreter.allocate_tensors()
    inp, out = interpreter.get_input_details()[0], interpreter.get_output_details()[0]
    x = np.random.default_rng(3).integers(-128, 128, (1, 10, 6)).astype(np.int8)
    interpreter.set_tensor(inp["index"], x)
    interpreter.invoke()
    expected = interpreter.get_tensor(out["index"])
    got = run(tflite, x, board="host").outputs[0][0]
    np.testing.assert_array_equal(got.reshape(expected.shape), expected)


@pytest.mark.qemu
@pytest.mark.tflm
@pytest.mark.tensorflow_only
def test_m4_tflm_firmware_runs_the_egru_emb_tflite_bit_exact(tflm_m4):
    """The op also runs in the TFLM firmware of the Cortex-M4 board (same C core)."""
    import keras
    import tensorflow as tf

    from keras_events import EmbeddedGRUCell
    from keras_events.export import Interpreter, to_tflite
    from keras_events.micro import run

    kernel, recurrent, bias, _ = _model(6, 8, seed=4)
    model = keras.Sequential([keras.Input((10, 6)), keras.layers.RNN(
        EmbeddedGRUCell(8, quantize=True), return_sequences=True)])
    model.layers[0].cell.set_weights([kernel, recurrent, bias])
    rep = np.random.default_rng(5).uniform(-1, 1, (32, 10, 6)).astype(np.float32)
    tflite = to_tflite(model, quantize="int8", representative_data=rep,
                       inference_input_type=tf.int8, inference_output_type=tf.int8)
    x = np.random.default_rng(6).integers(-128, 128, (1, 10, 6)).astype(np.int8)
    interpreter = Interpreter(model_content=tflite)
    interpreter.allocate_tensors()
    interpreter.set_tensor(interpreter.get_input_details()[0]["index"], x)
    interpreter.invoke()
    expected = interpreter.get_tensor(interpreter.get_output_details()[0]["index"])
    board = run(tflite, x, board="mps2-an386")
    np.testing.assert_array_equal(board.outputs[0][0].reshape(expected.shape), expected)
    assert board.instructions[0] > 0


@pytest.mark.qemu
def test_m0_softsign_paths_at_their_boundaries_equal_numpy():
    """The M0 routine's softsign takes four paths (m <= 2^15, <= 3 2^15, <= 7 2^15, beyond,
    with the clamp at 2^24): pre-activations set by the bias alone (x = 0, U = 0 weights) on each
    side of every boundary, through two steps (the second with h_{t-1} != 0)."""
    require_tools("arm-none-eabi-gcc", "qemu-system-arm", fix="make micro-toolchain")
    from keras_events.micro import m0

    edges = [0, 1, 2, 32767, 32768, 32769, 65536, 98303, 98304, 98305, 229375, 229376,
             229377, 2**24 - 1, 2**24, 2**24 + 1, 2**29, 12345, 70000, 150000]
    a = np.array(edges + [-v for v in edges], np.int64)
    units = len(a)  # 40: full groups of four, the Thumb-1 path
    bias = np.concatenate([a, a[::-1]]).astype(np.float64) / 32768.0  # z and h~ sums
    kernel = np.zeros((1, 2 * units), np.float32)
    recurrent = np.zeros((units, 2 * units), np.float32)
    x = np.zeros((2, 1), np.int16)
    run = m0.run_egru_emb(kernel, recurrent, bias, x, timeout=300)
    h = np.zeros((1, units), np.int16)
    codes = egru_emb.codes(kernel), egru_emb.codes(recurrent), egru_emb.bias_q15(bias)
    for t in range(2):
        h = egru_emb.reference_q15_step(*codes, x[t:t + 1], h)
        np.testing.assert_array_equal(run["h"][t], h[0], err_msg=f"step {t}")
    assert len(set(np.abs(run["h"][1]).tolist())) > 10

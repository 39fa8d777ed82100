"""KE_EGRU with block-4 packed matrices (weights pruned in 1 x 4 column blocks): the
Cortex-M4 path (ldm/sxtb16/smlabb groups, custom_ops/core/ke_sparse.h) gives the same int8
outputs as host TFLM and host TFLite (portable C), and costs fewer instructions than the
same weights with the blocks broken up (plain form)."""
import numpy as np
import pytest

from keras_events.micro import model_ops
from keras_events.micro.host_interpreter import Interpreter

pytestmark = [pytest.mark.tflm]

ARENA = 32 * 1024
FEATURES, UNITS, T = 12, 24, 8


def _weights(sparsity, break_blocks=False, seed=3):
    rng = np.random.default_rng(seed)

    def matrix(rows, scale):
        w = (scale * rng.standard_normal((rows, 3 * UNITS))).astype(np.float32)
        keep = np.repeat(rng.random((rows, 3 * UNITS // 4)) >= sparsity, 4, axis=1)
        keep[0] = True  # one full row: the dense-row path too
        if break_blocks:  # one zero in every kept group: the packer stores it plain
            keep[:, 1::4] = False
        return np.where(keep, w, 0.0).astype(np.float32)

    bias = np.zeros((2, 3 * UNITS), np.float32)
    bias[0, :UNITS] = 1.0
    bias[0, 2 * UNITS:] = rng.normal(0.3, 0.8, UNITS)
    return [matrix(FEATURES, 0.4), matrix(UNITS, 0.6), bias,
            np.full((UNITS,), -1.0, np.float32)]


def _model(weights):
    import keras
    import tensorflow as tf

    from keras_events import EGRU
    from keras_events.export import to_tflite
    model = keras.Sequential([keras.Input((T, FEATURES), batch_size=1),
                              EGRU(UNITS, return_sequences=True)])
    model.layers[-1].cell.set_weights(weights)
    rep = np.random.default_rng(1).normal(0, 1, (16, T, FEATURES)).astype(np.float32)
    return to_tflite(model, quantize="int8", representative_data=rep,
                     inference_input_type=tf.int8, inference_output_type=tf.int8)


def _op_input(model: bytes, i: int, dtype) -> np.ndarray:
    s = model_ops.schema()
    m = s.ModelT.InitFromPackedBuf(bytearray(model), 0)
    codes = [c.customCode for c in m.operatorCodes]
    op = next(o for o in m.subgraphs[0].operators if codes[o.opcodeIndex] == b"KE_EGRU")
    return np.frombuffer(bytes(m.buffers[m.subgraphs[0].tensors[op.inputs[i]].buffer].data), dtype)


@pytest.fixture(scope="module")
def models():
    block, plain = _model(_weights(0.6)), _model(_weights(0.6, break_blocks=True))
    x_f = np.random.default_rng(2).normal(0, 1, (3, T, FEATURES)).astype(np.float32)
    scale, zp = Interpreter(block, arena_size=ARENA).get_input_details()[0]["quantization"]
    x = np.clip(np.round(x_f / scale) + zp, -128, 127).astype(np.int8)
    return block, plain, x


def test_block_model_is_block4_with_partial_rows(models):
    block, plain, _ = models
    for index, offsets in ((2, 3), (5, 6)):
        idx, off = _op_input(block, index, np.int16), _op_input(block, offsets, np.int32)
        assert off[-1] >= 4 and idx[1] < 0, "block-4 form expected"
        assert (np.diff(off) < 3 * UNITS).any() and (np.diff(off) == 3 * UNITS).any()
        assert _op_input(plain, index, np.int16)[1] >= 0, "broken blocks stay plain"


def test_block_model_host_tflm_equals_host_tflite(host_lib, models):
    from keras_events.export import Interpreter as TfliteInterpreter
    block, _, x = models
    tfl = TfliteInterpreter(model_content=block)
    tfl.allocate_tensors()
    d_in, d_out = tfl.get_input_details()[0], tfl.get_output_details()[0]
    micro = Interpreter(block, arena_size=ARENA)
    for seq in x:
        tfl.set_tensor(d_in["index"], seq[None])
        tfl.invoke()
        expected = tfl.get_tensor(d_out["index"])
        np.testing.assert_array_equal(micro.run(seq[None])[0], expected)
    zp = d_out["quantization"][1]
    y = micro.run(x[:1])[0]
    assert 0.05 < (y != zp).mean() < 0.95, "partial activity expected"


@pytest.mark.qemu
def test_block_board_equals_host_and_is_cheaper(tflm_m4, host_lib, models):
    from keras_events.micro import qemu
    block, plain, x = models
    res, _ = qemu.run_model(block, x, arena_size=ARENA, timeout=300)
    interp = Interpreter(block, arena_size=ARENA)
    host = np.stack([interp.run(seq[None])[0] for seq in x])
    np.testing.assert_array_equal(np.stack([o[0] for o in res.outputs]), host)
    res_plain, _ = qemu.run_model(plain, x, arena_size=ARENA, print_outputs=False, timeout=300)
    # the plain model stores 3/4 of the block model's weights, yet costs more
    assert sum(res.instructions) < sum(res_plain.instructions)


@pytest.mark.qemu
def test_odd_units_board_equals_host_tflite(tflm_m4):
    """An odd number of units: the Cortex-M4 gate loop (two units per iteration,
    core/ke_egru_gates_m4.h) enters at its second unit; the host TFLite runs the portable
    gate loop. Plain weights (block-4 needs 3U % 4 == 0)."""
    import keras
    import tensorflow as tf

    from keras_events import EGRU
    from keras_events.export import Interpreter as TfliteInterpreter
    from keras_events.export import to_tflite
    from keras_events.micro import qemu
    units = 13
    model = keras.Sequential([keras.Input((T, FEATURES), batch_size=1),
                              EGRU(units, return_sequences=True)])
    rng = np.random.default_rng(4)
    bias = np.zeros((2, 3 * units), np.float32)
    bias[0, :units] = 1.0
    bias[0, 2 * units:] = rng.normal(0.3, 0.8, units)
    model.layers[-1].cell.set_weights([
        (0.4 * rng.standard_normal((FEATURES, 3 * units))).astype(np.float32),
        (0.6 * rng.standard_normal((units, 3 * units))).astype(np.float32), bias,
        np.full((units,), -1.0, np.float32)])
    rep = rng.normal(0, 1, (16, T, FEATURES)).astype(np.float32)
    tfl_bytes = to_tflite(model, quantize="int8", representative_data=rep,
                          inference_input_type=tf.int8, inference_output_type=tf.int8)
    tfl = TfliteInterpreter(model_content=tfl_bytes)
    tfl.allocate_tensors()
    d_in, d_out = tfl.get_input_details()[0], tfl.get_output_details()[0]
    scale, zp = d_in["quantization"]
    x = np.clip(np.round(rng.normal(0, 1, (3, T, FEATURES)) / scale) + zp, -128, 127)
    x = x.astype(np.int8)
    expected = []
    for seq in x:
        tfl.set_tensor(d_in["index"], seq[None])
        tfl.invoke()
        expected.append(tfl.get_tensor(d_out["index"])[0])
    expected = np.stack(expected)
    y_zp = d_out["quantization"][1]
    assert 0.05 < (expected != y_zp).mean() < 0.95, "partial activity expected"
    res, _ = qemu.run_model(tfl_bytes, x, arena_size=ARENA, timeout=300)
    np.testing.assert_array_equal(np.stack([o[0][0] for o in res.outputs]), expected)

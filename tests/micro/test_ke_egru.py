"""KE_EGRU under TFLite Micro: host TFLM vs host TFLite, streaming, board == host, and
instruction counts that fall with the event rate and the weight sparsity.

Models: model_factory.egru_* (constructed so the input sets the event rate exactly)."""
import numpy as np
import pytest

from keras_events.micro import model_ops
from keras_events.micro.host_interpreter import Interpreter, MicroInterpreterError, mac_count

pytestmark = [pytest.mark.tflm]

ARENA = 32 * 1024


def _load(name):
    from micro_fixtures import make_model
    d = make_model(name)
    return {p.stem: p.read_bytes() for p in d.glob("*.tflite")}, np.load(d / "x.npy"), \
        np.load(d / "y_tflite.npy")


# No exception is caught here: a model that fails to export fails every test using it.
@pytest.fixture(scope="module", params=["egru_float", "egru_int8"])
def egru(request):
    return request.param, *_load(request.param)


@pytest.fixture(scope="module")
def egru_int8():
    """The int8 deployment path only (instruction counts, board streaming, board checks)."""
    return "egru_int8", *_load("egru_int8")


@pytest.mark.sanitize
def test_model_uses_one_ke_egru_op(egru):
    _, models, _, _ = egru
    assert "KE_EGRU" in model_ops.model_op_names(models["seq_s0"])


@pytest.mark.sanitize
def test_host_tflm_matches_host_tflite(host_lib, egru):
    name, models, xs, y_tflite = egru
    interp = Interpreter(models["seq_s0"], arena_size=ARENA)
    ys = np.stack([interp.run(x[None])[0][0] for x in xs])
    if name == "egru_int8":
        np.testing.assert_array_equal(ys, y_tflite)  # same integer core, bit for bit
    else:
        np.testing.assert_allclose(ys, y_tflite, rtol=0, atol=1e-6)
    # event rate of the constructed inputs: 100/50/20/10 % of the units
    zero = 0 if name == "egru_float" else interp.get_output_details()[0]["quantization"][1]
    np.testing.assert_allclose([(y != zero).mean() for y in ys], [1.0, 0.5, 0.2, 0.1])


@pytest.mark.sanitize
def test_streaming_one_frame_per_invoke_equals_whole_sequence(host_lib, egru):
    _, models, xs, _ = egru
    whole = Interpreter(models["seq_s0"], arena_size=ARENA)
    stream = Interpreter(models["stream"], arena_size=ARENA)
    for x in xs[:2]:
        expected = whole.run(x[None])[0][0]
        stream.reset_state()
        frames = np.stack([stream.run(frame[None, None])[0].reshape(-1) for frame in x])
        np.testing.assert_array_equal(frames, expected)


def _row_nnz(model: bytes, offsets_input: int) -> np.ndarray:
    """Stored weights per row of the KE_EGRU op's packed matrix (its offsets tensor)."""
    s = model_ops.schema()
    m = s.ModelT.InitFromPackedBuf(bytearray(model), 0)
    codes = [c.customCode for c in m.operatorCodes]
    op = next(o for o in m.subgraphs[0].operators if codes[o.opcodeIndex] == b"KE_EGRU")
    buf = m.buffers[m.subgraphs[0].tensors[op.inputs[offsets_input]].buffer]
    return np.diff(np.frombuffer(bytes(buf.data), np.int32))


@pytest.mark.sanitize
def test_mac_count_falls_with_activity(host_lib, egru):
    """MACs = stored weights of the non-zero inputs' rows + of the rows of units that fired
    at the previous step (the event-driven count, derived from the model and the outputs)."""
    _, models, xs, _ = egru
    interp = Interpreter(models["seq_s0"], arena_size=ARENA)
    x_zero = interp.get_input_details()[0]["quantization"][1] if xs.dtype == np.int8 else 0
    y_zero = interp.get_output_details()[0]["quantization"][1] if xs.dtype == np.int8 else 0
    w_nnz, v_nnz = _row_nnz(models["seq_s0"], 3), _row_nnz(models["seq_s0"], 6)
    macs, expected = [], []
    for x in xs:
        before = mac_count()
        y = interp.run(x[None])[0][0]
        macs.append(mac_count() - before)
        expected.append(int(sum(w_nnz[x[t] != x_zero].sum() for t in range(len(x)))
                            + sum(v_nnz[y[t] != y_zero].sum() for t in range(len(x) - 1))))
    assert macs == expected
    assert macs == sorted(macs, reverse=True)


@pytest.mark.qemu
def test_board_equals_host(tflm_m4, host_lib, egru):
    from keras_events.micro import qemu
    name, models, xs, _ = egru
    res, _ = qemu.run_model(models["seq_s0"], xs, arena_size=ARENA, timeout=300)
    interp = Interpreter(models["seq_s0"], arena_size=ARENA)
    host = np.stack([interp.run(x[None])[0] for x in xs])
    board = np.stack([outs[0] for outs in res.outputs])
    if name == "egru_int8":
        np.testing.assert_array_equal(board, host)
    else:  # float: same C compiled for two FPUs; within float rounding
        np.testing.assert_allclose(board, host, rtol=0, atol=1e-5)
    assert res.arena_used_bytes <= ARENA


@pytest.mark.qemu
def test_board_counts_fall_with_activity_and_sparsity(tflm_m4, egru_int8):
    from keras_events.micro import qemu
    _, models, xs, _ = egru_int8
    counts = {key: qemu.run_model(models[key], xs, arena_size=ARENA, print_outputs=False,
                                  timeout=300)[0].instructions
              for key in ("seq_s0", "seq_s80", "seq_s90")}
    for key, c in counts.items():  # activity 100 > 50 > 20 > 10 %
        assert c == sorted(c, reverse=True) and len(set(c)) == 4, (key, c)
    for i in range(4):  # weight sparsity 0 < 80 < 90 %
        assert counts["seq_s0"][i] > counts["seq_s80"][i] > counts["seq_s90"][i], i


@pytest.mark.qemu
def test_board_streaming_equals_whole_sequence(tflm_m4, egru_int8):
    """int8, the deployment path (the host tests cover float streaming)."""
    from keras_events.micro import qemu
    _, models, xs, _ = egru_int8
    x = xs[:2]
    whole, _ = qemu.run_model(models["seq_s0"], x, arena_size=ARENA, timeout=300)
    frames = x.reshape(-1, 1, 1, x.shape[-1])  # one frame per invoke, reset per sequence
    stream, _ = qemu.run_model(models["stream"], frames, arena_size=ARENA, timeout=300,
                               reset_every=x.shape[1])
    got = np.stack([o[0].reshape(-1) for o in stream.outputs]).reshape(2, x.shape[1], -1)
    np.testing.assert_array_equal(got, np.stack([o[0][0] for o in whole.outputs]))


def _mutate(model: bytes, corrupt: str) -> bytes:
    """A copy of ``model`` whose KE_EGRU op is broken in one way (schema object API)."""
    import flatbuffers
    from flatbuffers import flexbuffers
    s = model_ops.schema()
    m = s.ModelT.InitFromPackedBuf(bytearray(model), 0)
    codes = [c.customCode for c in m.operatorCodes]
    op = next(o for o in m.subgraphs[0].operators if codes[o.opcodeIndex] == b"KE_EGRU")
    if corrupt == "missing_input":
        op.inputs = op.inputs[:-1]
    elif corrupt == "no_options":
        op.customOptions = []
    elif corrupt == "units_mismatch":
        op.customOptions = list(flexbuffers.Dumps({"units": 7, "return_sequences": True}))
    elif corrupt == "bad_offsets":  # w_offsets (input 3) no longer non-decreasing
        buf = m.buffers[m.subgraphs[0].tensors[op.inputs[3]].buffer]
        offsets = np.frombuffer(bytes(buf.data), np.int32).copy()
        offsets[1] = offsets[-1] + 5
        buf.data = np.frombuffer(offsets.tobytes(), np.uint8)
    b = flatbuffers.Builder(1024)
    b.Finish(m.Pack(b), file_identifier=b"TFL3")
    return bytes(b.Output())


BROKEN = {"missing_input": "inputs", "no_options": "options", "units_mismatch": ", 7], got",
          "bad_offsets": "w_offsets"}


@pytest.mark.sanitize
@pytest.mark.parametrize("corrupt", sorted(BROKEN))
def test_prepare_rejects_broken_op_with_reason(host_lib, egru, corrupt):
    _, models, _, _ = egru
    with pytest.raises(MicroInterpreterError, match="KE_EGRU") as e:
        Interpreter(_mutate(models["seq_s0"], corrupt), arena_size=ARENA)
    assert BROKEN[corrupt] in str(e.value)


@pytest.mark.qemu
@pytest.mark.parametrize("corrupt", ["missing_input", "bad_offsets"])
def test_board_rejects_broken_op_without_fault(tflm_m4, egru_int8, corrupt):
    from keras_events.micro import qemu
    _, models, xs, _ = egru_int8
    res, _ = qemu.run_model(_mutate(models["seq_s0"], corrupt), xs[:1], arena_size=ARENA,
                            check=False)
    assert res.exit_code == 2 and "KE_EGRU" in res.reason()

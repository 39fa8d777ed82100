"""KE_DELTA_GRU / KE_DELTA_LSTM on TFLite Micro: host TFLite (custom_ops, the reference) == host
TFLM == the emulated Cortex-M4, whole sequences and streamed frame by frame with a reset per
sequence (model_factory.DELTA: 50 % pruned, thresholds > 0). int8 is bit-exact everywhere (one
integer core); float agrees within rounding (the same C on two FPUs)."""
import numpy as np
import pytest

from keras_events.micro import model_ops
from keras_events.micro.host_interpreter import Interpreter, mac_count

pytestmark = [pytest.mark.tflm]

ARENA = 64 * 1024
MODELS = [f"delta_{k}_{d}" for k in ("gru", "lstm") for d in ("float", "int8")]


@pytest.fixture(scope="module", params=MODELS)
def delta(request):
    from micro_fixtures import make_model
    d = make_model(request.param)
    return {"name": request.param, "int8": request.param.endswith("int8"),
            "seq": (d / "seq.tflite").read_bytes(), "stream": (d / "stream.tflite").read_bytes(),
            "x": np.load(d / "x.npy"), "y_seq": np.load(d / "y_seq.npy"),
            "y_stream": np.load(d / "y_stream.npy")}


def _same(a, b, int8):
    if int8:
        np.testing.assert_array_equal(a, b)
    else:
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-5)


def _host_tflm(d):
    seq = Interpreter(d["seq"], arena_size=ARENA)
    y_seq = np.stack([seq.run(x[None])[0][0] for x in d["x"]])
    stream = Interpreter(d["stream"], arena_size=ARENA)
    y_stream = []
    for x in d["x"]:
        stream.reset_state()
        y_stream.append([stream.run(frame[None, None])[0].reshape(-1) for frame in x])
    return y_seq, np.array(y_stream)


@pytest.mark.sanitize
def test_host_tflm_equals_host_tflite(delta):
    op = "KE_DELTA_" + delta["name"].split("_")[1].upper()
    assert op in model_ops.model_op_names(delta["seq"])
    y_seq, y_stream = _host_tflm(delta)
    _same(y_seq, delta["y_seq"], delta["int8"])
    _same(y_stream, delta["y_stream"], delta["int8"])
    _same(y_stream, y_seq, delta["int8"])  # streaming across invokes = one whole invoke


@pytest.mark.sanitize
def test_kernel_skips_rows_of_unsent_components(delta):
    """The kernel's MAC count lies strictly between zero and the dense count of the stored
    weights: the thresholds skip rows."""
    d = delta
    interp = Interpreter(d["seq"], arena_size=ARENA)
    before = mac_count()
    interp.run(d["x"][:1])
    macs = mac_count() - before
    from model_factory import DELTA
    gates = 3 if "gru" in d["name"] else 4
    dense = DELTA["time"] * gates * DELTA["units"] * (DELTA["features"] + DELTA["units"])
    assert 0 < macs < 0.7 * dense, (macs, dense)


@pytest.mark.qemu
def test_board_equals_host(delta, tflm_m4):
    from keras_events.micro import qemu
    x = delta["x"]
    seq, _ = qemu.run_model(delta["seq"], x, arena_size=ARENA, timeout=300)
    n, t = x.shape[:2]
    stream, _ = qemu.run_model(delta["stream"], x.reshape(n * t, 1, 1, -1), arena_size=ARENA,
                               timeout=300, reset_every=t)
    y_seq, y_stream = _host_tflm(delta)
    _same(np.stack([o[0][0] for o in seq.outputs]), y_seq, delta["int8"])
    _same(np.stack([o[0].reshape(-1) for o in stream.outputs]).reshape(n, t, -1), y_stream,
          delta["int8"])

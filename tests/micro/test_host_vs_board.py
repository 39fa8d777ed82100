"""Host == board on a deployment-sized EGRU (model_factory.egru_h128_*): hidden 128, 80 % of
the weights pruned, thresholds in four groups of units (0.12 .. 0.73), normal (non-binary)
inputs, float and int8. Whole sequences and the streaming twin, reset before every
sequence, on the host TFLite (custom_ops, the reference), the host TFLM and the emulated
Cortex-M4. int8 is bit-exact everywhere (one integer core); float agrees within rounding
(the same C compiled for two FPUs).

Each dtype builds and runs each firmware once (module fixture); without the toolchain the
board tests skip locally and fail in CI (tests/prereq.py). The host tests also run under
ASan/UBSan (`make test-sanitize`)."""
import numpy as np
import pytest

from keras_events.micro import model_ops
from keras_events.micro.host_interpreter import Interpreter

pytestmark = [pytest.mark.tflm]

ARENA = 64 * 1024


@pytest.fixture(scope="module", params=["float", "int8"])
def h128(request):
    from micro_fixtures import make_model
    d = make_model(f"egru_h128_{request.param}")
    return {"dtype": request.param, "seq": (d / "seq.tflite").read_bytes(),
            "stream": (d / "stream.tflite").read_bytes(), "x": np.load(d / "x.npy"),
            "y_seq": np.load(d / "y_seq.npy"), "y_stream": np.load(d / "y_stream.npy")}


def _same(a, b, dtype):
    if dtype == "int8":
        np.testing.assert_array_equal(a, b)
    else:
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-5)


def _host_tflm(h):
    """Host TFLM outputs: (whole sequences, streamed frame by frame with resets)."""
    seq = Interpreter(h["seq"], arena_size=ARENA)
    y_seq = np.stack([seq.run(x[None])[0][0] for x in h["x"]])
    stream = Interpreter(h["stream"], arena_size=ARENA)
    y_stream = []
    for x in h["x"]:
        stream.reset_state()
        y_stream.append([stream.run(frame[None, None])[0].reshape(-1) for frame in x])
    return y_seq, np.array(y_stream)


@pytest.fixture(scope="module")
def board(h128, tflm_m4):
    """Board outputs, one firmware per model: (whole sequences, streamed with resets)."""
    from keras_events.micro import qemu
    x = h128["x"]
    seq, _ = qemu.run_model(h128["seq"], x, arena_size=ARENA, timeout=300)
    n, t = x.shape[:2]
    stream, _ = qemu.run_model(h128["stream"], x.reshape(n * t, 1, 1, -1), arena_size=ARENA,
                               timeout=300, reset_every=t)
    return (np.stack([o[0][0] for o in seq.outputs]),
            np.stack([o[0].reshape(-1) for o in stream.outputs]).reshape(n, t, -1))


@pytest.mark.sanitize
def test_model_is_what_the_test_claims(h128):
    """Hidden 128, ~80 % of the stored weights pruned, partial activity in every threshold
    group (a degenerate model, all silent or all firing, would prove little)."""
    from model_factory import H128_THRESHOLD_PARAMS, h128_weights
    assert "KE_EGRU" in model_ops.model_op_names(h128["seq"])
    kernel, rec, _, threshold = h128_weights()
    assert rec.shape == (128, 384) and len(np.unique(threshold)) == len(H128_THRESHOLD_PARAMS)
    assert abs((kernel == 0).mean() - 0.8) < 0.01 and abs((rec == 0).mean() - 0.8) < 0.01
    y = h128["y_seq"]
    zero = y.min() if h128["dtype"] == "int8" else 0  # int8: the output zero point is its minimum
    rates = [(g != zero).mean() for g in np.split(y, len(H128_THRESHOLD_PARAMS), axis=-1)]
    assert all(0.05 < r < 0.95 for r in rates), rates
    assert rates == sorted(rates, reverse=True)  # higher threshold, fewer events
    assert len(np.unique(h128["x"])) > 20  # not binary


@pytest.mark.sanitize
def test_host_tflm_equals_host_tflite(h128):
    y_seq, y_stream = _host_tflm(h128)
    _same(y_seq, h128["y_seq"], h128["dtype"])
    _same(y_stream, h128["y_stream"], h128["dtype"])


@pytest.mark.sanitize
def test_streaming_with_resets_equals_whole_sequences(h128):
    _, y_stream = _host_tflm(h128)
    _same(y_stream, h128["y_seq"], h128["dtype"])
    # without the resets the second sequence starts from the first one's state: differs
    stream = Interpreter(h128["stream"], arena_size=ARENA)
    carried = np.array([[stream.run(f[None, None])[0].reshape(-1) for f in x] for x in h128["x"]])
    assert not np.array_equal(carried[1], y_stream[1])


@pytest.mark.qemu
def test_board_equals_host(h128, board):
    y_seq, y_stream = _host_tflm(h128)
    b_seq, b_stream = board
    _same(b_seq, y_seq, h128["dtype"])
    _same(b_stream, y_stream, h128["dtype"])

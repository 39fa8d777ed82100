"""Delta cells' gradients: symmetric temporally sparse BPTT (Chen et al. 2023).

Reference: the *masked dense* computation. With the send masks of the forward pass
(from the NumPy reference, tests/reference/delta_cells.py) held as constants, a delta
cell is the dense cell applied to the held values x̂_t, ĥ_t (x̂_t = x_t where sent,
else x̂_{t-1}) -- plain dense products, no delta memory. Its `GradientTape`/`jax.grad`
gradient is what straight-through through the mask must give; its ∂L/∂x is zero
wherever an input component was not sent (the backward pass skips the same columns).
float64 throughout (JAX computes `tanh` in float32 under Keras, hence rtol 1e-5).
"""

import keras
import numpy as np
import pytest
from backend_utils import float64, value_and_grads
from reference import delta_cells as ref

from keras_events import DeltaGRUCell, DeltaLSTMCell

B, T, I, U = 3, 8, 5, 6
THRESHOLDS = (0.3, 0.08)
ops = keras.ops


@pytest.fixture(autouse=True)
def _float64():
    with float64():
        yield


def _gru_step(x_hat, h_hat, h, c, w):
    kernel, recurrent, bias = w
    a = ops.matmul(x_hat, kernel) + bias[0]
    g = ops.matmul(h_hat, recurrent) + bias[1]
    z = ops.sigmoid(a[:, :U] + g[:, :U])
    r = ops.sigmoid(a[:, U:2 * U] + g[:, U:2 * U])
    n = ops.tanh(a[:, 2 * U:] + r * g[:, 2 * U:])
    return z * h + (1.0 - z) * n, c


def _lstm_step(x_hat, h_hat, h, c, w):
    kernel, recurrent, bias = w
    p = ops.matmul(x_hat, kernel) + ops.matmul(h_hat, recurrent) + bias
    i, f, g, o = (p[:, k * U:(k + 1) * U] for k in range(4))
    c = ops.sigmoid(f) * c + ops.sigmoid(i) * ops.tanh(g)
    return ops.sigmoid(o) * ops.tanh(c), c


KINDS = {"gru": (DeltaGRUCell, ref.gru_sequence, _gru_step),
         "lstm": (DeltaLSTMCell, ref.lstm_sequence, _lstm_step)}


def _hold(value, held, sent, surrogate_width):
    """x̂' = s·v + (1-s)·x̂ with s constant; with a triangle surrogate of height 1 and
    ``surrogate_width``, s also carries ψ(|Δ| - θ) as its derivative (written out here,
    not with keras_events.surrogates)."""
    s = ops.convert_to_tensor(sent)
    if surrogate_width:
        u = ops.abs(value - held) - THRESHOLDS[0 if value.shape[-1] == I else 1]
        psi = ops.stop_gradient(ops.relu(1.0 - ops.abs(u) / surrogate_width))
        s = s + psi * (u - ops.stop_gradient(u))
    return s * value + (1.0 - s) * held


def _masked_dense_loss(kind, weights, x, g_y, sent_x, sent_h, surrogate_width=None):
    step = KINDS[kind][2]
    h = c = ops.zeros((B, U), dtype="float64")
    x_hat, h_hat = ops.zeros((B, I), dtype="float64"), ops.zeros((B, U), dtype="float64")
    loss = 0.0
    for t in range(T):
        x_hat = _hold(x[:, t], x_hat, sent_x[:, t], surrogate_width)
        h_hat = _hold(h, h_hat, sent_h[:, t], surrogate_width)
        h, c = step(x_hat, h_hat, h, c, weights)
        loss = loss + ops.sum(h * g_y[:, t])
    return loss


def _setup(kind, seed=0, **cell_kwargs):
    rnn = keras.layers.RNN(KINDS[kind][0](U, *THRESHOLDS, **cell_kwargs), return_sequences=True,
                           unroll=True)
    rnn.build((None, T, I))
    rng = np.random.default_rng(seed)
    rnn.cell.set_weights([rng.normal(0, 0.6, w.shape) for w in rnn.cell.get_weights()])
    x = np.cumsum(rng.normal(0, 0.3, (B, T, I)), axis=1).astype("float32").astype("float64")
    g_y = rng.normal(0, 1, (B, T, U))
    weights = [keras.ops.convert_to_numpy(w) for w in rnn.cell.get_weights()]
    _, sent_x, sent_h = KINDS[kind][1](x, *weights, *THRESHOLDS)
    assert 0.2 < sent_x.mean() < 0.8 and 0.2 < sent_h.mean() < 0.9, "thresholds should skip some"
    return rnn, x, g_y, sent_x.astype("float64"), sent_h.astype("float64")


def _grads(rnn, kind, x, g_y, sent_x, sent_h, surrogate_width=None):
    cell = rnn.cell
    variables = [cell.kernel, cell.recurrent_kernel, cell.bias]
    _, got = value_and_grads(lambda inp: ops.sum(rnn(inp) * g_y), variables, [x])
    _, expected = value_and_grads(
        lambda inp: _masked_dense_loss(kind, variables, inp, g_y, sent_x, sent_h, surrogate_width),
        variables, [x])
    return got, expected


def _assert_same(got, expected):
    for name, a, b in zip(("kernel", "recurrent_kernel", "bias", "x"), got, expected):
        scale = np.abs(b).max()
        assert scale > 0
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5 * scale, err_msg=f"gradient w.r.t. {name}")


@pytest.mark.parametrize("kind", KINDS)
def test_gradients_equal_the_masked_dense_computation(kind):
    rnn, x, g_y, sent_x, sent_h = _setup(kind)
    got, expected = _grads(rnn, kind, x, g_y, sent_x, sent_h)
    _assert_same(got, expected)


@pytest.mark.parametrize("kind", KINDS)
def test_backward_skips_the_columns_the_forward_skipped(kind):
    """x enters only through the delta encoding: an input component not sent at step t
    gets exactly zero gradient, one that was sent gets some."""
    rnn, x, g_y, sent_x, sent_h = _setup(kind)
    got, _ = _grads(rnn, kind, x, g_y, sent_x, sent_h)
    g_x = got[3]
    assert np.all(g_x[sent_x == 0] == 0.0)
    assert np.count_nonzero(g_x[sent_x == 1]) == int(sent_x.sum())


@pytest.mark.parametrize("kind", KINDS)
def test_surrogate_adds_the_pseudo_derivative_near_the_threshold(kind):
    """surrogate="triangle" (height 1): same forward; the backward adds |Δ|·ψ(|Δ| - θ), so
    some components not sent get a gradient (the backward is no longer symmetric)."""
    width = 0.1
    surrogate = {"class_name": "triangle", "config": {"height": 1.0, "width": width}}
    rnn, x, g_y, sent_x, sent_h = _setup(kind, surrogate=surrogate)
    plain, _, _, _, _ = _setup(kind)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(rnn(x)),
                               keras.ops.convert_to_numpy(plain(x)), rtol=0, atol=0)
    got, expected = _grads(rnn, kind, x, g_y, sent_x, sent_h, surrogate_width=width)
    _assert_same(got, expected)
    assert np.count_nonzero(got[3][sent_x == 0]) > 0

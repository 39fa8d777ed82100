"""EGRUCell gradients against the hand-derived NumPy BPTT (tests/reference/egru_bptt.py).

float64 throughout, so "equal" means ≤ 1e-5 relative to the tensor's largest entry
(TensorFlow agrees to ~1e-14; Keras' JAX backend computes `ops.tanh` in float32 even
under floatx float64 -- its type promotion maps float64 to float32 -- so JAX agrees to
~1e-7). Three layers of evidence:
- the cell's autodiff gradients (inputs, kernel, recurrent kernel, biases, threshold
  parameters) equal the reference BPTT with the analytic pseudo-derivative ψ, for
  every registered surrogate with non-default parameters;
- with a smooth event function (S' = ψ) both the cell and the reference agree with
  central finite differences, which checks the hand derivation itself;
- sparse BPTT: the gradient equals the reference that restricts ψ and the recurrent
  backward product to the backward-active set, and `activity_report` counts that set.
"""

import inspect

import keras
import numpy as np
import pytest
from backend_utils import float64, value_and_grads
from reference import egru_bptt as ref
from reference.surrogate_forms import PARAMS, PSI, SMOOTH

from keras_events import EGRUCell, activity_report, surrogates

B, T, I, U = 3, 7, 4, 6
NAMES = ("kernel", "recurrent_kernel", "bias", "threshold_param")


@pytest.fixture(autouse=True)
def _float64():
    with float64():
        yield


def _layer(surrogate, seed=0):
    # unroll: a Python loop of eager ops; under JAX much faster than compiling a scan per call
    rnn = keras.layers.RNN(EGRUCell(U, surrogate=surrogate), return_sequences=True, return_state=True,
                           unroll=True)
    rnn.build((None, T, I))
    rng = np.random.default_rng(seed)
    cell = rnn.cell
    cell.kernel.assign(rng.normal(0, 0.8, cell.kernel.shape))
    cell.recurrent_kernel.assign(rng.normal(0, 0.8, cell.recurrent_kernel.shape))
    cell.bias.assign(rng.normal(0, 0.4, cell.bias.shape))
    cell.threshold_param.assign(rng.normal(-0.8, 0.4, cell.threshold_param.shape))
    return rnn


def _params(rnn):
    return [keras.ops.convert_to_numpy(getattr(rnn.cell, n)) for n in NAMES]


def _data(seed=1):
    """Inputs (float32-representable, so float32 tools see the same values) and loss weights."""
    rng = np.random.default_rng(seed)
    x = rng.normal(0, 1, (B, T, I)).astype(np.float32).astype(np.float64)
    return x, rng.normal(0, 1, (B, T, U)), rng.normal(0, 1, (B, U))


def _cell_grads(rnn, x, g_y, g_c):
    """L = Σ g_y ⊙ y_{1..T} + Σ g_c ⊙ ĉ_T; gradients w.r.t. NAMES + x."""
    cell = rnn.cell

    def loss(inputs):
        y, _, c_hat = rnn(inputs)
        return keras.ops.sum(y * g_y) + keras.ops.sum(c_hat * g_c)

    value, grads = value_and_grads(loss, [getattr(cell, n) for n in NAMES], [x])
    return value, dict(zip(NAMES + ("x",), grads))


def _ref_grads(params, x, g_y, g_c, event, sparse=False):
    trace = ref.forward(x, *params, event)
    return trace, ref.backward(trace, g_y, dc_hat_last=g_c, sparse=sparse)


def _assert_same(got, expected, rtol=1e-5, names=NAMES + ("x",)):
    for name in names:
        scale = np.abs(expected[name]).max()
        np.testing.assert_allclose(got[name], expected[name], rtol=rtol, atol=rtol * scale,
                                   err_msg=f"gradient w.r.t. {name}")


def _builtin_names():
    """Surrogates registered by keras_events itself (tests may register their own)."""
    return [n for n in surrogates.names()
            if inspect.getmodule(type(surrogates.get(n))).__name__ == "keras_events.surrogates"]


def test_every_builtin_surrogate_has_an_analytic_form():
    assert set(_builtin_names()) == set(PSI)


@pytest.mark.parametrize("name", sorted(PSI))
def test_surrogate_inside_the_cell_is_the_analytic_pseudo_derivative(name):
    """One step from a non-zero state: gradients w.r.t. weights, x_t, y_{t-1}, ĉ_{t-1}
    equal the reference with the paper's ψ (non-default surrogate parameters)."""
    rnn = _layer({"class_name": name, "config": PARAMS[name]})
    cell = rnn.cell
    rng = np.random.default_rng(8)
    x = rng.normal(0, 1, (16, I))
    c0 = rng.uniform(-0.5, 1.0, (16, U))
    y0 = c0 * (rng.random((16, U)) < 0.4)
    g_y, g_c = rng.normal(0, 1, (16, U)), rng.normal(0, 1, (16, U))

    def loss(x_t, y_prev, c_prev):
        y, (_, c_hat) = cell(x_t, [y_prev, c_prev])
        return keras.ops.sum(y * g_y) + keras.ops.sum(c_hat * g_c)

    _, grads = value_and_grads(loss, [getattr(cell, n) for n in NAMES], [x, y0, c0])
    got = dict(zip(NAMES + ("x", "y0", "c0"), grads))
    psi = lambda v: PSI[name](v, **PARAMS[name])
    trace = ref.forward(x[:, None], *_params(rnn), ref.heaviside(psi), c0=c0, y0=y0)
    expected = ref.backward(trace, g_y[:, None], dc_hat_last=g_c)
    _, events, _, _ = ref.outputs(trace)
    assert 0.15 < events.mean() < 0.85, "weights should give a mix of events and silence"
    got["x"] = got["x"][:, None]
    _assert_same(got, expected, names=NAMES + ("x", "y0", "c0"))
    # the derivative the activity report uses is the same function
    v = trace["steps"][0]["c"] - trace["theta"]
    derivative = keras.ops.convert_to_numpy(cell.surrogate.derivative(keras.ops.convert_to_tensor(v)))
    np.testing.assert_allclose(derivative, psi(v), rtol=1e-12, atol=1e-15)


def test_default_cell_gradients_equal_reference_bptt():
    """The default surrogate is the EvNN triangle (height 0.7, width 1.0)."""
    rnn = keras.layers.RNN(EGRUCell(U), return_sequences=True, return_state=True)
    rnn.build((None, T, I))
    ref_layer = _layer("triangle")
    rnn.set_weights(ref_layer.get_weights())
    x, g_y, g_c = _data(2)
    _, got = _cell_grads(rnn, x, g_y, g_c)
    _, expected = _ref_grads(_params(rnn), x, g_y, g_c, ref.heaviside(PSI["triangle"]))
    _assert_same(got, expected)


class _SmoothForward:
    """Mix-in for a registered surrogate: forward 0.5 + F(x) (F' = ψ) instead of the
    step, so the cell is differentiable and finite differences apply."""

    def __call__(self, x):
        return 0.5 + self.antiderivative(x)


class _SmoothAtan(_SmoothForward, surrogates.ArcTan):
    pass


class _SmoothFastSigmoid(_SmoothForward, surrogates.FastSigmoid):
    pass


SMOOTH_CELLS = {"atan": (_SmoothAtan, {"alpha": 3.0}), "fast_sigmoid": (_SmoothFastSigmoid, {"slope": 4.0})}


def _ref_loss(params, x, g_y, g_c, event):
    trace = ref.forward(x, *params, event)
    y, _, c_hat, _ = ref.outputs(trace)
    return np.sum(y * g_y) + np.sum(c_hat * g_c)


@pytest.mark.parametrize("name", sorted(SMOOTH))
def test_reference_bptt_equals_finite_differences(name):
    """The hand derivation: with a smooth event function the BPTT gradient is exact."""
    smooth, psi = SMOOTH[name]
    kwargs = SMOOTH_CELLS[name][1]
    event = (lambda v: smooth(v, **kwargs), lambda v: psi(v, **kwargs))
    params = _params(_layer("triangle"))
    x, g_y, g_c = _data(3)
    _, grads = _ref_grads(params, x, g_y, g_c, event)
    eps = 1e-6
    arrays = params + [x]
    for k, name_k in enumerate(NAMES + ("x",)):
        fd = np.zeros_like(arrays[k])
        for idx in np.ndindex(arrays[k].shape):
            plus = [a.copy() for a in arrays]
            minus = [a.copy() for a in arrays]
            plus[k][idx] += eps
            minus[k][idx] -= eps
            fd[idx] = (_ref_loss(plus[:4], plus[4], g_y, g_c, event)
                       - _ref_loss(minus[:4], minus[4], g_y, g_c, event)) / (2 * eps)
        np.testing.assert_allclose(grads[name_k], fd, rtol=1e-6, atol=1e-8, err_msg=name_k)


@pytest.mark.parametrize("name", sorted(SMOOTH))
def test_cell_gradients_equal_finite_differences_and_reference(name):
    """The cell with a smooth forward: autodiff == directional finite differences == reference."""
    cls, kwargs = SMOOTH_CELLS[name]
    rnn = _layer(cls(**kwargs))
    x, g_y, g_c = _data(4)
    value, got = _cell_grads(rnn, x, g_y, g_c)
    smooth, psi = SMOOTH[name]
    event = (lambda v: smooth(v, **kwargs), lambda v: psi(v, **kwargs))
    params = _params(rnn)
    _, expected = _ref_grads(params, x, g_y, g_c, event)
    _assert_same(got, expected)
    assert float(value) == pytest.approx(_ref_loss(params, x, g_y, g_c, event), rel=1e-6)

    variables = [getattr(rnn.cell, n) for n in NAMES]

    def cell_loss(direction, step):
        for var, p, d in zip(variables, params, direction):
            var.assign(p + step * d)
        y, _, c_hat = rnn(x + step * direction[4])
        return float(keras.ops.sum(y * g_y) + keras.ops.sum(c_hat * g_c))

    rng = np.random.default_rng(5)
    # float32 tanh under JAX (module docstring): a larger step keeps its rounding noise
    # (~1e-7 |L| / eps) below the tolerance; the truncation error is O(eps^2).
    eps, rel = (1e-6, 1e-6) if keras.backend.backend() == "tensorflow" else (1e-3, 1e-3)
    for _ in range(3):
        direction = [rng.normal(size=a.shape) for a in params + [x]]
        fd = (cell_loss(direction, eps) - cell_loss(direction, -eps)) / (2 * eps)
        analytic = sum(np.sum(got[n] * d) for n, d in zip(NAMES + ("x",), direction))
        assert analytic == pytest.approx(fd, rel=rel)
    for var, p in zip(variables, params):
        var.assign(p)


def test_sparse_bptt_equals_masked_reference_and_report_counts_it():
    """Narrow triangle: many units are outside the backward-active set at each step.

    The cell's gradient equals the reference that only propagates through backward-active
    units (ψ masked to the set, recurrent backward product over their rows of V only), and
    `activity_report`'s backward-active fraction is that set's size."""
    surrogate = {"class_name": "triangle", "config": {"height": 0.7, "width": 0.25}}
    rnn = _layer(surrogate, seed=6)
    x, g_y, g_c = _data(7)
    _, got = _cell_grads(rnn, x, g_y, g_c)
    event = ref.heaviside(lambda v: PSI["triangle"](v, height=0.7, width=0.25))
    trace, sparse = _ref_grads(_params(rnn), x, g_y, g_c, event, sparse=True)
    active = ref.backward_active(trace)
    _, events, _, _ = ref.outputs(trace)
    assert 0.2 < active.mean() < 0.8 and active.mean() > events.mean(), \
        "the set should hold every event plus near-threshold silent units, not everything"
    _assert_same(got, sparse)

    model = keras.Sequential([keras.Input((T, I)), rnn])
    stats = activity_report(model, x, print_table=False)[rnn.name]
    assert round(stats["backward_active"] * active.size) == active.sum()
    assert round(stats["event_rate"] * events.size) == events.sum()


def test_event_rate_penalty_gradient_equals_reference_bptt():
    """`EGRU`'s penalty λ·relu(mean(e) − target) (events counted in an extra state of the
    loop) back-propagates through ψ like a loss on every e_t: dL/de_t = λ / (B·T·U)."""
    from keras_events import EGRU

    lam = 0.7
    layer = EGRU(U, return_sequences=True, activity_regularization=lam, target_event_rate=0.01)
    layer.build((None, T, I))
    layer.set_weights(_layer("triangle").get_weights())
    x, g_y, _ = _data(4)
    cell = layer.cell

    def loss(inputs):  # stateless_call collects the added loss on every backend
        y, _, losses = layer.stateless_call(
            [v.value for v in layer.trainable_variables], [v.value for v in layer.non_trainable_variables],
            inputs, training=True, return_losses=True)
        assert len(losses) == 1
        return keras.ops.sum(y * g_y) + losses[0]

    _, grads = value_and_grads(loss, [getattr(cell, n) for n in NAMES], [x])
    got = dict(zip(NAMES + ("x",), grads))
    trace = ref.forward(x, *_params(layer), ref.heaviside(PSI["triangle"]))
    _, events, _, _ = ref.outputs(trace)
    assert events.mean() > 0.01, "the penalty must be active"
    expected = ref.backward(trace, g_y, de=np.full((B, T, U), lam / events.size))
    _assert_same(got, expected)
    # and the penalty matters: without it the gradients differ
    without = ref.backward(trace, g_y)
    assert not np.allclose(without["threshold_param"], expected["threshold_param"], rtol=1e-3)

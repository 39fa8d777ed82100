"""Surrogate gradients: forward = Heaviside, backward = the analytic pseudo-derivative."""

import math

import keras
import numpy as np
import pytest
from backend_utils import grad_of_elementwise
from reference.surrogate_forms import PSI  # the papers' formulas, default parameters

from keras_events import spike, surrogates

X = np.linspace(-2.5, 2.5, 1001).astype("float32")
X = X[np.abs(X) > 1e-3]  # keep off kinks exactly at 0


@pytest.mark.parametrize("name", ["triangle", "fast_sigmoid", "boxcar", "atan", "ste"])
def test_forward_is_step_and_gradient_is_pseudo_derivative(name):
    x = X[np.abs(np.abs(X) - 0.5) > 1e-3] if name == "boxcar" else X
    x = x[np.abs(np.abs(x) - 1.0) > 1e-3] if name == "triangle" else x
    forward = keras.ops.convert_to_numpy(spike(x, name))
    np.testing.assert_array_equal(forward, (x > 0).astype(np.float32))
    grad = grad_of_elementwise(lambda v: spike(v, name), x)
    np.testing.assert_allclose(grad, PSI[name](x), rtol=1e-5, atol=1e-6)
    derivative = keras.ops.convert_to_numpy(surrogates.get(name).derivative(keras.ops.convert_to_tensor(x)))
    np.testing.assert_allclose(derivative, PSI[name](x), rtol=1e-5, atol=1e-6)


def test_parameters_change_the_gradient():
    s = surrogates.get({"class_name": "triangle", "config": {"height": 1.0, "width": 0.5}})
    grad = grad_of_elementwise(s, np.array([0.25, 0.6], "float32"))
    np.testing.assert_allclose(grad, [0.5, 0.0], atol=1e-7)


def test_serialize_round_trip_and_registry():
    for name in surrogates.names():
        s = surrogates.get(name)
        assert surrogates.get(surrogates.serialize(s)) == s
    assert surrogates.serialize("boxcar") == {"class_name": "boxcar",
                                              "config": {"width": 1.0, "height": 1.0}}


def test_user_registered_surrogate():
    @surrogates.register("test_gauss")
    class Gauss(surrogates.Surrogate):
        def derivative(self, x):
            return keras.ops.exp(-x * x)

        def antiderivative(self, x):
            return keras.ops.convert_to_tensor(math.sqrt(math.pi) / 2) * keras.ops.erf(x)

    grad = grad_of_elementwise(lambda v: spike(v, "test_gauss"), np.array([0.0, 1.0], "float32"))
    np.testing.assert_allclose(grad, [1.0, math.exp(-1.0)], rtol=1e-5)


@pytest.mark.parametrize("bad", ["nope", 3, {"config": {}}, {"class_name": "triangle", "config": {"width": -1}}])
def test_bad_surrogate_is_a_clear_error(bad):
    with pytest.raises(ValueError, match="surrogate|width"):
        surrogates.get(bad)


@pytest.mark.parametrize("name", ["triangle", "fast_sigmoid", "boxcar", "atan", "ste"])
def test_antiderivative_path_gives_the_same_gradient(name, monkeypatch):
    """Backends without `keras.ops.custom_gradient` use H(x) + F(x) - stop_gradient(F(x)):
    same forward and gradient as the custom-gradient path of TensorFlow and JAX."""
    x = X[np.abs(np.abs(X) - 0.5) > 1e-3] if name == "boxcar" else X
    x = x[np.abs(np.abs(x) - 1.0) > 1e-3] if name == "triangle" else x
    monkeypatch.setattr(surrogates, "_CUSTOM_GRADIENT_BACKENDS", ())
    forward = keras.ops.convert_to_numpy(spike(x, name))
    np.testing.assert_array_equal(forward, (x > 0).astype(np.float32))
    grad = grad_of_elementwise(lambda v: spike(v, name), x)
    np.testing.assert_allclose(grad, PSI[name](x), rtol=1e-5, atol=1e-6)

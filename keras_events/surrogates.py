"""Surrogate gradients ("pseudo-derivatives") for the Heaviside step.

An event cell emits ``e = H(x)`` (``x = c - threshold``), whose derivative is zero
almost everywhere. Training replaces it, in the backward pass only, by a smooth
pseudo-derivative ``psi(x)`` -- the straight-through idea of Bengio et al. (2013),
used for spiking/event networks by Zenke & Ganguli (2018, "SuperSpike"),
Bellec et al. (2018) and Subramoney et al. (ICLR 2023, EGRU).

Implementation (`keras.ops` only): on TensorFlow and JAX, ``spike`` is a
``keras.ops.custom_gradient`` function: the forward pass computes only ``H(x)`` and
the backward pass multiplies the incoming gradient by ``psi(x)``. On other backends,
with ``F`` an antiderivative of ``psi``,

    spike(x) = H(x) + (F(x) - stop_gradient(F(x)))

whose bracket is exactly ``0.0`` in the forward pass and has gradient ``psi(x)`` in the
backward pass. Both give the same values and gradients; the custom gradient runs two
operations forward instead of ~11 (the antiderivative and its backward pass), which is
a sixth of an EGRU training step on the CPU (``benchmarks/cell_bench.py``).

Surrogates are small named objects, looked up by string or config dict and
serialized like Keras activations (the way larq does quantizers):

    >>> from keras_events import surrogates
    >>> s = surrogates.get("triangle")                 # defaults of the EGRU paper
    >>> s = surrogates.get({"class_name": "triangle", "config": {"width": 0.5}})
    >>> surrogates.serialize(s)
    {'class_name': 'triangle', 'config': {'height': 0.7, 'width': 0.5}}

Register your own with ``@surrogates.register("name")`` on a `Surrogate` subclass
that implements ``antiderivative`` and ``derivative``.
"""

import math

import keras
from keras import ops

_REGISTRY = {}
# keras.ops.custom_gradient's grad function has one signature on these two backends.
_CUSTOM_GRADIENT_BACKENDS = ("tensorflow", "jax")


def _spike(derivative):
    """``H(x)`` forward, ``upstream * derivative(x)`` backward."""

    @ops.custom_gradient
    def spike(x):
        def grad(upstream):
            return upstream * derivative(x)

        return ops.cast(ops.greater(x, 0), x.dtype), grad

    return spike


def register(name):
    """Class decorator: make a `Surrogate` subclass available under ``name``."""

    def decorator(cls):
        if not (isinstance(cls, type) and issubclass(cls, Surrogate)):
            raise TypeError(f"@register({name!r}) expects a Surrogate subclass, got {cls!r}.")
        cls.name = name
        _REGISTRY[name] = cls
        return cls

    return decorator


class Surrogate:
    """Heaviside step forward, pseudo-derivative backward.

    Subclasses define ``derivative(x)`` (the pseudo-derivative psi, used for tests
    and for counting backward-active units) and ``antiderivative(x)`` (an F with
    F' = psi, used to inject psi into the backward pass).
    """

    name = None

    def __call__(self, x):
        if keras.backend.backend() in _CUSTOM_GRADIENT_BACKENDS:
            return _spike(self.derivative)(x)
        step = ops.cast(ops.greater(x, 0), x.dtype)
        f = self.antiderivative(x)
        return step + (f - ops.stop_gradient(f))

    def derivative(self, x):
        raise NotImplementedError

    def antiderivative(self, x):
        raise NotImplementedError

    def get_config(self):
        return {}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"

    def __eq__(self, other):
        return type(self) is type(other) and self.get_config() == other.get_config()

    def __hash__(self):
        return hash((type(self), tuple(sorted(self.get_config().items()))))


def _positive(name, value):
    value = float(value)
    if not value > 0 or math.isinf(value):
        raise ValueError(f"Surrogate argument `{name}` must be a positive finite number, got {value}.")
    return value


@register("triangle")
class Triangle(Surrogate):
    """psi(x) = height * max(0, 1 - |x| / width).

    The piecewise-linear pseudo-derivative of Bellec et al. (2018) as used by EGRU
    (Subramoney et al., ICLR 2023); EvNN's defaults are height 0.7, width 1.0. It is
    exactly zero for |x| >= width, which is what makes BPTT sparse.
    """

    def __init__(self, height=0.7, width=1.0):
        self.height = _positive("height", height)
        self.width = _positive("width", width)

    def derivative(self, x):
        return self.height * ops.relu(1.0 - ops.abs(x) / self.width)

    def antiderivative(self, x):
        xc = ops.clip(x, -self.width, self.width)
        return self.height * (xc - xc * ops.abs(xc) / (2.0 * self.width))

    def get_config(self):
        return {"height": self.height, "width": self.width}


@register("fast_sigmoid")
class FastSigmoid(Surrogate):
    """psi(x) = height / (1 + slope * |x|)^2 (SuperSpike, Zenke & Ganguli 2018)."""

    def __init__(self, slope=10.0, height=1.0):
        self.slope = _positive("slope", slope)
        self.height = _positive("height", height)

    def derivative(self, x):
        return self.height / ops.square(1.0 + self.slope * ops.abs(x))

    def antiderivative(self, x):
        return self.height * x / (1.0 + self.slope * ops.abs(x))

    def get_config(self):
        return {"slope": self.slope, "height": self.height}


@register("boxcar")
class Boxcar(Surrogate):
    """psi(x) = height for |x| < width / 2, else 0 (rectangular window)."""

    def __init__(self, width=1.0, height=1.0):
        self.width = _positive("width", width)
        self.height = _positive("height", height)

    def derivative(self, x):
        inside = ops.less(ops.abs(x), self.width / 2.0)
        return self.height * ops.cast(inside, x.dtype)

    def antiderivative(self, x):
        return self.height * ops.clip(x, -self.width / 2.0, self.width / 2.0)

    def get_config(self):
        return {"width": self.width, "height": self.height}


@register("atan")
class ArcTan(Surrogate):
    """psi(x) = alpha / 2 / (1 + (pi/2 * alpha * x)^2) (Fang et al., ICCV 2021)."""

    def __init__(self, alpha=2.0):
        self.alpha = _positive("alpha", alpha)

    def derivative(self, x):
        return (self.alpha / 2.0) / (1.0 + ops.square(math.pi / 2.0 * self.alpha * x))

    def antiderivative(self, x):
        return ops.arctan(math.pi / 2.0 * self.alpha * x) / math.pi

    def get_config(self):
        return {"alpha": self.alpha}


@register("ste")
class StraightThrough(Surrogate):
    """psi(x) = 1 everywhere: the straight-through estimator (Bengio et al., 2013).

    Dense backward pass: every unit is backward-active, so BPTT is not sparse.
    """

    def derivative(self, x):
        return ops.ones_like(x)

    def antiderivative(self, x):
        return x


def get(identifier):
    """Return a `Surrogate` from a name, a config dict or an instance."""
    if isinstance(identifier, Surrogate):
        return identifier
    if isinstance(identifier, str):
        name, config = identifier, {}
    elif isinstance(identifier, dict) and "class_name" in identifier:
        name, config = identifier["class_name"], dict(identifier.get("config") or {})
    else:
        raise ValueError(
            f"Argument `surrogate` must be a name, a {{'class_name': ..., 'config': ...}} dict "
            f"or a Surrogate instance; got {identifier!r}."
        )
    if name not in _REGISTRY:
        raise ValueError(
            f"Unknown surrogate {name!r} for argument `surrogate`. "
            f"Known: {sorted(_REGISTRY)}; register your own with @keras_events.surrogates.register."
        )
    return _REGISTRY[name].from_config(config)


def serialize(surrogate):
    """The config dict that `get` turns back into an equal surrogate."""
    surrogate = get(surrogate)
    return {"class_name": surrogate.name, "config": surrogate.get_config()}


def spike(x, surrogate="triangle"):
    """Heaviside step of ``x`` (1 where x > 0) with ``surrogate``'s pseudo-derivative."""
    return get(surrogate)(ops.convert_to_tensor(x))


def names():
    """Registered surrogate names."""
    return sorted(_REGISTRY)


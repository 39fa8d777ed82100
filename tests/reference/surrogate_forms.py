"""Pseudo-derivatives ψ written from the papers' formulas, independent of keras_events.

Each entry maps a surrogate name to ``(psi(x, **params), smooth_step(x, **params))``
where ``smooth_step`` is a smooth step function whose derivative is ψ (used by the
finite-difference tests, which need a differentiable forward pass). Parameter names
and defaults follow `keras_events.surrogates` (its public config), the formulas
follow the papers:

- triangle: γ·max(0, 1 - |x|/ε)  -- Bellec et al. 2018; EGRU (Subramoney et al.,
  ICLR 2023), default γ = 0.7, ε = 1.0 as in the EvNN reference code.
- fast_sigmoid: h / (1 + k|x|)²   -- SuperSpike (Zenke & Ganguli 2018).
- boxcar: h·[|x| < w/2]            -- rectangular window.
- atan: (α/2) / (1 + (π/2·α·x)²)  -- Fang et al., ICCV 2021.
- ste: 1                           -- straight-through (Bengio et al. 2013).
"""

import math

import numpy as np


def triangle(x, height=0.7, width=1.0):
    return height * np.maximum(0.0, 1.0 - np.abs(x) / width)


def fast_sigmoid(x, slope=10.0, height=1.0):
    return height / (1.0 + slope * np.abs(x)) ** 2


def boxcar(x, width=1.0, height=1.0):
    return height * (np.abs(x) < width / 2.0).astype(np.float64)


def atan(x, alpha=2.0):
    return (alpha / 2.0) / (1.0 + (math.pi / 2.0 * alpha * x) ** 2)


def ste(x):
    return np.ones_like(np.asarray(x, np.float64))


PSI = {"triangle": triangle, "fast_sigmoid": fast_sigmoid, "boxcar": boxcar, "atan": atan, "ste": ste}

# Non-default parameters for the in-cell tests (a wrong default or a parameter that is
# ignored shows up as a mismatch).
PARAMS = {"triangle": {"height": 0.9, "width": 0.4}, "fast_sigmoid": {"slope": 4.0, "height": 0.8},
          "boxcar": {"width": 0.6, "height": 0.5}, "atan": {"alpha": 3.0}, "ste": {}}


def smooth_atan(x, alpha=2.0):
    """0.5 + arctan(π/2·α·x)/π: a smooth step with derivative `atan`."""
    return 0.5 + np.arctan(math.pi / 2.0 * alpha * x) / math.pi


def smooth_fast_sigmoid(x, slope=10.0, height=1.0):
    """0.5 + h·x/(1 + k|x|): derivative h/(1 + k|x|)² = `fast_sigmoid`."""
    return 0.5 + height * x / (1.0 + slope * np.abs(x))


SMOOTH = {"atan": (smooth_atan, atan), "fast_sigmoid": (smooth_fast_sigmoid, fast_sigmoid)}

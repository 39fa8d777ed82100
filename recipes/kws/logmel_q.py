"""ctypes binding of the fixed-point front end (custom_ops/core/ke_logmel_q.c).

The same C file runs on the host (this binding, used to compute the training
features of ``--frontend q15``) and on the board (``mcu_frontend.run_on_board(...,
frontend="q15")``), so the model sees bit-identical inputs in both places. The
output is the natural log of the mel energies in Q10 (int16, value / 1024), on the
scale of the float front end's ``log(mel + 1e-6)`` (``features.log_mel``).

Example:
  >>> fe = CLogMelQ()                                       # doctest: +SKIP
  >>> fe.clip(np.zeros(16000, np.int16)).shape              # doctest: +SKIP
  (98, 40)
"""

import ctypes

import numpy as np

from recipes.kws.logmel_c import DEFAULT_BUILD_DIR, _CFrontEnd

FRAC_BITS = 10
HOP = 160


class _Config(ctypes.Structure):
    _fields_ = [("num_mels", ctypes.c_int32), ("fmin_hz", ctypes.c_float),
                ("fmax_hz", ctypes.c_float), ("log_eps", ctypes.c_float)]


def build_library(build_dir=DEFAULT_BUILD_DIR):
    """Compiles ke_logmel_q.c into a shared library named by content; returns its path."""
    from keras_events._native import host

    return str(host.build_front_end_library("logmel_q", build_dir))


def int8_requant(mean, std, scale, zero_point):
    """(multiplier, offset, zero_point) for ``ke_logmel_q_to_int8``: Q10 log-mel ->
    int8 of the standardised value ``(v - mean) / std`` at ``scale``/``zero_point``."""
    if not std > 0 or not scale > 0:
        raise ValueError(f"std={std} and scale={scale} must be > 0.")
    multiplier = int(round(2.0 ** 16 / (2 ** FRAC_BITS * std * scale)))
    if not 0 < multiplier <= 2 ** 16:
        raise ValueError(f"std * scale = {std * scale} gives multiplier {multiplier} outside "
                         "(0, 65536]; the int8 step must be >= 1/1024 of a log unit.")
    offset = int(round(-(2.0 ** 16) * mean / (std * scale)))
    return multiplier, offset, int(zero_point)


class CLogMelQ(_CFrontEnd):
    """The fixed-point front end: ``clip(int16 audio)`` and ``frame(160 samples)`` give
    int16 Q10 log-mel; ``to_int8`` requantises them for an int8 model."""

    PREFIX = "ke_logmel_q"
    LIBRARY = staticmethod(lambda build_dir: build_library(build_dir))
    OUT = (ctypes.c_int16, np.int16)

    def __init__(self, num_mels=40, fmin_hz=20.0, fmax_hz=8000.0, log_eps=1e-6,
                 build_dir=DEFAULT_BUILD_DIR):
        self._open(_Config(num_mels, fmin_hz, fmax_hz, log_eps), num_mels, build_dir)

    def clips(self, audio):
        """(N, frames, num_mels) float32 log-mel (Q10 / 1024) of (N, T) int16 clips."""
        audio = np.asarray(audio)
        return np.stack([self.clip(a) for a in audio]).astype(np.float32) / 2 ** FRAC_BITS

    def to_int8(self, features_q10, multiplier, offset, zero_point):
        """``ke_logmel_q_to_int8`` (see :func:`int8_requant`)."""
        features_q10 = np.ascontiguousarray(features_q10, np.int16)
        out = np.zeros(features_q10.shape, np.int8)
        self._check(self._lib.ke_logmel_q_to_int8(
            self._ptr(features_q10, ctypes.c_int16), ctypes.c_int32(features_q10.size),
            ctypes.c_int32(multiplier), ctypes.c_int32(offset), ctypes.c_int32(zero_point),
            self._ptr(out, ctypes.c_int8)), "ke_logmel_q_to_int8")
        return out

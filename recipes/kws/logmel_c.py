"""ctypes binding of the C front end (custom_ops/core/ke_logmel.c) for host checks.

The shared library is compiled on first use with the host C compiler (``CC``,
default ``gcc``) into ``build_dir`` and reused while the sources are unchanged.

Example:
  >>> fe = CLogMel()                                     # doctest: +SKIP
  >>> fe.clip(np.zeros(16000, np.int16)).shape            # doctest: +SKIP
  (98, 40)
"""

import ctypes
import os

import numpy as np

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SOURCE = os.path.join(REPO_ROOT, "custom_ops", "core", "ke_logmel.c")
HEADER = os.path.join(REPO_ROOT, "custom_ops", "core", "ke_logmel.h")
DEFAULT_BUILD_DIR = os.path.join(REPO_ROOT, "build", "recipes")
HOP = 160


class _Config(ctypes.Structure):
    _fields_ = [("num_mels", ctypes.c_int32), ("fmin_hz", ctypes.c_float),
                ("fmax_hz", ctypes.c_float), ("log_eps", ctypes.c_float),
                ("norm_mean", ctypes.c_float), ("norm_scale", ctypes.c_float)]


def build_library(build_dir=DEFAULT_BUILD_DIR):
    """Compiles ke_logmel.c into a shared library (native builder, cached by content);
    returns its path."""
    from keras_events._native import host

    return str(host.build_logmel_library(build_dir))


class _CFrontEnd:
    """ctypes binding of one C front end whose functions are named ``<prefix>_*`` (the float
    ``ke_logmel`` and the fixed-point ``ke_logmel_q`` share this API): init, clip, frame
    (streaming one hop), reset, status strings.  `OUT` is the output element type."""

    PREFIX = "ke_logmel"
    LIBRARY = None            # callable(build_dir) -> path of the shared library
    OUT = (ctypes.c_float, np.float32)

    def _open(self, config, num_mels, build_dir):
        lib = ctypes.CDLL(type(self).LIBRARY(build_dir))
        self._fn("state_size", lib).restype = ctypes.c_size_t
        self._fn("status_string", lib).restype = ctypes.c_char_p
        self._fn("clip", lib).restype = ctypes.c_int32
        self._lib = lib
        self._state = ctypes.create_string_buffer(self._fn("state_size")())
        self.num_mels = num_mels
        self._call("init", self._state, ctypes.byref(config))

    def _fn(self, name, lib=None):
        return getattr(lib or self._lib, f"{self.PREFIX}_{name}")

    def _call(self, name, *args):
        return self._check(self._fn(name)(*args), f"{self.PREFIX}_{name}")

    @classmethod
    def state_size(cls, build_dir=DEFAULT_BUILD_DIR):
        """sizeof the C state struct on the host."""
        lib = ctypes.CDLL(cls.LIBRARY(build_dir))
        fn = getattr(lib, f"{cls.PREFIX}_state_size")
        fn.restype = ctypes.c_size_t
        return int(fn())

    def _check(self, status, name):
        if status < 0:
            raise ValueError(f"{name}: {self._fn('status_string')(status).decode()}")
        return status

    @staticmethod
    def _ptr(array, ctype):
        return array.ctypes.data_as(ctypes.POINTER(ctype))

    def clip(self, samples):
        """(num_frames, num_mels) features of an int16 clip (`OUT` elements)."""
        samples = np.ascontiguousarray(samples, np.int16)
        if samples.ndim != 1:
            raise ValueError(f"samples must be 1-D int16, got shape {samples.shape}.")
        frames = int(self._fn("num_frames")(ctypes.c_int32(samples.shape[0])))
        out = np.zeros((frames, self.num_mels), self.OUT[1])
        self._call("clip", self._state, self._ptr(samples, ctypes.c_int16),
                   ctypes.c_int32(samples.shape[0]), self._ptr(out, self.OUT[0]),
                   ctypes.c_int32(frames))
        return out

    def reset(self):
        self._call("reset", self._state)

    def frame(self, hop_samples):
        """Streams one hop of 160 int16 samples; returns a frame or None while filling."""
        hop_samples = np.ascontiguousarray(hop_samples, np.int16)
        if hop_samples.shape != (HOP,):
            raise ValueError(f"hop_samples must have shape ({HOP},), got {hop_samples.shape}.")
        out = np.zeros(self.num_mels, self.OUT[1])
        ready = self._call("frame", self._state, self._ptr(hop_samples, ctypes.c_int16),
                           self._ptr(out, self.OUT[0]))
        return out if ready else None


class CLogMel(_CFrontEnd):
    """The C front end: ``clip(int16 audio)``, ``frame(160 samples)``, ``quantize``."""

    LIBRARY = staticmethod(lambda build_dir: build_library(build_dir))

    def __init__(self, num_mels=40, fmin_hz=20.0, fmax_hz=8000.0, log_eps=1e-6,
                 norm_mean=0.0, norm_scale=1.0, build_dir=DEFAULT_BUILD_DIR):
        self._open(_Config(num_mels, fmin_hz, fmax_hz, log_eps, norm_mean, norm_scale),
                   num_mels, build_dir)

    def quantize(self, features, scale, zero_point):
        """int8 quantisation by ``ke_logmel_quantize``."""
        features = np.ascontiguousarray(features, np.float32)
        out = np.zeros(features.shape, np.int8)
        self._check(self._lib.ke_logmel_quantize(
            self._ptr(features, ctypes.c_float), ctypes.c_int32(features.size),
            ctypes.c_float(scale), ctypes.c_int32(zero_point),
            self._ptr(out, ctypes.c_int8)), "ke_logmel_quantize")
        return out

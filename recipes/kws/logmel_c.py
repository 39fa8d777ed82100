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


class CLogMel:
    """The C front end: ``clip(int16 audio)``, ``frame(160 samples)``, ``quantize``."""

    def __init__(self, num_mels=40, fmin_hz=20.0, fmax_hz=8000.0, log_eps=1e-6,
                 norm_mean=0.0, norm_scale=1.0, build_dir=DEFAULT_BUILD_DIR):
        lib = ctypes.CDLL(build_library(build_dir))
        lib.ke_logmel_state_size.restype = ctypes.c_size_t
        lib.ke_logmel_status_string.restype = ctypes.c_char_p
        lib.ke_logmel_clip.restype = ctypes.c_int32
        self._lib = lib
        self._state = ctypes.create_string_buffer(lib.ke_logmel_state_size())
        self.num_mels = num_mels
        config = _Config(num_mels, fmin_hz, fmax_hz, log_eps, norm_mean, norm_scale)
        self._check(lib.ke_logmel_init(self._state, ctypes.byref(config)), "ke_logmel_init")

    @staticmethod
    def state_size(build_dir=DEFAULT_BUILD_DIR):
        """sizeof(ke_logmel_state) on the host."""
        lib = ctypes.CDLL(build_library(build_dir))
        lib.ke_logmel_state_size.restype = ctypes.c_size_t
        return int(lib.ke_logmel_state_size())

    def _check(self, status, name):
        if status < 0:
            raise ValueError(f"{name}: {self._lib.ke_logmel_status_string(status).decode()}")
        return status

    @staticmethod
    def _ptr(array, ctype):
        return array.ctypes.data_as(ctypes.POINTER(ctype))

    def clip(self, samples):
        """(num_frames, num_mels) float32 features of an int16 clip."""
        samples = np.ascontiguousarray(samples, np.int16)
        frames = int(self._lib.ke_logmel_num_frames(ctypes.c_int32(samples.shape[0])))
        out = np.zeros((frames, self.num_mels), np.float32)
        n = self._lib.ke_logmel_clip(self._state, self._ptr(samples, ctypes.c_int16),
                                     ctypes.c_int32(samples.shape[0]),
                                     self._ptr(out, ctypes.c_float), ctypes.c_int32(frames))
        self._check(n, "ke_logmel_clip")
        return out

    def reset(self):
        self._check(self._lib.ke_logmel_reset(self._state), "ke_logmel_reset")

    def frame(self, hop_samples):
        """Streams one hop of 160 int16 samples; returns a frame or None while filling."""
        hop_samples = np.ascontiguousarray(hop_samples, np.int16)
        if hop_samples.shape != (HOP,):
            raise ValueError(f"hop_samples must have shape ({HOP},), got {hop_samples.shape}.")
        out = np.zeros(self.num_mels, np.float32)
        ready = self._check(self._lib.ke_logmel_frame(
            self._state, self._ptr(hop_samples, ctypes.c_int16),
            self._ptr(out, ctypes.c_float)), "ke_logmel_frame")
        return out if ready else None

    def quantize(self, features, scale, zero_point):
        """int8 quantisation by ``ke_logmel_quantize``."""
        features = np.ascontiguousarray(features, np.float32)
        out = np.zeros(features.shape, np.int8)
        self._check(self._lib.ke_logmel_quantize(
            self._ptr(features, ctypes.c_float), ctypes.c_int32(features.size),
            ctypes.c_float(scale), ctypes.c_int32(zero_point),
            self._ptr(out, ctypes.c_int8)), "ke_logmel_quantize")
        return out

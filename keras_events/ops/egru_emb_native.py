"""NumPy binding (ctypes) of the eGRU op's C core, `custom_ops/core/ke_egru_emb.c`.

Runs the exact kernel code the TFLite glues and the Cortex-M0 firmware run: the tests
compare it with `keras_events.ops.egru_emb.reference_q15_step` bit for bit.
"""
import ctypes

import numpy as np

from keras_events.export import _build
from keras_events.ops import egru_emb

_lib = None


class _Q15Params(ctypes.Structure):
    _fields_ = [("input_size", ctypes.c_int32), ("units", ctypes.c_int32),
                ("w_codes", ctypes.c_void_p), ("u_codes", ctypes.c_void_p),
                ("bias", ctypes.c_void_p)]


def _library():
    global _lib
    if _lib is None:
        _lib = ctypes.CDLL(_build.ensure_built(_build.CORE_LIBRARY))
        _lib.ke_egru_emb_softsign_q15.restype = ctypes.c_int32
        _lib.ke_egru_emb_softsign_q15.argtypes = [ctypes.c_int32]
    return _lib


def _ptr(a):
    return a.ctypes.data_as(ctypes.c_void_p)


def softsign_q15(a):
    """The C integer softsign of each int32 value of `a`."""
    f = _library().ke_egru_emb_softsign_q15
    return np.array([f(int(v)) for v in np.ravel(a)], np.int32).reshape(np.shape(a))


def run_q15(x_q, kernel, recurrent_kernel, bias):
    """Runs the Q15 step over `x_q` (T, I) int16 Q15 from h = 0, with the float weights
    coded by `egru_emb.pack_codes` / `bias_q15`; returns h per step (T, U) int16."""
    x_q = np.ascontiguousarray(x_q, np.int16)
    steps, features = x_q.shape
    units = np.shape(recurrent_kernel)[0]
    keep = dict(w=np.ascontiguousarray(egru_emb.pack_codes(kernel)),
                u=np.ascontiguousarray(egru_emb.pack_codes(recurrent_kernel)),
                b=np.ascontiguousarray(egru_emb.bias_q15(bias), np.int32))
    lib = _library()
    if lib.ke_egru_emb_check_sizes(features, units) != 0:
        raise ValueError(f"features={features}, units={units} exceed the kernel's limits.")
    p = _Q15Params(features, units, _ptr(keep["w"]), _ptr(keep["u"]), _ptr(keep["b"]))
    tables = np.zeros(16 * (features + features % 2 + units + units % 2), np.int16)
    h = np.zeros(units, np.int16)
    out = np.zeros((steps, units), np.int16)
    for t in range(steps):
        lib.ke_egru_emb_q15_step(ctypes.byref(p), _ptr(x_q[t]), _ptr(h), _ptr(tables))
        out[t] = h
    return out

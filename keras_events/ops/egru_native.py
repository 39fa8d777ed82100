"""NumPy binding (ctypes) of the EGRU op's C core, `custom_ops/core/ke_egru.c`.

Runs the exact kernel code outside any interpreter: used by the tests (C vs
NumPy bit-exactness, MAC counts) and handy for estimating a layer's cost. `packed`
arguments are the dicts of `keras_events.ops.egru.pack_float` / `pack_int8`.
(Formerly `keras_events.export.core`.)
"""
import ctypes

import numpy as np

from keras_events.export import _build

_lib = None


class _F32Params(ctypes.Structure):
    _fields_ = [("input_size", ctypes.c_int32), ("units", ctypes.c_int32),
                ("w_values", ctypes.c_void_p), ("w_index", ctypes.c_void_p),
                ("w_offsets", ctypes.c_void_p), ("v_values", ctypes.c_void_p),
                ("v_index", ctypes.c_void_p), ("v_offsets", ctypes.c_void_p),
                ("bias", ctypes.c_void_p), ("threshold", ctypes.c_void_p)]


class _I8Params(ctypes.Structure):
    _fields_ = _F32Params._fields_ + [
        ("x_zero_point", ctypes.c_int32), ("y_zero_point", ctypes.c_int32),
        ("unit_consts", ctypes.c_void_p),
        ("acc_shift", ctypes.c_int32),
        ("y_multiplier", ctypes.c_int32), ("y_shift", ctypes.c_int32),
        ("w_gather", ctypes.c_void_p)]  # NULL: the row products (ke_egru.h)


class _State(ctypes.Structure):
    _fields_ = [("c_hat", ctypes.c_void_p), ("y", ctypes.c_void_p),
                ("active", ctypes.c_void_p), ("n_active", ctypes.c_int32)]


def _library():
    global _lib
    if _lib is None:
        lib = ctypes.CDLL(_build.ensure_built(_build.CORE_LIBRARY))
        lib.ke_egru_status_string.restype = ctypes.c_char_p
        _lib = lib
    return _lib


def _ptr(a):
    return a.ctypes.data_as(ctypes.c_void_p)


def _check(status):
    if status:
        raise ValueError(_library().ke_egru_status_string(status).decode())


UNIT_WORDS = 7  # int32 constants per unit of the int8 kernel (ke_egru.h)


def _fill(params, arrays, x_shape, units, dtypes):
    """Converts `arrays` to contiguous arrays of the C dtypes and stores pointers."""
    keep = {}
    for name, dtype in dtypes.items():
        keep[name] = np.ascontiguousarray(arrays[name], dtype)
        setattr(params, name, _ptr(keep[name]))
    params.input_size = x_shape[-1]
    params.units = units
    lib = _library()
    for rows, pre in ((x_shape[-1], "w"), (units, "v")):
        offsets = keep[f"{pre}_offsets"]
        if offsets.shape != (rows + 1,):
            raise ValueError(f"{pre}_offsets must have {rows + 1} entries, got {offsets.shape}.")
        nnz = int(offsets[-1])
        if keep[f"{pre}_index"].size < nnz or keep[f"{pre}_values"].size < nnz:
            raise ValueError(f"{pre}_values/{pre}_index are shorter than offsets[-1] = {nnz}.")
        _check(lib.ke_egru_check_sparse(ctypes.c_int32(rows), ctypes.c_int32(3 * units),
                                        ctypes.c_int32(nnz), _ptr(keep[f"{pre}_index"]),
                                        _ptr(offsets)))
    return keep


def run_float(x, packed, units, return_sequences=True):
    """Runs the float32 kernel on `x` (B, T, I); returns `(y, macs)`."""
    x = np.ascontiguousarray(x, np.float32)
    batch, time, _ = x.shape
    p = _F32Params()
    keep = _fill(p, packed, x.shape, units, {
        "w_values": np.float32, "w_index": np.int16, "w_offsets": np.int32,
        "v_values": np.float32, "v_index": np.int16, "v_offsets": np.int32,
        "bias": np.float32, "threshold": np.float32})
    c_hat, y = np.zeros(units, np.float32), np.zeros(units, np.float32)
    active = np.zeros(units, np.int16)
    state = _State(_ptr(c_hat), _ptr(y), _ptr(active), 0)
    scratch = np.zeros(6 * units, np.float32)
    out = np.zeros((batch, time, units) if return_sequences else (batch, units), np.float32)
    macs = ctypes.c_uint64(0)
    _library().ke_egru_f32_run(ctypes.byref(p), _ptr(x), batch, time, int(return_sequences),
                               _ptr(out), ctypes.byref(state), _ptr(scratch), ctypes.byref(macs))
    del keep
    return out, macs.value


def run_int8(x, packed, units, x_scale, x_zero_point, y_scale, y_zero_point,
             return_sequences=True):
    """Runs the int8 kernel on int8 `x` (B, T, I); returns `(y_int8, macs)`."""
    x = np.ascontiguousarray(x, np.int8)
    batch, time, _ = x.shape
    lib = _library()
    p = _I8Params()
    keep = _fill(p, packed, x.shape, units, {
        "w_values": np.int8, "w_index": np.int16, "w_offsets": np.int32,
        "v_values": np.int8, "v_index": np.int16, "v_offsets": np.int32,
        "bias": np.int32, "threshold": np.int16})
    w_scale = np.ascontiguousarray(packed["w_scale"], np.float32)
    v_scale = np.ascontiguousarray(packed["v_scale"], np.float32)
    consts = np.zeros(UNIT_WORDS * units, np.int32)
    acc_shift, y_mult, y_shift = ctypes.c_int32(), ctypes.c_int32(), ctypes.c_int32()
    _check(lib.ke_egru_i8_prepare(units, ctypes.c_float(x_scale), _ptr(w_scale),
                                  ctypes.c_float(y_scale), _ptr(v_scale),
                                  _ptr(keep["threshold"]), _ptr(consts),
                                  ctypes.byref(acc_shift), ctypes.byref(y_mult),
                                  ctypes.byref(y_shift)))
    p.unit_consts = _ptr(consts)
    p.acc_shift = acc_shift.value
    p.x_zero_point, p.y_zero_point = int(x_zero_point), int(y_zero_point)
    p.y_multiplier, p.y_shift = y_mult.value, y_shift.value
    _check(lib.ke_egru_i8_check_constants(ctypes.byref(p)))
    c_hat, y = np.zeros(units, np.int16), np.zeros(units, np.int8)
    active = np.zeros(units, np.int16)
    state = _State(_ptr(c_hat), _ptr(y), _ptr(active), 0)
    scratch = np.zeros(6 * units, np.int32)
    out = np.zeros((batch, time, units) if return_sequences else (batch, units), np.int8)
    macs = ctypes.c_uint64(0)
    lib.ke_egru_i8_run(ctypes.byref(p), _ptr(x), batch, time, int(return_sequences), _ptr(out),
                       ctypes.byref(state), _ptr(scratch), ctypes.byref(macs))
    del keep
    return out, macs.value

"""Independent NumPy model of the KE_EGRU integer arithmetic (custom_ops/README.md).

Written from the README's "Numerics" section, not from the C code: dense int64
matrix products instead of the kernel's sparse event loop, NumPy int64 shifts
for rounding, Python floats for the multipliers.  The C kernel must match it
bit for bit.
"""
import math

import numpy as np

PRE_FRAC = 12    # gate pre-activations Q3.12
STATE_FRAC = 15  # gates / c / chat / theta Q0.15


def gate_table(f):
    """257-entry table round(32767 * f((i - 128) / 16))."""
    return np.array([int(round(32767.0 * f((i - 128) / 16.0))) for i in range(257)], np.int64)


SIGMOID_TABLE = gate_table(lambda v: 1.0 / (1.0 + math.exp(-v)))
TANH_TABLE = gate_table(math.tanh)


def rnd(v, n):
    """floor((v + 2^(n-1)) / 2^n) on int64."""
    return (np.asarray(v, np.int64) + (1 << (n - 1))) >> n


def quantize_multiplier(real):
    """real = m * 2^(shift - 31), m in [2^30, 2^31)."""
    real = float(real)
    e = 0
    while real >= 1.0:
        real *= 0.5
        e += 1
    while real < 0.5:
        real *= 2.0
        e -= 1
    q = int(math.floor(real * 2147483648.0 + 0.5))
    if q == 1 << 31:
        q >>= 1
        e += 1
    assert -31 <= e <= 30, "scale out of the kernel's range"
    return q, e


def mbm(x, multiplier, shift):
    """round(x * m * 2^(shift-31)) saturated to int32 (vectorised over arrays)."""
    x = np.asarray(x, np.int64)
    m = np.asarray(multiplier, np.int64)
    n = 31 - np.asarray(shift, np.int64)
    out = (x * m + (np.int64(1) << (n - 1))) >> n
    return np.clip(out, -2**31, 2**31 - 1)


def fused_multipliers(m_a, m_g):
    """Layer shift L >= 0 and per-column multipliers round(M 2^(32-L)) < 2^31."""
    largest = max(max(m_a), max(m_g))
    shift = 0
    while largest * 2.0 ** (32 - shift) + 0.5 >= 2.0 ** 31:
        shift += 1
    unit = 2.0 ** (32 - shift)
    q = lambda ms: np.array([int(math.floor(m * unit + 0.5)) for m in ms], np.int64)
    return shift, q(m_a), q(m_g)


def requant(acc_a, m_a, acc_g=0, m_g=0):
    """floor((A m_a + G m_g) / 2^32): the high word of a 64-bit sum."""
    total = (np.asarray(acc_a, object) * np.asarray(m_a, object)
             + np.asarray(acc_g, object) * np.asarray(m_g, object))
    return np.array([int(v) >> 32 for v in np.atleast_1d(total)], np.int64)


def lut(table, x_q12):
    v = np.asarray(x_q12, np.int64) + 32768
    i, f = v >> 8, v & 255
    lo, hi = table[i], table[i + 1]
    return lo + rnd((hi - lo) * f, 8)


def sat16(v):
    return np.clip(v, -32768, 32767)


def egru_int8(x_q, dense_w_q, dense_v_q, bias_q, threshold_q, w_scale, v_scale,
              x_scale, x_zero_point, y_scale, y_zero_point, return_sequences=True):
    """int8 x (B, T, I) -> int8 y, with dense int8 weights (I, 3U), (U, 3U)."""
    x_q = np.asarray(x_q, np.int64)
    w = np.asarray(dense_w_q, np.int64)
    v = np.asarray(dense_v_q, np.int64)
    bias_q = np.asarray(bias_q, np.int64)
    theta = np.asarray(threshold_q, np.int64)
    batch, time, _ = x_q.shape
    units = v.shape[0]
    f32 = lambda s: float(np.float32(s))  # the kernel reads float32 scales
    m_a = [f32(x_scale) * f32(s) * 2**PRE_FRAC for s in w_scale]
    m_g = [f32(y_scale) * f32(s) * 2**PRE_FRAC for s in v_scale]
    shift, am, gm = fused_multipliers(m_a, m_g)
    ym, ysh = quantize_multiplier(1.0 / (2**STATE_FRAC * f32(y_scale)))

    out = np.zeros((batch, time, units), np.int64)
    for b in range(batch):
        c_hat = np.zeros(units, np.int64)
        y = np.full(units, y_zero_point, np.int64)
        for t in range(time):
            acc_a = bias_q[0] + (x_q[b, t] - x_zero_point) @ w
            acc_g = bias_q[1] + (y - y_zero_point) @ v
            acc_a, acc_g = acc_a << shift, acc_g << shift
            u_, r_, z_ = slice(0, units), slice(units, 2 * units), slice(2 * units, None)
            u = lut(SIGMOID_TABLE, sat16(requant(acc_a[u_], am[u_], acc_g[u_], gm[u_])))
            r = lut(SIGMOID_TABLE, sat16(requant(acc_a[r_], am[r_], acc_g[r_], gm[r_])))
            hz = requant(acc_g[z_], gm[z_])
            z = lut(TANH_TABLE, sat16(requant(acc_a[z_], am[z_]) + ((r * hz) >> 15)))
            c = sat16(rnd(u * z + (32768 - u) * c_hat, 15))
            event = c > theta
            y_ev = np.clip(mbm(c, ym, ysh) + y_zero_point, -128, 127)
            y = np.where(event, y_ev, y_zero_point)
            c_hat = np.where(event, c - theta, c)
            out[b, t] = y
    out = out.astype(np.int8)
    return out if return_sequences else out[:, -1]

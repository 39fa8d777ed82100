"""Independent NumPy model of the KE_DELTA_GRU / KE_DELTA_LSTM integer arithmetic.

Written from custom_ops/README.md ("Numerics of the delta ops"), not from the C code: the
delta memories are computed densely from the transmitted values (M = bias + (x̂ - zp) W, which
the kernel's incremental row updates must equal exactly), int64 NumPy for the rest. The
table lookup, requantizations and multipliers are the KE_EGRU model's (int8_model.py).
"""
import numpy as np

from int8_model import (PRE_FRAC, SIGMOID_TABLE, STATE_FRAC, TANH_TABLE, fused_multipliers,
                        lut, requant, rnd, sat16)


def output_multiplier(y_scale):
    """(m, n): round(2^-15 / s_y * 2^n) in [2^14, 2^15), n in 1..30 (README)."""
    real = 1.0 / (2**STATE_FRAC * float(np.float32(y_scale)))
    n = next(n for n in range(1, 31) if 2**14 <= real * 2**n < 2**15)
    m = int(np.floor(real * 2**n + 0.5))
    return (2**14, n - 1) if m == 2**15 else (m, n)


def _delta(v, v_hat, theta):
    sent = np.abs(v - v_hat) > theta
    return np.where(sent, v, v_hat), sent


def delta_int8(kind, x_q, w_q, v_q, bias_q, threshold_q, w_scale, v_scale, x_scale,
               x_zero_point, y_scale, y_zero_point, return_sequences=True):
    """int8 x (B, T, I) -> (int8 output, sent input / hidden fractions) of a delta op, `kind`
    "gru" (bias (2, 3U)) or "lstm" (bias (4U,)), dense int8 weights (I, G U), (U, G U)."""
    x_q = np.asarray(x_q, np.int64)
    w, v = np.asarray(w_q, np.int64), np.asarray(v_q, np.int64)
    bias_q = np.asarray(bias_q, np.int64)
    bias_x, bias_h = (bias_q[0], bias_q[1]) if kind == "gru" else (bias_q, 0 * bias_q)
    batch, time, features = x_q.shape
    units = v.shape[0]
    f32 = lambda s: float(np.float32(s))
    m_a = [f32(x_scale) * f32(s) * 2**PRE_FRAC for s in w_scale]
    m_g = [f32(y_scale) * f32(s) * 2**PRE_FRAC for s in v_scale]
    shift, am, gm = fused_multipliers(m_a, m_g)
    ym, ysh = output_multiplier(y_scale)
    gate = lambda k: slice(k * units, (k + 1) * units)
    out = np.zeros((batch, time, units), np.int64)
    sent_x = sent_h = 0
    for b in range(batch):
        x_hat = np.full(features, x_zero_point, np.int64)
        y = h_hat = np.full(units, y_zero_point, np.int64)
        state = np.zeros(units, np.int64)  # GRU: h Q0.15; LSTM: c Q3.12
        for t in range(time):
            x_hat, sx = _delta(x_q[b, t], x_hat, threshold_q[0])
            h_hat, sh = _delta(y, h_hat, threshold_q[1])
            sent_x, sent_h = sent_x + sx.sum(), sent_h + sh.sum()
            acc_a = (bias_x + (x_hat - x_zero_point) @ w) << shift
            acc_g = (bias_h + (h_hat - y_zero_point) @ v) << shift
            pre = lambda k: sat16(requant(acc_a[gate(k)], am[gate(k)], acc_g[gate(k)], gm[gate(k)]))
            if kind == "gru":
                z, r = lut(SIGMOID_TABLE, pre(0)), lut(SIGMOID_TABLE, pre(1))
                an, hn = requant(acc_a[gate(2)], am[gate(2)]), requant(acc_g[gate(2)], gm[gate(2)])
                n = lut(TANH_TABLE, sat16(an + ((r * hn) >> 15)))
                state = n + rnd(z * (state - n), 15)
                h = state
            else:
                i, f = lut(SIGMOID_TABLE, pre(0)), lut(SIGMOID_TABLE, pre(1))
                g, o = lut(TANH_TABLE, pre(2)), lut(SIGMOID_TABLE, pre(3))
                state = sat16(rnd(f * state + ((i * g) >> 3), 15))
                h = rnd(o * lut(TANH_TABLE, state), 15)
            y = np.clip(rnd(h * ym, ysh) + y_zero_point, -128, 127)
            out[b, t] = y
    out = out.astype(np.int8)
    rates = (sent_x / (batch * time * features), sent_h / (batch * time * units))
    return (out if return_sequences else out[:, -1]), rates

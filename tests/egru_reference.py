"""NumPy reference of the EGRU step (Subramoney et al., ICLR 2023), written from the
equations in the EGRUCell docstring, independent of Keras."""

import numpy as np


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def egru_sequence(x, kernel, recurrent_kernel, bias, threshold, c0=None, y0=None):
    """Run (B, T, I) inputs; returns y (B, T, U), final ĉ, final y, events (B, T, U)."""
    x = np.asarray(x, np.float64)
    batch, steps, _ = x.shape
    units = recurrent_kernel.shape[0]
    c = np.zeros((batch, units)) if c0 is None else np.asarray(c0, np.float64)
    y = np.zeros((batch, units)) if y0 is None else np.asarray(y0, np.float64)
    ys, es = [], []
    for t in range(steps):
        a = x[:, t] @ kernel + bias[0]
        g = y @ recurrent_kernel + bias[1]
        u = sigmoid(a[:, :units] + g[:, :units])
        r = sigmoid(a[:, units:2 * units] + g[:, units:2 * units])
        z = np.tanh(a[:, 2 * units:] + r * g[:, 2 * units:])
        c = u * z + (1 - u) * c
        e = (c > threshold).astype(np.float64)
        y = c * e
        c = c - e * threshold
        ys.append(y)
        es.append(e)
    return np.stack(ys, 1), c, y, np.stack(es, 1)

"""NumPy float64 Delta-GRU / Delta-LSTM forward pass, written from the papers.

Neil et al., "Delta Networks for Optimized Recurrent Network Computation" (ICML 2017);
Gao et al., "EdgeDRNN" (IEEE JETCAS 2020). Independent of `keras_events/cells/delta*.py`
(only the conventions of /work/wt/briefs/delta_contract.md are shared: Keras's weight
layout, GRU gates [z | r | h] with the reset after the recurrent product, LSTM gates
[i | f | c | o]). The memories are kept as explicit sums of the sent rows, one
component at a time, so this code shares no matrix formulation with the cells.
"""

import numpy as np


def _sigmoid(v):
    return 1.0 / (1.0 + np.exp(-v))


def _encode(v, v_hat, threshold):
    sent = np.abs(v - v_hat) > threshold
    return np.where(sent, v - v_hat, 0.0), np.where(sent, v, v_hat), sent


def _sent_rows(delta, weights):
    """Σ_i delta_i W[i, :] over the sent (non-zero) components only, per batch row."""
    out = np.zeros((delta.shape[0], weights.shape[1]))
    for b, i in zip(*np.nonzero(delta)):
        out[b] += delta[b, i] * weights[i]
    return out


def gru_sequence(x, kernel, recurrent, bias, input_threshold, hidden_threshold):
    """(B, T, I) -> outputs (B, T, U), input masks (B, T, I), hidden masks (B, T, U)."""
    batch, steps, _ = x.shape
    units = recurrent.shape[0]
    h = np.zeros((batch, units))
    x_hat, h_hat = np.zeros((batch, x.shape[2])), np.zeros((batch, units))
    m_x, m_h = np.zeros((batch, 3 * units)), np.zeros((batch, 3 * units))
    outputs, sent_x, sent_h = [], [], []
    for t in range(steps):
        dx, x_hat, sx = _encode(x[:, t], x_hat, input_threshold)
        dh, h_hat, sh = _encode(h, h_hat, hidden_threshold)
        m_x = m_x + _sent_rows(dx, kernel)
        m_h = m_h + _sent_rows(dh, recurrent)
        a, g = m_x + bias[0], m_h + bias[1]
        z = _sigmoid(a[:, :units] + g[:, :units])
        r = _sigmoid(a[:, units:2 * units] + g[:, units:2 * units])
        n = np.tanh(a[:, 2 * units:] + r * g[:, 2 * units:])
        h = z * h + (1.0 - z) * n
        outputs.append(h), sent_x.append(sx), sent_h.append(sh)
    return np.stack(outputs, 1), np.stack(sent_x, 1), np.stack(sent_h, 1)


def lstm_sequence(x, kernel, recurrent, bias, input_threshold, hidden_threshold):
    """(B, T, I) -> outputs (B, T, U), input masks (B, T, I), hidden masks (B, T, U)."""
    batch, steps, _ = x.shape
    units = recurrent.shape[0]
    h, c = np.zeros((batch, units)), np.zeros((batch, units))
    x_hat, h_hat = np.zeros((batch, x.shape[2])), np.zeros((batch, units))
    m = np.zeros((batch, 4 * units))
    outputs, sent_x, sent_h = [], [], []
    for t in range(steps):
        dx, x_hat, sx = _encode(x[:, t], x_hat, input_threshold)
        dh, h_hat, sh = _encode(h, h_hat, hidden_threshold)
        m = m + _sent_rows(dx, kernel) + _sent_rows(dh, recurrent)
        p = m + bias
        i, f, o = (_sigmoid(p[:, k * units:(k + 1) * units]) for k in (0, 1, 3))
        g = np.tanh(p[:, 2 * units:3 * units])
        c = f * c + i * g
        h = o * np.tanh(c)
        outputs.append(h), sent_x.append(sx), sent_h.append(sh)
    return np.stack(outputs, 1), np.stack(sent_x, 1), np.stack(sent_h, 1)

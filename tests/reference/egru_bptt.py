"""NumPy float64 EGRU: forward pass and back-propagation through time, derived by hand.

Written from Subramoney, Nazeer, Schöne, Mayr & Kappel, "Efficient recurrent
architectures through activity sparsity and sparse back-propagation through time"
(ICLR 2023), independently of `keras_events/cells/egru.py` (only its conventions
are shared: gate order [u | r | z] in the columns, two bias rows, the reset gate
applied after the recurrent matmul, ϑ = sigmoid(threshold_param)). The paper's
event-based GRU (its section "Event-based GRU"):

    u_t = σ(x_t W_u + y_{t-1} V_u + b_u)          update gate
    r_t = σ(x_t W_r + y_{t-1} V_r + b_r)          reset gate
    z_t = tanh(x_t W_z + r_t ⊙ (y_{t-1} V_z) + b_z)   candidate
    c_t = u_t ⊙ z_t + (1 - u_t) ⊙ ĉ_{t-1}         internal state
    e_t = H(c_t - ϑ)                              event (Heaviside)
    y_t = c_t ⊙ e_t                               output: c_t at an event, else 0
    ĉ_t = c_t - e_t ⊙ ϑ                           reset by subtraction, before the
                                                  next step's (1 - u) decay

and its surrogate gradient: the backward pass replaces H'(v) by a pseudo-derivative
ψ(v), v = c_t - ϑ (triangle γ·max(0, 1 - |v|/ε) in the paper). Differentiating the
step by hand, with g_y and g_ĉ the loss gradients arriving at y_t and ĉ_t:

    ∂y/∂c = e + c ψ        ∂y/∂ϑ = -c ψ
    ∂ĉ/∂c = 1 - ϑ ψ        ∂ĉ/∂ϑ = ϑ ψ - e
    g_c   = g_y (e + c ψ) + g_ĉ (1 - ϑ ψ)
    g_ϑ  += g_y (-c ψ) + g_ĉ (ϑ ψ - e)
    g_u = g_c (z - ĉ_{t-1}),  g_z = g_c u,  g_ĉ_{t-1} = g_c (1 - u)
    s_z = a_z + r ⊙ h_z:  g_sz = g_z (1 - z²),  g_r = g_sz h_z,  g_hz = g_sz r
    g_su = g_u u (1 - u),  g_sr = g_r r (1 - r)
    a = x W + b_in  -> g_W += xᵀ [g_su|g_sr|g_sz],  g_x = [..] Wᵀ
    h = y V + b_rec -> g_V += y_{t-1}ᵀ [g_su|g_sr|g_hz],  g_y_{t-1} += [..] Vᵀ
    ϑ = σ(p)        -> g_p = g_ϑ ϑ (1 - ϑ)

Sparse BPTT (the paper's "sparse backward pass"): ∂y/∂c = e + cψ is zero unless the
unit emitted an event or ψ(c - ϑ) ≠ 0 (the *backward-active* set), so the gradient
reaching y_{t-1} is needed only for the rows of V of units backward-active at t-1.
`backward(..., sparse=True)` computes exactly that, with index lists, touching no
other row of V; it must equal the dense `backward`.

The event function is a parameter: `heaviside(psi)` (the cell's forward) or a smooth
step ``S`` with ``S' = ψ`` (finite-difference checks: then the gradient is exact).
"""

import numpy as np


def sigmoid(v):
    return 1.0 / (1.0 + np.exp(-v))


def heaviside(psi):
    """Event function: forward H(v) = [v > 0], backward the pseudo-derivative ``psi``."""
    return (lambda v: (v > 0).astype(np.float64)), psi


def forward(x, kernel, recurrent_kernel, bias, threshold_param, event, c0=None, y0=None,
            input_mask=None, recurrent_mask=None):
    """Run (B, T, I) inputs; returns the trace (every intermediate BPTT needs).

    ``event = (value(v), derivative(v))``. ``input_mask`` (B, I) and ``recurrent_mask``
    (B, U) multiply x_t and y_{t-1} at every step (dropout masks fixed per sequence).
    """
    x = np.asarray(x, np.float64)
    W, V = np.asarray(kernel, np.float64), np.asarray(recurrent_kernel, np.float64)
    b = np.asarray(bias, np.float64)
    p = np.asarray(threshold_param, np.float64)
    batch, steps, _ = x.shape
    units = V.shape[0]
    theta = sigmoid(p)
    value, derivative = event
    c_hat = np.zeros((batch, units)) if c0 is None else np.asarray(c0, np.float64)
    y = np.zeros((batch, units)) if y0 is None else np.asarray(y0, np.float64)
    mx = np.ones((batch, x.shape[2])) if input_mask is None else np.asarray(input_mask, np.float64)
    my = np.ones((batch, units)) if recurrent_mask is None else np.asarray(recurrent_mask, np.float64)
    steps_out = []
    for t in range(steps):
        xt, yp = x[:, t] * mx, y * my
        a = xt @ W + b[0]
        h = yp @ V + b[1]
        u = sigmoid(a[:, :units] + h[:, :units])
        r = sigmoid(a[:, units:2 * units] + h[:, units:2 * units])
        hz = h[:, 2 * units:]
        z = np.tanh(a[:, 2 * units:] + r * hz)
        c = u * z + (1.0 - u) * c_hat
        v = c - theta
        e, psi = value(v), derivative(v)
        step = dict(x=xt, y_prev=yp, c_prev=c_hat, u=u, r=r, z=z, hz=hz, c=c, e=e, psi=psi)
        y = c * e
        c_hat = c - e * theta
        step.update(y=y, c_hat=c_hat)
        steps_out.append(step)
    return dict(steps=steps_out, W=W, V=V, theta=theta, p=p, mx=mx, my=my)


def outputs(trace):
    """y (B, T, U), events (B, T, U), final ĉ, final y."""
    s = trace["steps"]
    return (np.stack([t["y"] for t in s], 1), np.stack([t["e"] for t in s], 1),
            s[-1]["c_hat"], s[-1]["y"])


def backward_active(trace):
    """(B, T, U) bool: units through which the gradient passes (event, or ψ ≠ 0)."""
    return np.stack([(t["e"] != 0) | (t["psi"] != 0) for t in trace["steps"]], 1)


def backward(trace, dy, dc_hat_last=None, dy_last=None, sparse=False, de=None):
    """Gradients of L with dL/dy_t = dy[:, t] (plus dL/dĉ_T, dL/dy_T on the final state;
    ``de``: dL/de_t of a loss on the events themselves, e.g. an event-rate penalty,
    reaching c and ϑ through ψ: ∂e/∂c = ψ, ∂e/∂ϑ = -ψ).

    Returns a dict: x (B, T, I), kernel, recurrent_kernel, bias (2, 3U),
    threshold_param (U,), c0, y0 (B, U). With ``sparse=True`` the y-path and ψ are
    restricted to the backward-active set and the recurrent backward product uses only
    the rows of V of units backward-active at the previous step (index lists).
    """
    steps, W, V, theta = trace["steps"], trace["W"], trace["V"], trace["theta"]
    batch, units = steps[0]["c"].shape
    active = backward_active(trace)
    g_W, g_V = np.zeros_like(W), np.zeros_like(V)
    g_b = np.zeros((2, 3 * units))
    g_theta = np.zeros(units)
    g_x = np.zeros((batch, len(steps), W.shape[0]))
    g_chat = np.zeros((batch, units)) if dc_hat_last is None else np.array(dc_hat_last, np.float64)
    g_yrec = np.zeros((batch, units)) if dy_last is None else np.array(dy_last, np.float64)
    for t in reversed(range(len(steps))):
        s = steps[t]
        psi = s["psi"] * active[:, t] if sparse else s["psi"]
        dy_dc = (s["e"] + s["c"] * psi) * (active[:, t] if sparse else 1.0)
        g_y = dy[:, t] + g_yrec
        g_c = g_y * dy_dc + g_chat * (1.0 - theta * psi)
        g_theta += np.sum(g_y * (-s["c"] * psi) + g_chat * (theta * psi - s["e"]), axis=0)
        if de is not None:
            g_c = g_c + de[:, t] * psi
            g_theta -= np.sum(de[:, t] * psi, axis=0)
        g_u = g_c * (s["z"] - s["c_prev"])
        g_z = g_c * s["u"]
        g_chat = g_c * (1.0 - s["u"])
        g_sz = g_z * (1.0 - s["z"] ** 2)
        g_r = g_sz * s["hz"]
        g_su = g_u * s["u"] * (1.0 - s["u"])
        g_sr = g_r * s["r"] * (1.0 - s["r"])
        g_a = np.concatenate([g_su, g_sr, g_sz], axis=1)
        g_h = np.concatenate([g_su, g_sr, g_sz * s["r"]], axis=1)
        g_W += s["x"].T @ g_a
        g_b[0] += g_a.sum(0)
        g_b[1] += g_h.sum(0)
        g_x[:, t] = (g_a @ W.T) * trace["mx"]
        if sparse:
            # y_{t-1} is zero except at events: only those rows of V get a gradient,
            # and only backward-active units at t-1 need dL/dy_{t-1}.
            g_yrec = np.zeros((batch, units))
            for n in range(batch):
                fired = np.flatnonzero(s["y_prev"][n])
                g_V[fired] += np.outer(s["y_prev"][n, fired], g_h[n])
                if t > 0:
                    rows = np.flatnonzero(active[n, t - 1])
                    g_yrec[n, rows] = (V[rows] @ g_h[n]) * trace["my"][n, rows]
                else:
                    g_yrec[n] = (V @ g_h[n]) * trace["my"][n]  # initial state: dense
        else:
            g_V += s["y_prev"].T @ g_h
            g_yrec = (g_h @ V.T) * trace["my"]
    g_p = g_theta * theta * (1.0 - theta)
    return dict(x=g_x, kernel=g_W, recurrent_kernel=g_V, bias=g_b, threshold_param=g_p,
                c0=g_chat, y0=g_yrec)


def egru_sequence(x, kernel, recurrent_kernel, bias, threshold, c0=None, y0=None):
    """Forward only, thresholds given as ϑ: y (B, T, U), final ĉ, final y, events (B, T, U)."""
    threshold = np.asarray(threshold, np.float64)
    trace = forward(x, kernel, recurrent_kernel, bias, np.log(threshold / (1.0 - threshold)),
                    heaviside(np.zeros_like), c0=c0, y0=y0)
    y, e, c_hat, y_last = outputs(trace)
    return y, c_hat, y_last, e

"""The influence matrix of exact RTRL, sparse RTRL and SnAp-n.

Real-time recurrent learning (Williams & Zipser 1989) carries the influence matrix
``M_t = ∂s_t/∂θ`` (units x parameters) forward in time,

    M_t = J_t M_{t-1} + Ī_t,        J_t = ∂s_t/∂s_{t-1},  Ī_t = immediate ∂s_t/∂θ,

and the gradient of a loss at step t is ``∂L_t/∂y_t · ∂y_t/∂θ`` with
``∂y_t/∂θ = diag(∂y_t/∂s_t) M_t`` (+ the threshold's direct term). Memory is
O(units x parameters) whatever the sequence length.

Sparse RTRL (Subramoney, Nazeer, Schöne, Mayr & Kappel, "Efficient Real Time Recurrent
Learning through combined activity and parameter sparsity", 2023): in an EGRU the
recurrent part of ``J_t`` reaches the other units only through ``y_{t-1}``, and
``∂y/∂s = e + s ψ(s - ϑ)`` is exactly zero for a unit that neither emitted an event nor is
within the surrogate's support. Those rows of ``M_{t-1}`` are not propagated
(activity sparsity, no approximation), and columns of pruned weights are not tracked at
all, since their gradient is zero (parameter sparsity).

SnAp-n (Menick, Elsen, Evci, Osindero, Simonyan & Graves, "A Practical Sparse
Approximation for Real Time Recurrent Learning", ICLR 2021) keeps only the entries of
``M`` that a parameter can reach within n steps: the pattern of ``Ī`` grown n - 1 times by
the (static, mask-given) pattern of ``J``; everything else is dropped after every step.
SnAp-n is exact while ``t <= n`` and, with a dense recurrent kernel, SnAp-2 already
keeps every entry (it equals RTRL).

The cost of a step in multiply-adds is returned by `keras_events.learning.cost`.
"""

import numpy as np
from keras import ops

METHODS = ("rtrl", "snap1", "snap2")


def bucket(active, units):
    """Static row count for ``active`` rows: the next power of two, at most ``units``
    (one compiled step per bucket: log2(units) variants instead of one per count)."""
    size = 1
    while size < active:
        size *= 2
    return min(size, units)


def snap_order(method):
    """n of ``"snapN"`` (None for exact RTRL)."""
    if method == "rtrl":
        return None
    if isinstance(method, str) and method.startswith("snap") and method[4:].isdigit() and int(method[4:]) >= 1:
        return int(method[4:])
    raise ValueError(f"Argument `method` must be 'rtrl' or 'snapN' (N >= 1, e.g. 'snap1', 'snap2'), "
                     f"got {method!r}.")


class Influence:
    """Forward-mode gradient of one recurrent cell.

    Args:
        math: `keras_events.learning.cells.CellMath` of the cell.
        masks: None or a list of NumPy 0/1 arrays, one per ``math.weights()`` entry
            (None for an unmasked weight): the pruning masks, fixed while this object lives.
        method: ``"rtrl"`` (exact) or ``"snapN"`` (SnAp-N, e.g. ``"snap1"``, ``"snap2"``).
        sparse: Skip rows of backward-silent units and columns of pruned weights
            (exact). ``False`` gives the dense reference (same numbers, all entries).
    """

    def __init__(self, math, masks=None, method="rtrl", sparse=True):
        self.math = math
        self.method = method
        self.order = snap_order(method)
        self.sparse = bool(sparse)
        weights = math.weights()
        masks = list(masks) if masks is not None else [None] * len(weights)
        if len(masks) != len(weights):
            raise ValueError(f"Argument `masks` needs one entry per weight ({len(weights)}), got {len(masks)}.")
        self.masks = [None if m is None else np.asarray(m, dtype=bool) for m in masks]
        self._layout(weights)

    # ---------------------------------------------------------------- layout
    def _layout(self, weights):
        """Tracked columns: kernel, recurrent kernel, biases (local), then thresholds."""
        U, I = self.math.units, self.math.input_dim
        G = self.math.gates_count
        names = ["kernel", "recurrent"] + (["bias"] if self.math.use_bias else [])
        names += ["threshold"] * (len(weights) - len(names))
        unit, coef, src, var, flat = [], [], [], [], []
        for v_index, (w, mask, name) in enumerate(zip(weights, self.masks, names)):
            shape = tuple(w.shape)
            keep = np.ones(shape, bool) if (mask is None or not self.sparse) else mask
            idx = np.flatnonzero(keep.reshape(-1))
            if name == "threshold":      # threshold_param: handled as the last block
                continue
            if len(shape) == 1:          # a single bias (Delta-LSTM): the input-side coefficient
                rows, cols = np.zeros_like(idx), idx
            else:
                rows, cols = np.unravel_index(idx, shape)
            if name == "kernel":
                c, s = cols, rows                                 # x_m feeds a-side of column q
            elif name == "recurrent":
                c, s = G * U + cols, I + rows                     # y_prev_j feeds g-side
            else:
                c, s = rows * G * U + cols, np.full_like(rows, I + U)   # bias row 0: a, row 1: g
            unit.append(cols % U)
            coef.append(c)
            src.append(s)
            var.append(np.full_like(idx, v_index))
            flat.append(idx)
        self.unit = np.concatenate(unit)
        self.coef_idx = np.concatenate(coef)
        self.src_idx = np.concatenate(src)
        self.var_idx = np.concatenate(var)
        self.flat_idx = np.concatenate(flat)
        self.n_local = len(self.unit)
        self.has_threshold = self.math.kind == "egru"
        self.n_columns = self.n_local + (U if self.has_threshold else 0)
        self._pattern = None if self.order is None else self.snap_pattern(self.order)

    def recurrent_mask(self):
        """0/1 (U, gates·U) mask of the recurrent kernel (ones if unpruned)."""
        U = self.math.units
        m = self.masks[1]
        return np.ones((U, self.math.gates_count * U), bool) if m is None else m

    def jacobian_pattern(self):
        """Static pattern of J (U x U, [i, j]: s_i depends on s_j): diagonal + recurrent."""
        U = self.math.units
        rec = self.recurrent_mask().reshape(U, self.math.gates_count, U).any(axis=1).T   # [i, j] = V[j, k*U+i] != 0
        return rec | np.eye(U, dtype=bool)

    def snap_pattern(self, n):
        """Boolean (U, columns) pattern kept by SnAp-n."""
        jac = self.jacobian_pattern().astype(np.int64)
        pattern = np.zeros((self.math.units, self.n_columns), bool)
        pattern[self.unit, np.arange(self.n_local)] = True
        if self.has_threshold:           # ϑ_j acts through y_j and ĉ_j: column j of J
            pattern[:, self.n_local:] = jac.astype(bool)
        for _ in range(n - 1):
            pattern = (jac @ pattern.astype(np.int64)) > 0
        return pattern

    # ---------------------------------------------------------------- state
    def initial_state(self, batch_size, dtype):
        """All the carried arrays; their sizes do not depend on the sequence length."""
        y, old, s = self.math.initial_state(batch_size, dtype)
        state = {"y": y, "old": old, "s": s,
                 "M": ops.zeros((batch_size, self.math.units, self.n_columns), dtype=dtype)}
        if self.has_threshold:
            zeros = ops.zeros_like(y)
            state.update(dy=zeros, dold=ops.ones_like(y), y_thr=zeros, old_thr=zeros)
        return state

    def _weights(self, dtype):
        out = []
        for w, mask in zip(self.math.weights(), self.masks):
            value = ops.cast(w.value, dtype)
            out.append(value if mask is None else value * ops.cast(mask, dtype))
        return out

    @staticmethod
    def _add_block(M, n_local, block):
        """M[..., n_local:] += block (the thresholds' own columns)."""
        return ops.concatenate([M[..., :n_local], M[..., n_local:] + block], axis=-1)

    def _scatter_index(self, batch):
        """(batch * n_local, 3) indices [b, unit(p), p] of the immediate term."""
        if getattr(self, "_scatter_cache", (None,))[0] != batch:
            b = np.repeat(np.arange(batch), self.n_local)
            p = np.tile(np.arange(self.n_local), batch)
            self._scatter_cache = (batch, np.stack([b, self.unit[p], p], axis=1))
        return self._scatter_cache[1]

    def active_mask(self, state):
        """(U,) bool: units whose row of ``M`` the next `step` pushes through the recurrent
        kernel (∂y/∂s ≠ 0 in any batch element); None: all (dense, or a cell without
        activity sparsity)."""
        if not (self.sparse and self.has_threshold):
            return None
        return ops.any(ops.not_equal(state["dy"], 0), axis=0)

    def active_rows(self, state):
        """Indices of `active_mask` (dynamic length); None = all."""
        mask = self.active_mask(state)
        return None if mask is None else ops.nonzero(mask)[0]

    def output_rows(self, state):
        """Rows of ``M`` whose ∂y/∂s can be non-zero at this state (the gradient's rows)."""
        return self.active_rows(state)

    def _rows(self, state, size):
        """The rows to gather: all active ones (dynamic length, ``size`` None) or exactly
        ``size`` indices that include every active row (static shape for XLA / jax.jit;
        ``size`` >= the number of active rows). The padding rows are inactive ones, whose
        scale (∂y/∂s, the send gain) is exactly zero, so they add zeros."""
        mask = self.active_mask(state)
        if mask is None:
            return None
        if size is None:
            return ops.nonzero(mask)[0]
        if size >= self.math.units:
            return None
        return ops.top_k(ops.cast(mask, "float32"), size, sorted=False)[1]

    def step(self, x, state, size=None):
        """Advance one step; returns the new state (its ``y`` is the cell output).
        ``size``: gather a static number of rows (see `bucket`), or None: exactly the
        active ones."""
        dtype = state["M"].dtype
        weights = self._weights(dtype)
        kernel, rec = weights[0], weights[1]
        bias = weights[2] if self.math.use_bias else None
        thr_param = weights[-1] if self.has_threshold else None
        x = ops.cast(x, dtype)
        y_prev, M = state["y"], state["M"]
        s, beta_in, beta_rec, keep = self.math.local_step(x, y_prev, state["old"], kernel, rec, bias)

        # Rows feeding the recurrent product: ∂y_{t-1}/∂θ = dy ⊙ M (+ the thresholds' own
        # entries), only for the active units.
        U = self.math.units
        rows = self._rows(state, size)
        M_y, V = M, rec
        if rows is not None:
            M_y, V = ops.take(M, rows, axis=1), ops.take(rec, rows, axis=0)
        if self.has_threshold:
            dy, y_thr = state["dy"], state["y_thr"]
            if rows is not None:
                dy, y_thr = ops.take(dy, rows, axis=1), ops.take(y_thr, rows, axis=1)
            M_y = dy[:, :, None] * M_y
            pick = ops.eye(U, dtype=dtype) if rows is None else ops.one_hot(rows, U, dtype=dtype)
            M_y = self._add_block(M_y, self.n_local, y_thr[:, :, None] * pick)
            keep_M = (keep * state["dold"])[:, :, None] * M        # ∂s/∂ĉ_prev · ∂ĉ_prev/∂θ
            keep_M = self._add_block(keep_M, self.n_local,
                                     (keep * state["old_thr"])[:, :, None] * ops.eye(U, dtype=dtype))
        else:
            keep_M = keep[:, :, None] * M
        # G[b, k*U+i, p] = Σ_j V[j, k*U+i] M_y[b, j, p], scaled by ∂s_i/∂g_{k,i}.
        G = ops.einsum("bjp,jq->bqp", M_y, V) * beta_rec[:, :, None]
        M_new = keep_M + ops.sum(ops.reshape(G, (-1, 3, U, self.n_columns)), axis=1)

        M_new = M_new + self._immediate(beta_in, beta_rec, x, y_prev)
        if self._pattern is not None:
            M_new = M_new * ops.cast(self._pattern, dtype)

        new = {"s": s, "M": M_new}
        if self.has_threshold:
            y, old, dy, dold, y_thr, old_thr = self.math.outputs(s, thr_param)
            new.update(y=y, old=old, dy=dy, dold=dold, y_thr=y_thr, old_thr=old_thr)
        else:
            new.update(y=s, old=s)
        return new

    def _immediate(self, beta_in, beta_rec, x, y_prev):
        """Ī_t: column p moves only its own unit's row (scattered, not multiplied); ``x``
        and ``y_prev`` are the vectors the kernel and the recurrent kernel multiply."""
        batch = x.shape[0]
        ones = ops.ones_like(x[:, :1])
        coef = ops.take(ops.concatenate([beta_in, beta_rec], axis=-1), self.coef_idx, axis=1)
        source = ops.take(ops.concatenate([x, y_prev, ones], axis=-1), self.src_idx, axis=1)
        return ops.scatter(self._scatter_index(batch), ops.reshape(coef * source, (-1,)),
                           (batch, self.math.units, self.n_columns))

    def gradients(self, state, delta, gather=True):
        """``∂L/∂θ`` for ``delta = ∂L/∂y`` (batch, U) at this state, one tensor per
        ``math.weights()`` entry (pruned entries exactly zero). ``gather=False`` multiplies
        all rows (static shapes; the skipped rows are zero either way)."""
        M = state["M"]
        dtype = M.dtype
        delta = ops.cast(delta, dtype)
        w = delta * state["dy"] if self.has_threshold else delta
        rows = self.output_rows(state) if gather else None
        if rows is not None:
            w, M = ops.take(w, rows, axis=1), ops.take(M, rows, axis=1)
        flat = ops.einsum("bi,bip->p", w, M)
        return self._unflatten(flat, delta, state)

    def _unflatten(self, flat, delta, state):
        """Per-variable gradients from the gradient of the tracked columns."""
        dtype = flat.dtype
        grads = []
        for v_index, var in enumerate(self.math.weights()):
            shape = tuple(var.shape)
            if self.has_threshold and v_index == len(self.masks) - 1:
                g = flat[self.n_local:] + ops.sum(delta * state["y_thr"], axis=0)
            else:
                sel = np.flatnonzero(self.var_idx == v_index)
                g = ops.scatter(self.flat_idx[sel][:, None], ops.take(flat, sel), (int(np.prod(shape)),))
                g = ops.reshape(g, shape)
                if self.masks[v_index] is not None:
                    g = g * ops.cast(self.masks[v_index], dtype)
            grads.append(g)
        return grads

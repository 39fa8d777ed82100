"""Online-learning cost per step: dense vs sparse RTRL, SnAp-1/2 and BPTT (issue 24).

One EGRU (32 units, 8 inputs, batch 1, float64) at activity sparsity 0/50/90 % (share of
units whose ∂y/∂s is zero, set by the surrogate's width at a fixed threshold) x weight
sparsity 0/50/80 % (random masks on both kernels). For each it runs the same input
stream through dense RTRL (every row and column), sparse RTRL (Subramoney et al. 2023),
SnAp-1/2 (Menick et al. 2021) and BPTT and prints counted multiply-adds per step
(`keras_events.learning.cost`), wall time per step (TF, tf.function) and the largest
relative gradient difference of sparse RTRL vs dense RTRL and vs BPTT. Ratios are from
this one run; wall times depend on the machine and its load.

    python benchmarks/rtrl_bench.py [--units 32] [--inputs 8] [--steps 40]
"""

import argparse
import os
import time

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from keras_events import EGRUCell  # noqa: E402
from keras_events.learning import CellMath, Influence, cost  # noqa: E402
from keras_events.learning._autodiff import value_and_grad  # noqa: E402

THRESHOLD = 0.8


def make_cell(units, inputs, surrogate, seed=0):
    keras.utils.set_random_seed(seed)
    # zero biases (not U(0, 1)) keep the event rate low enough for 90 % activity sparsity
    cell = EGRUCell(units, surrogate=surrogate, threshold_init=THRESHOLD, bias_initializer="zeros",
                    dtype="float64")
    cell.build((None, inputs))
    return cell


def width_for(cell, x, masks, activity_sparsity):
    """Triangle width at which the wanted share of (step, unit) pairs has ∂y/∂s = 0.
    The forward pass does not depend on the surrogate, so the states are computed once."""
    inf = Influence(CellMath(cell), masks)
    state = inf.initial_state(1, "float64")
    states = []
    for t in range(x.shape[0]):
        state = inf.step(x[t:t + 1], state)
        states.append(np.asarray(state["s"])[0])
    v = np.stack(states) - THRESHOLD
    events = v > 0
    wanted = 1.0 - activity_sparsity - events.mean()
    if wanted <= 0:
        raise SystemExit(f"event rate {events.mean():.2f} alone exceeds the activity target")
    return float(np.quantile(np.abs(v[~events]), wanted / (1.0 - events.mean())))


def run_influence(cell, masks, method, sparse, x, delta):
    inf = Influence(CellMath(cell), masks, method=method, sparse=sparse)

    @tf.function(reduce_retracing=True)
    def step(x_t, state):
        state = inf.step(x_t, state)
        return state, inf.gradients(state, delta)

    state = inf.initial_state(1, "float64")
    total, macs, times = None, [], []
    for t in range(x.shape[0]):
        previous = inf.active_rows(state)
        start = time.perf_counter()
        state, grads = step(x[t:t + 1], state)
        grads = [g.numpy() for g in grads]
        times.append(time.perf_counter() - start)
        rows = [None if r is None else r.numpy() for r in (previous, inf.active_rows(state))]
        macs.append(cost.rtrl_step_macs(inf, *rows))
        total = grads if total is None else [a + g for a, g in zip(total, grads)]
    warm = len(times) // 4                        # the first calls trace the graph
    return {"macs": np.mean([m["total"] for m in macs]), "entries": macs[-1]["entries"],
            "ms": 1e3 * np.median(times[warm:]), "grads": total}


def run_bptt(cell, masks, x, delta):
    math = CellMath(cell)
    weights = math.weights()
    mask_t = [None if m is None else tf.constant(m, tf.float64) for m in masks]

    def loss():
        w = [v.value if m is None else v.value * m for v, m in zip(weights, mask_t)]
        y, old, _ = math.initial_state(1, "float64")
        total = 0.0
        for t in range(x.shape[0]):
            y, old = math.forward(x[t:t + 1], y, old, w)
            total = total + tf.reduce_sum(y * delta)
        return total, None

    fn = tf.function(lambda: value_and_grad(loss, weights)[2])
    fn()
    start = time.perf_counter()
    grads = [g.numpy() for g in fn()]
    elapsed = time.perf_counter() - start
    return {"ms": 1e3 * elapsed / x.shape[0], "grads": grads,
            "macs": cost.bptt_step_macs(cell.units, x.shape[1])["total"]}


def rel(a, b):
    return max(np.linalg.norm(p - q) / max(np.linalg.norm(q), 1e-300) for p, q in zip(a, b))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=32)
    parser.add_argument("--inputs", type=int, default=8)
    parser.add_argument("--steps", type=int, default=40)
    args = parser.parse_args()
    keras.config.set_floatx("float64")
    rng = np.random.default_rng(0)
    x = rng.normal(size=(args.steps, args.inputs))
    delta = tf.constant(rng.normal(size=(1, args.units)))
    U = args.units
    print(f"EGRU {U} units, {args.inputs} inputs, batch 1, {args.steps} steps; MACs = counted "
          f"multiply-adds per step, ms = median wall time per step (TF, tf.function)")
    header = (f"{'act.sp':>6} {'w.sp':>5} | {'dense MACs':>11} {'sparse MACs':>11} {'ratio':>6} | "
              f"{'SnAp-1':>9} {'SnAp-2':>10} {'BPTT':>7} | {'dense ms':>8} {'sparse ms':>9} "
              f"{'snap1 ms':>8} {'snap2 ms':>8} {'bptt ms':>7} | {'sp-vs-dense':>11} {'vs BPTT':>8}")
    print(header)
    print("-" * len(header))
    for weight_sparsity in (0.0, 0.5, 0.8):
        masks = [None, None, None, None]
        if weight_sparsity > 0:
            masks = [rng.random((args.inputs, 3 * U)) >= weight_sparsity,
                     rng.random((U, 3 * U)) >= weight_sparsity, None, None]
        for activity_sparsity in (0.0, 0.5, 0.9):
            if activity_sparsity == 0:
                surrogate = "ste"        # ψ = 1: every unit backward-active
            else:
                base = make_cell(U, args.inputs, "triangle")
                width = width_for(base, x, masks, activity_sparsity)
                surrogate = {"class_name": "triangle", "config": {"width": width}}
            cell = make_cell(U, args.inputs, surrogate)
            dense = run_influence(cell, masks, "rtrl", False, x, delta)
            sparse = run_influence(cell, masks, "rtrl", True, x, delta)
            snap1 = run_influence(cell, masks, "snap1", True, x, delta)
            snap2 = run_influence(cell, masks, "snap2", True, x, delta)
            bptt = run_bptt(cell, masks, x, delta)
            print(f"{activity_sparsity:6.0%} {weight_sparsity:5.0%} | {dense['macs']:11.3g} "
                  f"{sparse['macs']:11.3g} {dense['macs'] / sparse['macs']:5.1f}x | "
                  f"{snap1['macs']:9.3g} {snap2['macs']:10.3g} {bptt['macs']:7.3g} | "
                  f"{dense['ms']:8.2f} {sparse['ms']:9.2f} {snap1['ms']:8.2f} {snap2['ms']:8.2f} "
                  f"{bptt['ms']:7.2f} | {rel(sparse['grads'], dense['grads']):11.1e} "
                  f"{rel(sparse['grads'], bptt['grads']):8.1e}", flush=True)


if __name__ == "__main__":
    main()

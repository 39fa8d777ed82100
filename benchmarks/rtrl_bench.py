"""Online-learning cost per step: dense vs sparse RTRL, SnAp-1/2 and BPTT (issue 24).

One cell (32 units, 8 inputs, batch 1, float64), EGRU and Delta-GRU (``--cells
delta_lstm``: Delta-LSTM), at activity
sparsity 0/50/90 % x weight sparsity 0/50/80 % (random masks on both kernels). Activity
sparsity is the share of (step, unit) pairs whose row of the influence matrix is not
propagated: for the EGRU, units with ∂y/∂s = 0 (set by the surrogate's width at a fixed
threshold); for the delta cells, units not sent (set by the hidden threshold). For each it
runs the same input stream through dense RTRL (every row and column), sparse RTRL
(Subramoney et al. 2023), SnAp-1/2 (Menick et al. 2021) and BPTT and prints counted
multiply-adds per step (`keras_events.learning.cost`), the median wall time of one
compiled step (influence update + gradient: `tf.function`, with ``--xla`` XLA, or
`jax.jit` under ``KERAS_BACKEND=jax``; for dense and sparse RTRL each step is timed
``--repeats`` times and the fastest kept, and "cpu" is the dense/sparse ratio of the
process CPU time, which machine load disturbs less) and the largest relative gradient difference of
sparse RTRL vs dense RTRL and vs BPTT. Ratios are from this one run; wall times depend
on the machine and its load.

    python benchmarks/rtrl_bench.py [--cells egru delta_gru delta_lstm] [--units 32] [--inputs 8]
        [--steps 40] [--activity 0 0.5 0.9] [--weights 0 0.5 0.8] [--xla] [--repeats 3]
"""

import argparse
import os
import sys
import time

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import keras
import numpy as np
from keras import ops

from keras_events import DeltaGRUCell, DeltaLSTMCell, EGRUCell
from keras_events.learning import CellMath, DeltaInfluence, Influence, cost
from keras_events.learning._autodiff import value_and_grad
from keras_events.learning._compile import compile_step
from keras_events.learning.influence import bucket

THRESHOLD = 0.8
BACKEND = keras.backend.backend()


def make_cell(kind, units, inputs, knob, seed=0):
    """``knob``: the EGRU's surrogate, or the delta cell's hidden threshold."""
    keras.utils.set_random_seed(seed)
    if kind == "egru":
        # zero biases (not U(0, 1)) keep the event rate low enough for 90 % activity sparsity
        cell = EGRUCell(units, surrogate=knob, threshold_init=THRESHOLD, bias_initializer="zeros",
                        dtype="float64")
    else:
        cls = DeltaGRUCell if kind == "delta_gru" else DeltaLSTMCell
        cell = cls(units, hidden_threshold=knob, dtype="float64")
    cell.build((None, inputs))
    return cell


def influence_for(cell, masks, method="rtrl", sparse=True):
    math = CellMath(cell)
    kind = DeltaInfluence if math.delta else Influence
    return kind(math, masks, method=method, sparse=sparse)


def forward_states(cell, x, masks):
    """The carried states of the stream: the initial one and the one after every step."""
    math = CellMath(cell)
    weights = [v.value if m is None else v.value * ops.convert_to_tensor(m, "float64")
               for v, m in zip(math.weights(), masks)]
    out = [math.initial_carry(1, "float64")]
    for t in range(x.shape[0]):
        out.append(math.forward(x[t:t + 1], out[-1], weights)[1])
    return out


def egru_width(units, x, masks, activity_sparsity):
    """Triangle width at which the wanted share of (step, unit) pairs has ∂y/∂s = 0.
    The forward pass does not depend on the surrogate, so the states are computed once."""
    cell = make_cell("egru", units, x.shape[1], "triangle")
    # carry = (y, ĉ); the state s is y where the unit fired, else ĉ
    states = [ops.convert_to_numpy(ops.where(c[0] != 0, c[0], c[1]))[0]
              for c in forward_states(cell, x, masks)[1:]]
    v = np.stack(states) - THRESHOLD
    events = v > 0
    wanted = 1.0 - activity_sparsity - events.mean()
    if wanted <= 0:
        raise SystemExit(f"event rate {events.mean():.2f} alone exceeds the activity target")
    return float(np.quantile(np.abs(v[~events]), wanted / (1.0 - events.mean())))


def delta_threshold(kind, units, x, masks, activity_sparsity):
    """Hidden threshold at which about the wanted share of units is not sent (bisection)."""
    low, high = 0.0, 1.0
    for _ in range(10):
        mid = 0.5 * (low + high)
        cell = make_cell(kind, units, x.shape[1], mid)
        at = 3 if kind == "delta_lstm" else 2                        # position of ĥ in the carry
        sent = np.mean([ops.convert_to_numpy(CellMath(cell).send_gain(c[0], c[at]) != 0)
                        for c in forward_states(cell, x, masks)[:-1]])
        if 1.0 - sent < activity_sparsity:
            low = mid
        else:
            high = mid
    return high


def run_influence(cell, masks, method, sparse, x, delta, xla, repeats=1):
    inf = influence_for(cell, masks, method, sparse)
    static = xla or BACKEND == "jax"          # XLA / jax.jit: row count padded to a bucket

    def fn(x_t, state, size=None):
        state = inf.step(x_t, state, size)
        return state, inf.gradients(state, delta, gather=size is None)

    step = compile_step(fn, inf.math.weights(), xla)
    state = inf.initial_state(1, "float64")
    total, macs, wall, cpu = None, [], [], []
    for t in range(x.shape[0]):
        previous = inf.active_rows(state)
        size = None
        if static and previous is not None:
            size = bucket(int(previous.shape[0]), inf.math.units)
        # the step is a pure function: repeat it and keep the fastest (load spikes)
        best_wall = best_cpu = float("inf")
        for _ in range(repeats):
            start, start_cpu = time.perf_counter(), time.process_time()
            new, grads = step(x[t:t + 1], state, size=size)
            grads = [ops.convert_to_numpy(g) for g in grads]
            best_wall = min(best_wall, time.perf_counter() - start)
            best_cpu = min(best_cpu, time.process_time() - start_cpu)
        state = new
        wall.append(best_wall)
        cpu.append(best_cpu)
        rows = [None if r is None else ops.convert_to_numpy(r) for r in (previous, inf.active_rows(state))]
        macs.append(cost.rtrl_step_macs(inf, *rows))
        total = grads if total is None else [a + g for a, g in zip(total, grads)]
    warm = len(wall) // 4                         # the first calls trace the graph
    return {"macs": np.mean([m["total"] for m in macs]), "entries": macs[-1]["entries"],
            "ms": 1e3 * np.median(wall[warm:]), "cpu": 1e3 * np.median(cpu[warm:]), "grads": total}


def run_bptt(cell, masks, x, delta, xla):
    math = CellMath(cell)
    weights = math.weights()
    mask_t = [None if m is None else ops.convert_to_tensor(m, "float64") for m in masks]

    def loss():
        w = [v.value if m is None else v.value * m for v, m in zip(weights, mask_t)]
        carry = math.initial_carry(1, "float64")
        total = 0.0
        for t in range(x.shape[0]):
            y, carry = math.forward(x[t:t + 1], carry, w)
            total = total + ops.sum(y * delta)
        return total, None

    fn = compile_step(lambda size=None: value_and_grad(loss, weights)[2], weights, xla)
    fn()
    start = time.perf_counter()
    grads = [ops.convert_to_numpy(g) for g in fn()]
    elapsed = time.perf_counter() - start
    return {"ms": 1e3 * elapsed / x.shape[0], "grads": grads,
            "macs": cost.bptt_step_macs(cell.units, x.shape[1], gates=math.gates_count)["total"]}


def rel(a, b):
    return max(np.linalg.norm(p - q) / max(np.linalg.norm(q), 1e-300) for p, q in zip(a, b))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cells", nargs="+", choices=["egru", "delta_gru", "delta_lstm"], default=["egru", "delta_gru"])
    parser.add_argument("--units", type=int, default=32)
    parser.add_argument("--inputs", type=int, default=8)
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--activity", type=float, nargs="+", default=[0.0, 0.5, 0.9],
                        help="activity sparsities (share of rows not propagated)")
    parser.add_argument("--weights", type=float, nargs="+", default=[0.0, 0.5, 0.8],
                        help="weight sparsities (share of pruned kernel entries)")
    parser.add_argument("--xla", action="store_true", help="TensorFlow: compile the step with XLA")
    parser.add_argument("--repeats", type=int, default=3,
                        help="dense/sparse RTRL: time each step this often, keep the fastest")
    args = parser.parse_args()
    keras.config.set_floatx("float64")
    if BACKEND == "jax":
        import jax

        jax.config.update("jax_enable_x64", True)
    compiler = "jax.jit" if BACKEND == "jax" else ("tf.function + XLA" if args.xla else "tf.function")
    U = args.units
    for kind in args.cells:
        rng = np.random.default_rng(0)
        x = rng.normal(size=(args.steps, args.inputs))
        delta = ops.convert_to_tensor(rng.normal(size=(1, U)))
        name = {"egru": "EGRU", "delta_gru": "Delta-GRU", "delta_lstm": "Delta-LSTM"}[kind]
        columns = (4 if kind == "delta_lstm" else 3) * U
        print(f"\n{name} {U} units, {args.inputs} inputs, batch 1, {args.steps} steps; MACs = counted "
              f"multiply-adds per step, ms = median wall time per step ({compiler}), cpu = dense/sparse "
              f"CPU time")
        header = (f"{'act.sp':>6} {'w.sp':>5} | {'dense MACs':>11} {'sparse MACs':>11} {'ratio':>6} | "
                  f"{'SnAp-1':>9} {'SnAp-2':>10} {'BPTT':>7} | {'dense ms':>8} {'sparse ms':>9} {'ratio':>6} "
                  f"{'cpu':>5} | {'snap1 ms':>8} {'snap2 ms':>8} {'bptt ms':>7} | {'sp-vs-dense':>11} "
                  f"{'vs BPTT':>8}")
        print(header)
        print("-" * len(header))
        for weight_sparsity in args.weights:
            masks = [None] * (4 if kind == "egru" else 3)
            if weight_sparsity > 0:
                masks[:2] = [rng.random((args.inputs, columns)) >= weight_sparsity,
                             rng.random((U, columns)) >= weight_sparsity]
            for activity_sparsity in args.activity:
                if kind != "egru":
                    knob = 0.0 if activity_sparsity == 0 else delta_threshold(kind, U, x, masks, activity_sparsity)
                elif activity_sparsity == 0:
                    knob = "ste"        # ψ = 1: every unit backward-active
                else:
                    knob = {"class_name": "triangle",
                            "config": {"width": egru_width(U, x, masks, activity_sparsity)}}
                cell = make_cell(kind, U, args.inputs, knob)
                runs = {m: run_influence(cell, masks, "rtrl" if m == "dense" else m, m != "dense", x, delta,
                                         args.xla, args.repeats if m in ("dense", "rtrl") else 1)
                        for m in ("dense", "rtrl", "snap1", "snap2")}
                dense, sparse, snap1, snap2 = (runs[m] for m in ("dense", "rtrl", "snap1", "snap2"))
                bptt = run_bptt(cell, masks, x, delta, args.xla)
                print(f"{activity_sparsity:6.0%} {weight_sparsity:5.0%} | {dense['macs']:11.3g} "
                      f"{sparse['macs']:11.3g} {dense['macs'] / sparse['macs']:5.1f}x | "
                      f"{snap1['macs']:9.3g} {snap2['macs']:10.3g} {bptt['macs']:7.3g} | "
                      f"{dense['ms']:8.2f} {sparse['ms']:9.2f} {dense['ms'] / sparse['ms']:5.1f}x "
                      f"{dense['cpu'] / sparse['cpu']:4.1f}x | {snap1['ms']:8.2f} {snap2['ms']:8.2f} {bptt['ms']:7.2f} | "
                      f"{rel(sparse['grads'], dense['grads']):11.1e} {rel(sparse['grads'], bptt['grads']):8.1e}",
                      flush=True)


if __name__ == "__main__":
    main()

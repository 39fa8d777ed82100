"""Training-step time of RNN(EGRUCell(128)) vs keras.layers.GRU(128).

TF backend, CPU, batch 64, 100 steps, 40 features (issue 3). The models' steps are
timed in turn (round robin), so a change of machine load hits every model alike; both
the wall-clock median and the median CPU time of the process are printed (CPU time is
the steadier one on a shared machine; run with TF_NUM_INTRAOP_THREADS=1 to make it the
work of one core). Prints the ratios measured in this one run; numbers are
machine-dependent.

    python benchmarks/cell_bench.py [--units 128] [--steps 100] [--repeats 20]
"""

import argparse
import os
import time

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402

from keras_events import EGRU, EGRUCell  # noqa: E402

KINDS = ("GRU", "RNN(EGRUCell)", "EGRU(act. reg.)")


def build(kind, units, steps, features):
    layer = {
        "GRU": lambda: keras.layers.GRU(units),
        "RNN(EGRUCell)": lambda: keras.layers.RNN(EGRUCell(units)),
        "EGRU(act. reg.)": lambda: EGRU(units, activity_regularization=0.3),
    }[kind]()
    model = keras.Sequential([keras.Input((steps, features)), layer, keras.layers.Dense(12)])
    model.compile(keras.optimizers.Adam(1e-3, clipnorm=1.0),
                  keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    return model


def step_times(models, x, y, repeats):
    """{kind: (wall seconds, CPU seconds)} medians, the models stepped in turn."""
    for model in models.values():  # trace + warm up
        model.train_on_batch(x, y)
        model.train_on_batch(x, y)
    wall = {kind: [] for kind in models}
    cpu = {kind: [] for kind in models}
    for _ in range(repeats):
        for kind, model in models.items():
            start, start_cpu = time.perf_counter(), time.process_time()
            model.train_on_batch(x, y)
            wall[kind].append(time.perf_counter() - start)
            cpu[kind].append(time.process_time() - start_cpu)
    return {kind: (float(np.median(wall[kind])), float(np.median(cpu[kind]))) for kind in models}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=128)
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--features", type=int, default=40)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    x = rng.normal(size=(args.batch, args.steps, args.features)).astype("float32")
    y = rng.integers(0, 12, args.batch)
    models = {kind: build(kind, args.units, args.steps, args.features) for kind in KINDS}
    results = step_times(models, x, y, args.repeats)
    print(f"training step, batch {args.batch}, {args.steps} steps, {args.features} features, "
          f"{args.units} units, backend {keras.backend.backend()}, median of {args.repeats}")
    wall_gru, cpu_gru = results["GRU"]
    for kind, (wall, cpu) in results.items():
        print(f"  {kind:<18} {wall * 1e3:8.1f} ms ({wall / wall_gru:.2f}x GRU)   "
              f"CPU {cpu * 1e3:8.1f} ms ({cpu / cpu_gru:.2f}x GRU)")


if __name__ == "__main__":
    main()

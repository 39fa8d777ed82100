"""Training-step time of RNN(EGRUCell(128)) vs keras.layers.GRU(128).

TF backend, CPU, batch 64, 100 steps, 40 features (issue 3). Prints the ratio of
median step times measured in this one run; numbers are machine-dependent.

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


def step_time(model, x, y, repeats):
    model.train_on_batch(x, y)  # trace + warm up
    model.train_on_batch(x, y)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        model.train_on_batch(x, y)
        times.append(time.perf_counter() - start)
    return float(np.median(times))


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
    results = {}
    for kind in ("GRU", "RNN(EGRUCell)", "EGRU(act. reg.)"):
        results[kind] = step_time(build(kind, args.units, args.steps, args.features), x, y, args.repeats)
    print(f"training step, batch {args.batch}, {args.steps} steps, {args.features} features, "
          f"{args.units} units, backend {keras.backend.backend()}, median of {args.repeats}")
    for kind, seconds in results.items():
        print(f"  {kind:<18} {seconds * 1e3:8.1f} ms   ratio vs GRU {seconds / results['GRU']:.2f}x")


if __name__ == "__main__":
    main()

"""Training-step time of the keyword recipe's GRU and EGRU, as the recipe trains them.

The recipe's own builders (``recipes/kws/models.py``: 64 units here, as the accuracy
study), ``recipes.common.training.compile_model`` (Adam, clipping, cosine decay) and
``keras_events.training.set_seed`` (deterministic ops, under which Keras runs without
XLA), batch 32 of 98 x 40 log-mel frames; the EGRU with its event-rate penalty, alone
and inside the pruning wrapper. Steps are timed in turn (round robin); the median CPU
time of the process is the number to compare on a shared machine (set
TF_NUM_INTRAOP_THREADS=1 to make it one core's work). Issue 16's goal: EGRU training
time within 2x the GRU's, i.e. (EGRU epochs x EGRU step) <= 2 x (GRU epochs x GRU step).

    python benchmarks/kws_train_step.py [--units 64] [--repeats 30]
"""

import argparse
import os
import sys
import time

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import numpy as np  # noqa: E402

from keras_events import sparsity  # noqa: E402
from keras_events.training import set_seed  # noqa: E402
from recipes.common.pruning import PruningPlan  # noqa: E402
from recipes.common.training import compile_model  # noqa: E402
from recipes.kws.config import Config  # noqa: E402
from recipes.kws.models import BUILDERS  # noqa: E402


def build(kind, cfg):
    model = BUILDERS[kind.split()[0]](cfg, classes=12)
    if kind.endswith("pruned"):  # the recipe's schedule for 20 epochs of 90 steps
        schedule, _ = PruningPlan(0.8, cfg.prune_begin, cfg.prune_end).schedule(90, 20)
        model = sparsity.prune_low_magnitude(model, pruning_schedule=schedule)
        callback = sparsity.UpdatePruningStep()
        callback.set_model(model)
        callback.on_train_begin()
    return compile_model(model, 1e-3, decay_steps=1800)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=64)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=30)
    args = parser.parse_args()
    set_seed(0)
    cfg = Config(units=args.units)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(args.batch, 98, 40)).astype("float32")
    y = rng.integers(0, 12, args.batch)
    models = {kind: build(kind, cfg) for kind in ("gru", "egru", "egru pruned")}
    for model in models.values():  # trace + warm up
        model.train_on_batch(x, y)
        model.train_on_batch(x, y)
    wall = {kind: [] for kind in models}
    cpu = {kind: [] for kind in models}
    for _ in range(args.repeats):
        for kind, model in models.items():
            start, start_cpu = time.perf_counter(), time.process_time()
            model.train_on_batch(x, y)
            wall[kind].append(time.perf_counter() - start)
            cpu[kind].append(time.process_time() - start_cpu)
    print(f"recipe training step, batch {args.batch}, 98 x 40 inputs, {args.units} units, "
          f"median of {args.repeats}")
    for kind in models:
        w, c = np.median(wall[kind]), np.median(cpu[kind])
        print(f"  {kind:<12} {w * 1e3:7.1f} ms ({w / np.median(wall['gru']):.2f}x GRU)   "
              f"CPU {c * 1e3:7.1f} ms ({c / np.median(cpu['gru']):.2f}x GRU)")


if __name__ == "__main__":
    main()

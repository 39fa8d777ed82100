"""Activity sparsity x weight sparsity: effective MACs and accuracy of a pruned EGRU.

Trains the same EGRU (pulse task, 64 units) at 0/50/80/90 % weight sparsity with a
polynomial schedule and prints accuracy, event rate and effective MACs per step
(from `activity_report`) against the dense GRU-equivalent MACs, in one run.

    python benchmarks/pruning_bench.py [--epochs 30]
"""

import argparse
import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402

from keras_events import EGRU, activity_report, sparsity  # noqa: E402
from keras_events.datasets import pulse_channels  # noqa: E402


def run(target, x, y, x_val, y_val, epochs, units):
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input(x.shape[1:]),
                              EGRU(units, return_sequences=True, activity_regularization=0.5, name="egru"),
                              keras.layers.GlobalAveragePooling1D(), keras.layers.Dense(3, activation="softmax")])
    callbacks = []
    if target > 0:
        steps = epochs * (len(x) // 32)
        model = sparsity.prune_low_magnitude(model, pruning_schedule=sparsity.PolynomialDecay(
            0.0, target, begin_step=steps // 5, end_step=steps * 3 // 5, frequency=20))
        callbacks.append(sparsity.UpdatePruningStep())
    model.compile(keras.optimizers.Adam(3e-3, clipnorm=1.0), "sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    model.fit(x, y, epochs=epochs, batch_size=32, verbose=0, callbacks=callbacks)
    if target > 0:
        model = sparsity.strip_pruning(model)
    model.compile(metrics=["accuracy"], loss="sparse_categorical_crossentropy")
    accuracy = model.evaluate(x_val, y_val, verbose=0)[1]
    (stats,) = activity_report(model, x_val[:256], print_table=False).values()
    return accuracy, stats


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--units", type=int, default=64)
    args = parser.parse_args()
    x, y = pulse_channels(2048, seed=0)
    x_val, y_val = pulse_channels(1024, seed=1)
    print(f"EGRU({args.units}) on the pulse task, {args.epochs} epochs, activity regularization 0.5")
    print(f"{'w-sparsity':>10}{'accuracy':>10}{'events':>8}{'dense MAC':>11}{'eff. MAC':>10}{'x fewer':>9}")
    for target in (0.0, 0.5, 0.8, 0.9):
        acc, s = run(target, x, y, x_val, y_val, args.epochs, args.units)
        print(f"{s['weight_sparsity']:>10.2f}{acc:>10.3f}{s['event_rate']:>8.3f}{s['dense_macs']:>11.0f}"
              f"{s['effective_macs']:>10.0f}{s['mac_reduction']:>9.2f}")


if __name__ == "__main__":
    main()

"""Training cost of Delta-GRU/LSTM vs the dense cell as the delta thresholds rise.

For each threshold θ (input and hidden alike) a model Input -> RNN(Delta cell, θ) ->
mean over time -> Dense is trained from scratch for ``--epochs`` epochs on the TF
backend; then, on held-out sequences:

* delta rates: the fraction of input / hidden components sent per step
  (`keras_events.activity_report`);
* matrix MACs per sequence step of training, forward + backward
  (`keras_events.activity.training_macs`): symmetric temporally sparse BPTT (Chen et
  al., "Exploiting Symmetric Temporally Sparse BPTT for Efficient RNN Training", 2023)
  does the forward ``d W`` and the backward ``∂L/∂W = dᵀ g`` and ``∂L/∂d = g Wᵀ`` over
  the rows of sent components only; the dense cell over every row.
  ("fewer" = 1 - delta / dense.)  The counts are what a sparse kernel would execute;
* wall time per epoch (median of the epochs after the first) next to the dense Keras
  cell (`keras.layers.GRU(reset_after=True)` / `keras.layers.LSTM`), and the median
  time of one training batch with the models measured in turn (``--repeats`` rounds;
  interleaving keeps a shared machine's load from favouring one model). The TF backend
  multiplies the masked delta vectors densely (XLA/Eigen have no row-skipping matmul
  for a per-sample mask), so the matrix savings do *not* show in wall time here.

Data: ``--features DIR`` reads the KWS recipe's feature cache (``x_training.npy``,
``y_training.npy``, ``x_validation.npy``, ``y_validation.npy``; first ``--clips``
clips, standardised per band); without it, synthetic slowly varying sequences (class = frequency band of a
noisy multi-channel sinusoid).

    python -m benchmarks.training_cost_bench [--cells gru,lstm] [--thresholds 0,0.05,0.1,0.2,0.4]
        [--units 64] [--epochs 3] [--features build/kws/features/<key>] [--clips 2048]
"""

import argparse
import os
import time

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402

from keras_events import DeltaGRUCell, DeltaLSTMCell, activity_report  # noqa: E402
from keras_events.activity import training_macs  # noqa: E402


def synthetic(n, steps=60, features=20, classes=4, seed=0):
    """Noisy sinusoids whose frequency band is the class: smooth in time like log-mel frames."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, classes, n)
    t = np.arange(steps)[None, :, None]
    freq = (0.03 + 0.03 * y[:, None, None]) * rng.uniform(0.8, 1.2, (n, 1, features))
    phase = rng.uniform(0, 2 * np.pi, (n, 1, features))
    x = np.sin(2 * np.pi * freq * t + phase) + rng.normal(0, 0.05, (n, steps, features))
    return x.astype("float32"), y


def load(args):
    if args.features is None:
        x, y = synthetic(args.clips + 512)
        return (x[:args.clips], y[:args.clips]), (x[args.clips:], y[args.clips:])
    read = lambda name: np.load(os.path.join(args.features, name), mmap_mode="r")  # noqa: E731
    x = np.asarray(read("x_training.npy")[:args.clips])
    # standardised per band with the training statistics, as the recipe does
    mean, std = x.mean(axis=(0, 1)), x.std(axis=(0, 1)) + 1e-6
    norm = lambda v: ((v - mean) / std).astype("float32")  # noqa: E731
    train = (norm(x), np.asarray(read("y_training.npy")[:args.clips]))
    val = (norm(np.asarray(read("x_validation.npy")[:512])), np.asarray(read("y_validation.npy")[:512]))
    return train, val


def build(layer, shape, classes):
    model = keras.Sequential([keras.Input(shape), layer, keras.layers.GlobalAveragePooling1D(),
                              keras.layers.Dense(classes)])
    model.compile(keras.optimizers.Adam(2e-3, clipnorm=1.0),
                  keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    return model


class _EpochTimes(keras.callbacks.Callback):
    def on_train_begin(self, logs=None):
        self.times = []

    def on_epoch_begin(self, epoch, logs=None):
        self.start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.times.append(time.perf_counter() - self.start)


def train(model, data, val, args):
    timer = _EpochTimes()
    model.fit(*data, batch_size=args.batch, epochs=args.epochs, verbose=0, callbacks=[timer])
    accuracy = model.evaluate(*val, verbose=0)[1]
    return accuracy, float(np.median(timer.times[1:] or timer.times))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cells", default="gru,lstm")
    parser.add_argument("--thresholds", default="0,0.05,0.1,0.2,0.4")
    parser.add_argument("--units", type=int, default=64)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--clips", type=int, default=2048)
    parser.add_argument("--features", default=None)
    parser.add_argument("--repeats", type=int, default=10)
    args = parser.parse_args()
    keras.utils.set_random_seed(0)
    data, val = load(args)
    shape, classes = data[0].shape[1:], int(max(data[1].max(), val[1].max())) + 1
    print(f"training cost: {len(data[1])} sequences of {shape[0]} steps x {shape[1]} features, "
          f"{args.units} units, {args.epochs} epochs, batch {args.batch}, backend "
          f"{keras.backend.backend()}")
    head = (f"{'cell':<12}{'θ':>6}{'acc':>7}{'x-delta':>8}{'h-delta':>8}{'train MAC/step':>15}"
            f"{'dense':>9}{'fewer':>7}{'s/epoch':>9}")
    for kind in args.cells.split(","):
        cell_class = {"gru": DeltaGRUCell, "lstm": DeltaLSTMCell}[kind]
        dense_layer = {"gru": keras.layers.GRU, "lstm": keras.layers.LSTM}[kind]
        print("\n" + head + "\n" + "-" * len(head))
        keras.utils.set_random_seed(0)
        dense_model = build(dense_layer(args.units, return_sequences=True), shape, classes)
        models = {f"keras {kind}": dense_model}
        accuracy, seconds = train(dense_model, data, val, args)
        print(f"{'keras ' + kind:<12}{'-':>6}{accuracy:>7.3f}{1:>8.3f}{1:>8.3f}{'-':>15}{'-':>9}"
              f"{'-':>7}{seconds:>9.2f}")
        for theta in (float(t) for t in args.thresholds.split(",")):
            keras.utils.set_random_seed(0)
            rnn = keras.layers.RNN(cell_class(args.units, theta, theta), return_sequences=True, name="delta")
            model = models[f"delta {kind} θ={theta:g}"] = build(rnn, shape, classes)
            accuracy, seconds = train(model, data, val, args)
            stats = activity_report(model, val[0][:256], print_table=False)["delta"]
            delta, dense = training_macs(stats)
            print(f"{'delta ' + kind:<12}{theta:>6.2f}{accuracy:>7.3f}{stats['input_delta_rate']:>8.3f}"
                  f"{stats['hidden_delta_rate']:>8.3f}{delta:>15.0f}{dense:>9.0f}"
                  f"{1 - delta / dense:>7.1%}{seconds:>9.2f}")
        step_times(models, data, args)


def step_times(models, data, args):
    """Median time of one training batch per model, the models measured in turn."""
    x, y = data[0][:args.batch], data[1][:args.batch]
    times = {name: [] for name in models}
    for _ in range(args.repeats):
        for name, model in models.items():
            start = time.perf_counter()
            model.train_on_batch(x, y)
            times[name].append(time.perf_counter() - start)
    base = float(np.median(next(iter(times.values()))))
    print(f"training batch time (batch {args.batch}, median of {args.repeats}, interleaved):")
    for name, values in times.items():
        median = float(np.median(values))
        print(f"  {name:<20}{median * 1e3:9.1f} ms  {median / base:5.2f}x the Keras cell")


if __name__ == "__main__":
    main()

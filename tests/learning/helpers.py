"""Small models and an independent BPTT reference for the online-learning tests."""

import keras
import numpy as np
from backend_utils import value_and_grads
from keras import ops

from keras_events import DeltaGRUCell, DeltaLSTMCell, EGRUCell, sparsity

LOSS = keras.losses.SparseCategoricalCrossentropy(from_logits=True)


def make_model(kind="egru", inputs=3, units=6, classes=3, surrogate="triangle", threshold=0.3,
               prune=0.0, seed=0, input_threshold=0.0, hidden_threshold=0.0):
    """Sequential(Input, RNN(cell, return_sequences), Dense); with ``prune`` > 0 every kernel
    is wrapped by prune_low_magnitude and gets a random mask of that sparsity. ``kind``:
    "egru", "gru", "delta_gru" or "delta_lstm" (their ``surrogate``: None is the cell's straight-through
    default)."""
    keras.utils.set_random_seed(seed)
    if kind == "egru":
        cell = EGRUCell(units, surrogate=surrogate, threshold_init=threshold)
    elif kind in ("delta_gru", "delta_lstm"):
        cell = (DeltaGRUCell if kind == "delta_gru" else DeltaLSTMCell)(units, input_threshold=input_threshold, hidden_threshold=hidden_threshold,
                            surrogate=surrogate, bias_initializer="random_uniform")
    else:
        cell = keras.layers.GRUCell(units)
    model = keras.Sequential([keras.Input((None, inputs)), keras.layers.RNN(cell, return_sequences=True),
                              keras.layers.Dense(classes)])
    if prune > 0:
        model = sparsity.prune_low_magnitude(model, pruning_schedule=sparsity.ConstantSparsity(prune, 0))
        rng = np.random.default_rng(seed)
        for layer in model.layers:
            for mask in getattr(layer, "masks", []):
                mask.assign((rng.random(mask.shape) >= prune).astype(mask.dtype))
    return model


def sequence_data(batch=2, time=7, inputs=3, classes=3, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(batch, time, inputs))
    y = rng.integers(0, classes, size=(batch, time))
    return x, y


def bptt_gradients(model, variables, x, y):
    """Gradient of Σ_t loss(y_t, model(x)_t) by autodiff through keras.layers.RNN."""
    def total(xx):
        out = model(xx, training=False)
        return sum(LOSS(y[:, t], out[:, t]) for t in range(x.shape[1]))

    _, grads = value_and_grads(total, variables, [x])
    return grads[:len(variables)]


def relative_error(a, b):
    a, b = np.asarray(a), np.asarray(b)
    scale = np.linalg.norm(b)
    return np.linalg.norm(a - b) / (scale if scale > 0 else 1.0)


def masked(model):
    """NumPy masks by variable id (pruned models)."""
    out = {}
    for layer in model.layers:
        for w, m in zip(getattr(layer, "pruned_weights", []), getattr(layer, "masks", [])):
            out[id(w)] = ops.convert_to_numpy(m.value)
    return out


def delayed_recall(batch=16, time=1000, delay=2, seed=0):
    """A stream of random bits (one-hot, 2 features); the target at step t is the bit of
    step t - delay (weight 0 for the first ``delay`` steps). Chance accuracy: 50 %."""
    rng = np.random.default_rng(seed)
    bits = rng.integers(0, 2, size=(batch, time))
    x = np.eye(2, dtype="float32")[bits]
    y = np.zeros_like(bits)
    y[:, delay:] = bits[:, :-delay]
    w = np.ones((batch, time), "float32")
    w[:, :delay] = 0
    return x, y, w

"""Dead-unit revival: lower the threshold of EGRU units that never fire.

A unit whose state ``c`` stays below its threshold ϑ on every step emits nothing: its
output ``y = c · H(c − ϑ)`` is zero, so the next layer and the recurrent product ignore
it, and the only gradient that reaches it is the pseudo-derivative ψ(c − ϑ) near the
threshold. An event-rate penalty on the *mean* rate (``EGRU(activity_regularization=…)``)
pushes every unit's ``c − ϑ`` down, and weight pruning removes the weights of units
whose outputs carry no signal, so in the keyword study (docs/recipes/kws-accuracy.md)
30 % of a pruned 64-unit EGRU's units fell silent for good.

The fix is the one used for dead ReLUs and for silent neurons in spiking networks
(homeostatic threshold adaptation): measure each unit on a probe batch and, for a unit
with no event, set its threshold to the ``1 − rate`` quantile of its own state ``c`` over
the probe, so that it would fire on about ``rate`` of the steps. For a silent unit ``c``
was never reset (no event, no subtraction), so its traced ``c`` is exactly the sequence
the new threshold is compared with (up to the effect of its own new events on the
others). Units whose ``c`` quantile is below ``min_threshold`` (a state that is almost
never positive) get ``min_threshold``.
"""

import contextlib

import keras
import numpy as np
from keras import ops

from keras_events.activity import event_layers


def _states(cell, sequences):
    """The pre-reset states ``c`` (B, T, U) of ``cell`` over (B, T, I) ``sequences``."""
    states = cell.get_initial_state(sequences.shape[0])
    threshold = ops.convert_to_numpy(cell.threshold)
    trace = []
    for t in range(sequences.shape[1]):
        y, states = cell(sequences[:, t], states)
        event = ops.convert_to_numpy(y) != 0
        # c = y where the unit fired (y = c), else the unreset state ĉ = c.
        trace.append(np.where(event, ops.convert_to_numpy(y),
                              ops.convert_to_numpy(states[1]) + event * threshold))
    return np.stack(trace, axis=1)


@contextlib.contextmanager
def _masked(outer):
    """While tracing, a pruning wrapper's weights hold ``weight * mask`` (the wrapper
    applies its masks on the fly in training, so the raw variables are unmasked)."""
    pairs = list(zip(getattr(outer, "pruned_weights", []), getattr(outer, "masks", [])))
    saved = [ops.convert_to_numpy(w) for w, _ in pairs]
    try:
        for w, m in pairs:
            w.assign(w.value * m.value)
        yield
    finally:
        for (w, _), value in zip(pairs, saved):
            w.assign(value)


def revive_silent_units(model, x, rate=0.05, min_threshold=0.02):
    """Lower the threshold of every event unit of ``model`` that never fires on ``x``.

    Args:
        model: A Keras model with EGRU layers (possibly wrapped for pruning: the masked
            weights are traced).
        x: Probe inputs of the model (e.g. a few hundred training examples).
        rate: The event rate a revived unit gets on ``x``, in (0, 1).
        min_threshold: Lowest threshold given, in (0, 1).

    Returns:
        ``{layer_name: indices of the revived units}`` (empty lists if none was silent).
    """
    if not 0.0 < rate < 1.0:
        raise ValueError(f"Argument `rate` must be in (0, 1), got {rate}.")
    if not 0.0 < min_threshold < 1.0:
        raise ValueError(f"Argument `min_threshold` must be in (0, 1), got {min_threshold}.")
    layers = event_layers(model)
    if not layers:
        raise ValueError("`model` has no event layers (keras.layers.RNN with an EGRUCell).")
    x = np.asarray(x)
    if not np.all(np.isfinite(x)):
        raise ValueError("Argument `x` contains NaN or inf values.")
    probe = keras.Model(model.inputs, [outer.input for outer, _ in layers])
    inputs = probe.predict(x, verbose=0)
    if len(layers) == 1:
        inputs = [inputs]
    revived = {}
    for (outer, rnn), sequences in zip(layers, inputs):
        sequences = np.asarray(sequences, dtype="float32")
        if rnn.go_backwards:
            sequences = sequences[:, ::-1]
        cell = rnn.cell
        with _masked(outer):
            c = _states(cell, sequences).reshape(-1, cell.units)
        threshold = ops.convert_to_numpy(cell.threshold).astype("float64")
        silent = np.flatnonzero(~(c > threshold).any(axis=0))
        if silent.size:
            wanted = np.quantile(c[:, silent], 1.0 - rate, axis=0)
            # Never raise a threshold (the quantile of a silent unit is below it anyway).
            new = np.clip(wanted, min_threshold, threshold[silent])
            param = ops.convert_to_numpy(cell.threshold_param).copy()
            param[silent] = np.log(new / (1.0 - new))  # ϑ = sigmoid(param)
            cell.threshold_param.assign(param)
        revived[rnn.name] = silent.tolist()
    return revived


class ReviveSilentUnits(keras.callbacks.Callback):
    """Callback: every ``every`` epochs, revive the EGRU units that never fire on ``x``
    (`revive_silent_units`: a silent unit's threshold is lowered so that it fires on
    about ``rate`` of the probe's steps).

    Use a sample of the training inputs as ``x``; stop reviving before the end of
    training (``until_epoch``) so the last epochs settle the revived units under the
    event-rate penalty. The revived unit counts go to the epoch logs as
    ``<layer>/revived``.

    Example:

    >>> model.fit(x, y, epochs=30,
    ...           callbacks=[ReviveSilentUnits(x[:256], until_epoch=24)])  # doctest: +SKIP
    """

    def __init__(self, x, every=1, rate=0.05, min_threshold=0.02, until_epoch=None, verbose=0):
        super().__init__()
        if x is None:
            raise ValueError("ReviveSilentUnits needs a sample of inputs: pass `x` (e.g. x_train[:256]).")
        if int(every) < 1:
            raise ValueError(f"Argument `every` must be >= 1, got {every}.")
        self.x = np.asarray(x)
        self.every = int(every)
        self.rate = float(rate)
        self.min_threshold = float(min_threshold)
        self.until_epoch = until_epoch
        self.verbose = verbose
        self.history = []

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.every or (self.until_epoch is not None and epoch + 1 > self.until_epoch):
            return
        model = getattr(self.model, "student", self.model)  # a Distiller trains its student
        revived = revive_silent_units(model, self.x, self.rate, self.min_threshold)
        self.history.append(revived)
        for name, units in revived.items():
            if logs is not None:
                logs[f"{name}/revived"] = float(len(units))
            if self.verbose and units:
                print(f"\nReviveSilentUnits: {name}: revived {len(units)} units {units}")

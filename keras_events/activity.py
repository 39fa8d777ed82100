"""Activity metrics of event layers: event rate, backward-active fraction, effective MACs.

The effective MAC count is what an event-driven kernel (``custom_ops/core/``)
executes per step: every stored (non-zero) input weight, plus, for the recurrent
product, only the non-zero weights in the rows of units that emitted an event at
the previous step (the op's ``step_macs``, ``keras_events/ops/``). Dense MACs are
those of a GRU of the same size.
"""

import keras
import numpy as np
from keras import ops

from keras_events import ops as event_ops
from keras_events.cells.egru import EGRUCell


# A unit that emits at this fraction of its steps or more is "saturated": its output is
# then nearly dense and carries little timing information (and costs like a GRU unit).
SATURATED = 0.9


def _unwrap(layer):
    """The layer a wrapper (e.g. a pruning wrapper) stands for."""
    while hasattr(layer, "layer") and isinstance(layer.layer, keras.layers.Layer):
        layer = layer.layer
    return layer


def event_layers(model):
    """The `keras.layers.RNN` layers of ``model`` (wrapped or not) whose cell is an event cell."""
    found = []
    for layer in model.layers:
        inner = _unwrap(layer)
        if isinstance(inner, keras.layers.RNN) and (isinstance(inner.cell, EGRUCell) or
                                                   event_ops.for_cell(inner.cell) is not None):
            found.append((layer, inner))
        elif hasattr(inner, "layers") and not isinstance(inner, keras.layers.RNN):
            found.extend(event_layers(inner))
    return found


def _trace(cell, sequences):
    """Run ``cell`` eagerly over (B, T, I) ``sequences``; per-step events and ψ≠0 masks."""
    batch, steps = sequences.shape[0], sequences.shape[1]
    if not hasattr(cell, "surrogate"):  # a dense op's cell (EmbeddedGRUCell): all, always
        every = np.ones((batch, steps, cell.units), bool)
        return every, every
    states = cell.get_initial_state(batch)
    threshold = ops.convert_to_numpy(cell.threshold)
    events, backward = [], []
    for t in range(steps):
        y, states = cell(sequences[:, t], states)
        e = ops.convert_to_numpy(y) != 0
        c = ops.convert_to_numpy(states[1]) + e * threshold
        psi = ops.convert_to_numpy(cell.surrogate.derivative(ops.convert_to_tensor(c - threshold)))
        events.append(e)
        backward.append(e | (psi != 0))
    return np.stack(events, axis=1), np.stack(backward, axis=1)  # (B, T, U)


def _layer_stats(rnn, sequences):
    cell = rnn.cell
    sequences = np.asarray(sequences, dtype="float32")
    if rnn.go_backwards:
        sequences = sequences[:, ::-1]
    events, backward = _trace(cell, sequences)
    kernel = ops.convert_to_numpy(cell.kernel)
    recurrent = ops.convert_to_numpy(cell.recurrent_kernel)
    # Step t reads the events of step t-1 (none at t = 0).
    prev = np.concatenate([np.zeros_like(events[:, :1]), events[:, :-1]], axis=1)
    event_op = event_ops.for_cell(cell)  # the op's MAC accounting (keras_events/ops/)
    weights = {"kernel": kernel, "recurrent_kernel": recurrent}
    dense = float(event_op.dense_macs(weights))
    effective = float(event_op.step_macs(weights, prev).mean())
    return {
        "units": cell.units,
        "event_rate": float(events.mean()),
        "backward_active": float(backward.mean()),
        "silent_units": float((~events.any(axis=(0, 1))).mean()),
        "saturated_units": float((events.mean(axis=(0, 1)) >= SATURATED).mean()),
        "unit_event_rates": events.mean(axis=(0, 1)).tolist(),
        "weight_sparsity": 1.0 - (np.count_nonzero(kernel) + np.count_nonzero(recurrent)) / dense,
        "dense_macs": dense,
        "effective_macs": effective,
        "mac_reduction": dense / max(effective, 1.0),
    }


def activity_report(model, x, print_table=True):
    """Measure every event layer of ``model`` on inputs ``x``.

    Returns ``{layer_name: {"event_rate", "backward_active", "silent_units",
    "saturated_units", "unit_event_rates", "weight_sparsity", "dense_macs",
    "effective_macs", "mac_reduction"}}``:
    event rate = fraction of (unit, step) pairs that emit; backward-active = fraction
    through which BPTT passes (an event, or a non-zero pseudo-derivative); silent
    units = fraction of units that never emit on ``x`` (dead units: no gradient reaches
    them through their output unless they come near threshold); saturated units =
    fraction that emit at >= 90 % of their steps; unit event rates = the per-unit
    rates (list); MACs are per step and
    sequence (see module docstring). Prints a table unless ``print_table=False``.
    """
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
    report = {outer.name: _layer_stats(rnn, seq) for (outer, rnn), seq in zip(layers, inputs)}
    if print_table:
        print(format_report(report))
    return report


def format_report(report):
    """The report as a fixed-width text table."""
    head = f"{'layer':<20}{'units':>6}{'events':>8}{'bwd-act':>8}{'silent':>8}{'w-sparse':>9}" \
           f"{'dense MAC':>11}{'eff. MAC':>10}{'x fewer':>8}"
    rows = [head, "-" * len(head)]
    for name, s in report.items():
        rows.append(
            f"{name:<20}{s['units']:>6}{s['event_rate']:>8.3f}{s['backward_active']:>8.3f}"
            f"{s['silent_units']:>8.3f}{s['weight_sparsity']:>9.3f}{s['dense_macs']:>11.0f}"
            f"{s['effective_macs']:>10.0f}{s['mac_reduction']:>8.2f}"
        )
    return "\n".join(rows)


class ActivityMonitor(keras.callbacks.Callback):
    """Callback: measure event layers on a fixed sample ``x`` every ``every`` epochs.

    Adds ``<layer>/event_rate`` and ``<layer>/effective_macs`` to the epoch logs
    (so they reach `History` and TensorBoard) and keeps all reports in ``history``.

    Example:

    >>> monitor = ActivityMonitor(x_val[:64])            # doctest: +SKIP
    >>> model.fit(x, y, callbacks=[monitor])             # doctest: +SKIP
    """

    def __init__(self, x, every=1, verbose=1):
        super().__init__()
        if x is None:
            raise ValueError("ActivityMonitor needs a sample of inputs: pass `x` (e.g. x_val[:64]).")
        self.x = np.asarray(x)
        self.every = int(every)
        self.verbose = verbose
        self.history = []

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.every:
            return
        report = activity_report(self.model, self.x, print_table=False)
        self.history.append(report)
        if logs is not None:
            for name, stats in report.items():
                logs[f"{name}/event_rate"] = stats["event_rate"]
                logs[f"{name}/effective_macs"] = stats["effective_macs"]
        if self.verbose:
            print("\n" + format_report(report))

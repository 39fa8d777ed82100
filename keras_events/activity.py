"""Activity metrics of event layers: event or delta rates, backward-active fraction, effective MACs.

The effective MAC count is what an event-driven kernel (``custom_ops/core/``)
executes per step. EGRU: every stored (non-zero) input weight, plus, for the recurrent
product, only the non-zero weights in the rows of units that emitted an event at
the previous step (the op's ``step_macs``, ``keras_events/ops/``). Delta-GRU/LSTM
(`keras_events.cells.delta`): the non-zero weights in the rows of W of the input
components sent at the step plus those in the rows of V of the hidden components sent.
Dense MACs are those of the dense cell of the same size (every weight of W and V).

Training cost of a delta layer (Chen et al. 2023, symmetric temporally sparse BPTT):
a training step does three matrix products per weight matrix -- the forward ``d W``,
and backward ``dᵀ g`` (∂L/∂W) and ``g Wᵀ`` (∂L/∂d) -- each over the sent rows only.
Training multiplies every weight of a row (pruned weights are zeros of a dense
variable), so per step it costs 3 × (input delta rate × size(W) + hidden delta rate ×
size(V)) MACs, against 3 × (size(W) + size(V)) for the dense cell (``train_macs``,
``dense_train_macs`` of the report; `training_macs`).
"""

import keras
import numpy as np
from keras import ops

from keras_events import ops as event_ops
from keras_events.cells.delta import DeltaCellBase
from keras_events.cells.egru import EGRUCell

_EVENT_CELLS = (EGRUCell, DeltaCellBase)


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
        if isinstance(inner, keras.layers.RNN) and (isinstance(inner.cell, _EVENT_CELLS) or
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


def _row_macs(kernel, recurrent_kernel, sent_hidden, sent_inputs):
    """Σ non-zero weights in the rows of W of sent inputs and of V of sent hidden units
    (the delta contract's count), over the leading axes of the masks."""
    w_nnz = np.count_nonzero(kernel, axis=1)
    v_nnz = np.count_nonzero(recurrent_kernel, axis=1)
    return (np.asarray(sent_inputs) != 0) @ w_nnz + (np.asarray(sent_hidden) != 0) @ v_nnz


def _delta_trace(cell, sequences):
    """Run a delta cell eagerly over (B, T, I) ``sequences``; per-step send masks."""
    states = cell.get_initial_state(sequences.shape[0])
    sent_inputs, sent_hidden = [], []
    for t in range(sequences.shape[1]):
        sx, sh = cell.send_masks(sequences[:, t], states)
        sent_inputs.append(sx)
        sent_hidden.append(sh)
        _, states = cell(sequences[:, t], states)
    return np.stack(sent_inputs, axis=1), np.stack(sent_hidden, axis=1)  # (B, T, I), (B, T, U)


def _delta_layer_stats(cell, sequences):
    sent_inputs, sent_hidden = _delta_trace(cell, sequences)
    weights = {"kernel": ops.convert_to_numpy(cell.kernel),
               "recurrent_kernel": ops.convert_to_numpy(cell.recurrent_kernel)}
    dense = float(weights["kernel"].size + weights["recurrent_kernel"].size)
    event_op = event_ops.for_cell(cell)  # the op's MAC accounting, once the op is registered
    if event_op is not None:
        macs = event_op.step_macs(weights, sent_hidden, sent_inputs)
    else:
        macs = _row_macs(weights["kernel"], weights["recurrent_kernel"], sent_hidden, sent_inputs)
    effective = float(np.mean(macs))
    nonzero = np.count_nonzero(weights["kernel"]) + np.count_nonzero(weights["recurrent_kernel"])
    return {
        "units": cell.units,
        "input_delta_rate": float(sent_inputs.mean()),
        "hidden_delta_rate": float(sent_hidden.mean()),
        "unit_delta_rates": sent_hidden.mean(axis=(0, 1)).tolist(),
        "weight_sparsity": 1.0 - nonzero / dense,
        "dense_macs": dense,
        "effective_macs": effective,
        "mac_reduction": dense / max(effective, 1.0),
        "train_macs": 3.0 * float(sent_inputs.mean() * weights["kernel"].size
                                  + sent_hidden.mean() * weights["recurrent_kernel"].size),
        "dense_train_macs": 3.0 * dense,
    }


def training_macs(stats):
    """Matrix multiply-accumulates per sequence step of training (forward + backward) of a
    delta layer of an `activity_report`: ``(symmetric sparse BPTT, dense cell)`` (module
    docstring: the forward product and the ∂L/∂W and ∂L/∂d products, each over the sent
    rows, every weight of a row)."""
    return stats["train_macs"], stats["dense_train_macs"]


def _layer_stats(rnn, sequences):
    cell = rnn.cell
    sequences = np.asarray(sequences, dtype="float32")
    if rnn.go_backwards:
        sequences = sequences[:, ::-1]
    if isinstance(cell, DeltaCellBase):
        return _delta_layer_stats(cell, sequences)
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
    "effective_macs", "mac_reduction"}}`` for an EGRU layer and ``{"input_delta_rate",
    "hidden_delta_rate", "unit_delta_rates", "weight_sparsity", "dense_macs",
    "effective_macs", "mac_reduction"}`` for a Delta-GRU/LSTM layer (the fraction of input
    and of hidden components sent per step, per hidden unit; the backward pass of
    symmetric sparse BPTT skips the same rows, see `training_macs`).
    EGRU:
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
        raise ValueError("`model` has no event layers (keras.layers.RNN with an EGRUCell, "
                         "DeltaGRUCell or DeltaLSTMCell).")
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


def _is_delta(stats):
    return "hidden_delta_rate" in stats


def format_report(report):
    """The report as fixed-width text tables (one for EGRU layers, one for delta layers)."""
    tables = []
    egru = {name: s for name, s in report.items() if not _is_delta(s)}
    delta = {name: s for name, s in report.items() if _is_delta(s)}
    if egru:
        tables.append(_format_egru(egru))
    if delta:
        tables.append(_format_delta(delta))
    return "\n\n".join(tables)


def _format_delta(report):
    head = f"{'layer':<20}{'units':>6}{'x-delta':>8}{'h-delta':>8}{'w-sparse':>9}" \
           f"{'dense MAC':>11}{'eff. MAC':>10}{'x fewer':>8}"
    rows = [head, "-" * len(head)]
    for name, s in report.items():
        rows.append(
            f"{name:<20}{s['units']:>6}{s['input_delta_rate']:>8.3f}{s['hidden_delta_rate']:>8.3f}"
            f"{s['weight_sparsity']:>9.3f}{s['dense_macs']:>11.0f}{s['effective_macs']:>10.0f}"
            f"{s['mac_reduction']:>8.2f}"
        )
    return "\n".join(rows)


def _format_egru(report):
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

    Adds ``<layer>/event_rate`` (EGRU layers) or ``<layer>/input_delta_rate`` and
    ``<layer>/hidden_delta_rate`` (delta layers), and ``<layer>/effective_macs`` to the
    epoch logs (so they reach `History` and TensorBoard) and keeps all reports in
    ``history``.

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
                rates = ("input_delta_rate", "hidden_delta_rate") if _is_delta(stats) else ("event_rate",)
                for key in rates + ("effective_macs",):
                    logs[f"{name}/{key}"] = stats[key]
        if self.verbose:
            print("\n" + format_report(report))

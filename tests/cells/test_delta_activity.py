"""activity_report / ActivityMonitor for delta layers, against the NumPy reference's send masks."""

import keras
import numpy as np
import pytest
from backend_utils import value_and_grads
from reference import delta_cells as ref

from keras_events import ActivityMonitor, DeltaGRUCell, DeltaLSTMCell, EGRUCell, activity_report
from keras_events.activity import format_report, training_macs

T, I, U = 15, 4, 10
KINDS = {"gru": (DeltaGRUCell, ref.gru_sequence), "lstm": (DeltaLSTMCell, ref.lstm_sequence)}


def _model(kind, thresholds=(0.25, 0.05)):
    cell = KINDS[kind][0](U, *thresholds)
    model = keras.Sequential([keras.Input((T, I)), keras.layers.Dense(I, name="pre"),
                              keras.layers.RNN(cell, return_sequences=True, name="delta"),
                              keras.layers.GlobalAveragePooling1D(), keras.layers.Dense(3)])
    rng = np.random.default_rng(0)
    kernel = rng.normal(0, 0.7, cell.kernel.shape)
    kernel[np.abs(kernel) < 0.3] = 0.0          # some weight sparsity, uneven per row
    recurrent = rng.normal(0, 0.7, cell.recurrent_kernel.shape)
    recurrent[::3, ::2] = 0.0
    cell.kernel.assign(kernel)
    cell.recurrent_kernel.assign(recurrent)
    return model


def _x(n=12, seed=1):
    return np.cumsum(np.random.default_rng(seed).normal(0, 0.3, (n, T, I)), axis=1).astype("float32")


def _reference_masks(model, kind, x):
    cell = model.get_layer("delta").cell
    h = keras.ops.convert_to_numpy(model.get_layer("pre")(x)).astype(np.float64)
    weights = [keras.ops.convert_to_numpy(w).astype(np.float64) for w in cell.get_weights()]
    _, sent_x, sent_h = KINDS[kind][1](h, *weights, cell.input_threshold, cell.hidden_threshold)
    return weights, sent_x, sent_h


@pytest.mark.parametrize("kind", KINDS)
def test_report_matches_reference_counts(kind):
    model = _model(kind)
    x = _x()
    report = activity_report(model, x, print_table=False)["delta"]
    (kernel, recurrent, _), sent_x, sent_h = _reference_masks(model, kind, x)
    assert 0.1 < sent_x.mean() < 0.9 and 0.05 < sent_h.mean() < 0.9
    assert report["input_delta_rate"] == pytest.approx(sent_x.mean())
    assert report["hidden_delta_rate"] == pytest.approx(sent_h.mean())
    np.testing.assert_allclose(report["unit_delta_rates"], sent_h.mean(axis=(0, 1)))
    # effective MACs: per (sequence, step), the non-zero weights of every sent row, counted
    # row by row
    count = 0
    for b, t in np.ndindex(sent_x.shape[:2]):
        count += sum(np.count_nonzero(kernel[i]) for i in np.flatnonzero(sent_x[b, t]))
        count += sum(np.count_nonzero(recurrent[j]) for j in np.flatnonzero(sent_h[b, t]))
    assert report["effective_macs"] == pytest.approx(count / (sent_x.shape[0] * T))
    assert report["dense_macs"] == kernel.size + recurrent.size
    assert report["weight_sparsity"] == pytest.approx(
        1 - (np.count_nonzero(kernel) + np.count_nonzero(recurrent)) / (kernel.size + recurrent.size))
    assert report["mac_reduction"] == pytest.approx(report["dense_macs"] / report["effective_macs"])
    # training: forward + two backward products over the sent rows, every weight of a row
    rows = sent_x.sum(-1) * kernel.shape[1] + sent_h.sum(-1) * recurrent.shape[1]
    assert training_macs(report) == pytest.approx((3 * rows.mean(), 3 * report["dense_macs"]))


@pytest.mark.parametrize("kind", KINDS)
def test_reported_input_rate_is_the_fraction_of_inputs_that_get_a_gradient(kind):
    """Symmetric sparse BPTT: the backward pass skips exactly the input columns reported skipped."""
    model = _model(kind)
    x = _x(4)
    report = activity_report(model, x, print_table=False)["delta"]
    rnn = model.get_layer("delta")
    h = keras.ops.convert_to_numpy(model.get_layer("pre")(x))
    _, (g_h,) = value_and_grads(lambda inp: keras.ops.sum(rnn(inp) ** 2), [], [h])
    assert np.count_nonzero(g_h) / g_h.size == pytest.approx(report["input_delta_rate"])


def test_thresholds_zero_send_every_change():
    model = _model("gru", thresholds=(0.0, 0.0))
    report = activity_report(model, _x(), print_table=False)["delta"]
    assert report["input_delta_rate"] == 1.0
    assert report["hidden_delta_rate"] == pytest.approx((T - 1) / T)  # all but h_0 = ĥ_0 = 0


def test_monitor_logs_delta_rates_and_mixed_model_table(capsys):
    model = _model("lstm")
    model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    x, y = _x(32), np.random.default_rng(2).integers(0, 3, 32)
    history = model.fit(x, y, epochs=2, verbose=0, callbacks=[ActivityMonitor(x[:8], verbose=0)])
    final = activity_report(model, x[:8], print_table=False)["delta"]
    for key in ("input_delta_rate", "hidden_delta_rate", "effective_macs"):
        assert history.history[f"delta/{key}"][-1] == pytest.approx(final[key])

    inputs = keras.Input((T, I))
    both = keras.Model(inputs, [keras.layers.RNN(EGRUCell(6), name="e")(inputs),
                                keras.layers.RNN(DeltaGRUCell(6, 0.1, 0.1), name="d")(inputs)])
    report = activity_report(both, _x(4))
    assert "event_rate" in report["e"] and "hidden_delta_rate" in report["d"]
    printed = capsys.readouterr().out
    assert printed.strip() == format_report(report).strip()
    assert "events" in printed and "h-delta" in printed

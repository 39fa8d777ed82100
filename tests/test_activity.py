"""activity_report and ActivityMonitor against the NumPy reference."""

import keras
import numpy as np
import pytest
from reference import egru_bptt as ref
from reference.surrogate_forms import PSI

from keras_events import ActivityMonitor, EGRUCell, activity_report
from keras_events.datasets import pulse_channels

U = 12


def _model():
    model = keras.Sequential([keras.Input((20, 4)), keras.layers.Dense(4, name="pre"),
                              keras.layers.RNN(EGRUCell(U), return_sequences=True, name="egru"),
                              keras.layers.GlobalAveragePooling1D(), keras.layers.Dense(3)])
    cell = model.get_layer("egru").cell
    rng = np.random.default_rng(0)
    kernel = rng.normal(0, 0.7, cell.kernel.shape)
    kernel[np.abs(kernel) < 0.3] = 0.0          # some weight sparsity
    cell.kernel.assign(kernel)
    recurrent = rng.normal(0, 0.7, cell.recurrent_kernel.shape)
    recurrent[:, ::2] = 0.0
    cell.recurrent_kernel.assign(recurrent)
    return model


def test_report_matches_reference_counts():
    model = _model()
    x, _ = pulse_channels(16)
    report = activity_report(model, x, print_table=False)["egru"]
    cell = model.get_layer("egru").cell
    h = keras.ops.convert_to_numpy(model.get_layer("pre")(x))
    weights = [keras.ops.convert_to_numpy(w) for w in (cell.kernel, cell.recurrent_kernel, cell.bias, cell.threshold)]
    trace = ref.forward(h, *weights[:3], keras.ops.convert_to_numpy(cell.threshold_param),
                        ref.heaviside(lambda v: PSI["triangle"](v)))
    _, events, _, _ = ref.outputs(trace)
    assert report["event_rate"] == pytest.approx(events.mean())
    # backward-active: an event or ψ(c - ϑ) != 0 (triangle width 1: |c - ϑ| < 1)
    active = ref.backward_active(trace)
    assert active.mean() > events.mean()
    assert round(report["backward_active"] * active.size) == active.sum()
    assert report["silent_units"] == pytest.approx((~events.any(axis=(0, 1))).mean())
    assert report["weight_sparsity"] == pytest.approx(
        1 - (np.count_nonzero(weights[0]) + np.count_nonzero(weights[1])) / (weights[0].size + weights[1].size))
    kernel, recurrent = weights[0], weights[1]
    prev = np.concatenate([np.zeros_like(events[:, :1]), events[:, :-1]], 1)
    expected = np.count_nonzero(kernel) + (prev * np.count_nonzero(recurrent, 1)).sum(-1).mean()
    assert report["effective_macs"] == pytest.approx(expected)
    assert report["dense_macs"] == kernel.size + recurrent.size
    assert report["mac_reduction"] == pytest.approx(report["dense_macs"] / expected)


def test_monitor_logs_event_rate():
    model = _model()
    model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    x, y = pulse_channels(64)
    monitor = ActivityMonitor(x[:16], verbose=0)
    history = model.fit(x, y, epochs=2, verbose=0, callbacks=[monitor])
    assert len(monitor.history) == 2
    # the last epoch's logged values are those of the trained model on the same sample
    final = activity_report(model, x[:16], print_table=False)["egru"]
    assert history.history["egru/event_rate"][-1] == pytest.approx(final["event_rate"])
    assert history.history["egru/effective_macs"][-1] == pytest.approx(final["effective_macs"])
    assert monitor.history[-1]["egru"] == pytest.approx(final)


def test_errors():
    with pytest.raises(ValueError, match="event layers"):
        activity_report(keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)]), np.zeros((1, 3)))
    with pytest.raises(ValueError, match="NaN"):
        activity_report(_model(), np.full((1, 20, 4), np.nan))


def test_saturated_and_per_unit_rates_against_the_reference():
    """Per-unit rates and the saturated fraction from the numpy reference's events."""
    import keras as _keras

    from keras_events import EGRU as _EGRU

    model = _keras.Sequential([_keras.Input((6, 3)), _EGRU(5, return_sequences=True, name="e")])
    cell = model.get_layer("e").cell
    # unit 0: threshold ~0 with a large positive bias -> fires at every step
    bias = _keras.ops.convert_to_numpy(cell.bias).copy()
    bias[:, 2 * 5] = 5.0
    bias[:, 0] = 5.0
    cell.bias.assign(bias)
    cell.threshold_param.assign(np.full(5, -9.0, "float32"))
    x = np.random.default_rng(0).normal(size=(4, 6, 3)).astype("float32")
    report = activity_report(model, x, print_table=False)["e"]
    y = np.asarray(model.predict(x, verbose=0))
    rates = (y != 0).mean(axis=(0, 1))
    np.testing.assert_allclose(report["unit_event_rates"], rates)
    assert report["saturated_units"] == pytest.approx((rates >= 0.9).mean())
    assert report["saturated_units"] > 0

"""The adaptive event-rate penalty of `EGRU` (dual ascent on λ)."""

import os

import keras
import numpy as np
import pytest

from keras_events import EGRU
from keras_events.datasets import pulse_channels


def _model(**kwargs):
    return keras.Sequential([
        keras.Input((20, 4)),
        EGRU(16, return_sequences=True, name="egru", **kwargs),
        keras.layers.GlobalAveragePooling1D(),
        keras.layers.Dense(3, activation="softmax"),
    ])


def _events(model, x):
    """The event rate measured independently: y != 0 of the trained layer."""
    y = keras.Model(model.inputs, model.get_layer("egru").output).predict(x, verbose=0)
    return float(np.mean(y != 0))


def test_weight_follows_the_rate_excess_one_batch():
    """After one training batch λ = λ0 + η (rate − target), rate measured on that batch."""
    x, _ = pulse_channels(8, seed=0)
    layer = EGRU(16, return_sequences=True, activity_regularization=0.5, target_event_rate=0.0,
                 activity_adapt_rate=0.25)
    y = layer(x)  # builds; inference does not adapt
    assert float(keras.ops.convert_to_numpy(layer.activity_weight)) == pytest.approx(0.5)
    rate = float(np.mean(keras.ops.convert_to_numpy(y) != 0))
    layer(x, training=True)
    got = float(keras.ops.convert_to_numpy(layer.activity_weight))
    assert got == pytest.approx(0.5 + 0.25 * rate, rel=1e-5)
    # the penalty uses the weight before the update
    assert float(keras.ops.convert_to_numpy(layer.losses[0])) == pytest.approx(0.5 * rate, rel=1e-5)


def test_weight_falls_to_zero_below_target_and_stays_bounded():
    x, _ = pulse_channels(8, seed=0)
    # (η = 10: at the 0.1 default threshold the untrained layer fires at ~0.97 < 0.99)
    low = EGRU(16, return_sequences=True, activity_regularization=0.1, target_event_rate=0.99,
               activity_adapt_rate=10.0)
    high = EGRU(16, return_sequences=True, activity_regularization=0.0, target_event_rate=0.0,
                activity_adapt_rate=100.0, activity_weight_max=3.0)
    for _ in range(3):
        low(x, training=True)
        high(x, training=True)
    assert float(keras.ops.convert_to_numpy(low.activity_weight)) == 0.0
    assert float(keras.ops.convert_to_numpy(high.activity_weight)) == pytest.approx(3.0)


def test_adaptive_penalty_reaches_the_target_in_fit():
    """Training with a fixed small λ leaves the rate high; the adapted λ brings it to the
    target (measured on held-out data, not read from the layer)."""
    x, y = pulse_channels(512, seed=0)
    x_val, _ = pulse_channels(256, seed=1)
    rates = {}
    for name, kwargs in {"fixed": dict(activity_regularization=0.01),
                         "adaptive": dict(activity_regularization=0.01, activity_adapt_rate=0.5)}.items():
        keras.utils.set_random_seed(0)
        # threshold 0.3 (the default before issue 16): at 0.1 the untrained layer fires at
        # ~0.97 and 8 epochs of η = 0.5 bring it to ~0.22, not yet to the target
        model = _model(target_event_rate=0.1, threshold_init=0.3, **kwargs)
        model.compile(keras.optimizers.Adam(3e-3, clipnorm=1.0), "sparse_categorical_crossentropy")
        model.fit(x, y, epochs=8, batch_size=32, verbose=0)
        rates[name] = _events(model, x_val)
    print(rates)
    assert rates["adaptive"] <= 0.13
    assert rates["fixed"] > rates["adaptive"] + 0.05


def test_config_and_save_round_trip(tmp_path):
    model = _model(activity_regularization=0.2, target_event_rate=0.1, activity_adapt_rate=0.05,
                   activity_weight_max=4.0)
    x, y = pulse_channels(64, seed=0)
    model.compile("adam", "sparse_categorical_crossentropy")
    model.fit(x, y, epochs=1, verbose=0)
    path = os.path.join(tmp_path, "m.keras")
    model.save(path)
    loaded = keras.saving.load_model(path)
    a, b = model.get_layer("egru"), loaded.get_layer("egru")
    assert b.activity_adapt_rate == 0.05 and b.activity_weight_max == 4.0
    assert float(keras.ops.convert_to_numpy(b.activity_weight)) == pytest.approx(
        float(keras.ops.convert_to_numpy(a.activity_weight)))
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(model(x)),
                                  keras.ops.convert_to_numpy(loaded(x)))


@pytest.mark.parametrize("kwargs", [dict(activity_adapt_rate=-1.0), dict(activity_weight_max=0.0)])
def test_bad_arguments(kwargs):
    with pytest.raises(ValueError, match="activity_adapt_rate|activity_weight_max"):
        EGRU(4, **kwargs)


def test_warmup_ramps_the_penalty_in_linearly():
    """Batch k of a W-step warm-up pays (k / W) · λ · excess; λ adapts only afterwards."""
    x, _ = pulse_channels(8, seed=0)
    layer = EGRU(16, return_sequences=True, activity_regularization=1.0, target_event_rate=0.0,
                 activity_warmup_steps=4)
    fixed_adapt = EGRU(16, return_sequences=True, activity_regularization=1.0,
                       target_event_rate=0.0, activity_warmup_steps=2, activity_adapt_rate=0.5)
    rate = float(np.mean(keras.ops.convert_to_numpy(layer(x)) != 0))
    for k in range(6):
        layer(x, training=True)
        penalty = float(keras.ops.convert_to_numpy(layer.losses[0]))
        assert penalty == pytest.approx(min(1.0, k / 4) * rate, rel=1e-5, abs=1e-7), k
    fixed_adapt(x)
    weights = []
    for _ in range(4):
        fixed_adapt(x, training=True)
        weights.append(float(keras.ops.convert_to_numpy(fixed_adapt.activity_weight)))
    assert weights[0] == weights[1] == 1.0  # steps 0, 1: warm-up, λ held
    assert weights[2] > 1.0 and weights[3] > weights[2]


def test_warmup_steps_must_be_a_non_negative_integer():
    for bad in (-1, 1.5, True):
        with pytest.raises(ValueError, match="activity_warmup_steps"):
            EGRU(4, activity_warmup_steps=bad)

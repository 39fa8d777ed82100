"""Dead-unit revival (`keras_events.training.ReviveSilentUnits`): a unit that never fires
fires again, the others are left alone. Events are measured independently of the
revival code: ``y != 0`` of the layer's output sequence."""

import keras
import numpy as np
import pytest

from keras_events import EGRU
from keras_events.datasets import pulse_channels
from keras_events.training import ReviveSilentUnits, revive_silent_units

DEAD = [1, 5, 9]


def _model():
    model = keras.Sequential([
        keras.Input((20, 4)),
        EGRU(12, return_sequences=True, name="egru"),
        keras.layers.GlobalAveragePooling1D(),
        keras.layers.Dense(3, activation="softmax"),
    ])
    cell = model.get_layer("egru").cell
    param = keras.ops.convert_to_numpy(cell.threshold_param).copy()
    param[DEAD] = 12.0  # ϑ = sigmoid(12) ≈ 0.999994: |c| < 1, so these units never fire
    cell.threshold_param.assign(param)
    return model


def _unit_rates(model, x):
    y = keras.Model(model.inputs, model.get_layer("egru").output).predict(x, verbose=0)
    return (y != 0).mean(axis=(0, 1))


def test_revival_wakes_the_dead_units_only():
    x, _ = pulse_channels(128, seed=0)
    model = _model()
    before = _unit_rates(model, x)
    assert np.all(before[DEAD] == 0) and np.all(np.delete(before, DEAD) > 0)
    thresholds = keras.ops.convert_to_numpy(model.get_layer("egru").threshold)

    revived = revive_silent_units(model, x, rate=0.1)

    assert revived == {"egru": DEAD}
    after = _unit_rates(model, x)
    assert np.all(after[DEAD] > 0.02)  # firing again, near the requested 10 %
    assert np.all(after[DEAD] <= 0.1 + 1e-6)  # at most the quantile's rate (resets only lower it)
    new = keras.ops.convert_to_numpy(model.get_layer("egru").threshold)
    np.testing.assert_array_equal(np.delete(new, DEAD), np.delete(thresholds, DEAD))
    assert np.all(new[DEAD] < 0.9)
    assert revive_silent_units(model, x) == {"egru": []}  # nothing silent any more


def test_callback_revives_during_fit_of_a_pruned_model():
    """In `fit`, through a pruning wrapper (masked weights traced), up to `until_epoch`."""
    from keras_events import sparsity

    x, y = pulse_channels(128, seed=0)
    model = sparsity.prune_low_magnitude(
        _model(), pruning_schedule=sparsity.ConstantSparsity(0.5, begin_step=0, frequency=1))
    model.compile("adam", "sparse_categorical_crossentropy")
    revive = ReviveSilentUnits(x[:64], rate=0.1, until_epoch=1)
    history = model.fit(x, y, epochs=2, batch_size=32, verbose=0,
                        callbacks=[sparsity.UpdatePruningStep(), revive])
    assert revive.history == [{"egru": DEAD}]  # epoch 1 only
    assert history.history["egru/revived"] == [3.0]
    stripped = sparsity.strip_pruning(model)
    assert np.all(_unit_rates(stripped, x)[DEAD] > 0)


def test_bad_arguments_are_named():
    x, _ = pulse_channels(8, seed=0)
    with pytest.raises(ValueError, match="`rate`"):
        revive_silent_units(_model(), x, rate=1.5)
    with pytest.raises(ValueError, match="no event layers"):
        revive_silent_units(keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)]), x)
    with pytest.raises(ValueError, match="`x`"):
        ReviveSilentUnits(None)

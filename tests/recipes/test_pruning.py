"""The recipe's pruning schedule and best-epoch callback (recipes/kws/pruning.py)."""

import numpy as np
import pytest

from recipes.kws import pruning
from recipes.kws.train import Config


@pytest.mark.parametrize("steps_per_epoch,epochs", [(6, 1), (70, 40), (100, 3), (1, 10)])
def test_schedule_reaches_target_before_an_epoch_ends(steps_per_epoch, epochs):
    cfg = Config(target_sparsity=0.8)
    schedule, first_final = pruning.schedule(cfg, steps_per_epoch, epochs)
    total = steps_per_epoch * epochs
    assert schedule.begin_step == round(0.2 * total)
    # The last mask update is exactly at end_step, else the target is never reached.
    assert (schedule.end_step - schedule.begin_step) % schedule.frequency == 0
    assert schedule.end_step >= round(0.7 * total)
    assert first_final < epochs and (first_final + 1) * steps_per_epoch > schedule.end_step
    should_prune, sparsity = schedule(schedule.end_step)
    assert bool(should_prune) and float(sparsity) == pytest.approx(0.8)


def test_schedule_without_room_after_pruning_is_a_clear_error():
    with pytest.raises(ValueError, match="--prune-end"):
        pruning.schedule(Config(prune_end=0.99), steps_per_epoch=1, epochs=2)


def test_best_weights_ignores_epochs_before_the_final_masks():
    import keras

    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    callback = pruning.best_weights_callback(from_epoch=2)
    callback.set_model(model)
    snapshots = []
    for epoch, val in enumerate([0.9, 0.8, 0.5, 0.7, 0.6]):  # epochs 0-1: denser, better
        model.layers[0].kernel.assign(np.full((2, 1), float(epoch), "float32"))
        snapshots.append(model.get_weights())
        callback.on_epoch_end(epoch, {"val_accuracy": val})
    callback.on_train_end()
    assert callback.best_epoch == 3
    np.testing.assert_array_equal(model.get_weights()[0], snapshots[3][0])


def test_activity_targets_step_down_to_the_final_rate():
    targets = pruning.activity_targets(0.75, 0.15, end_epoch=20, updates=8)
    epochs = sorted(targets)
    assert epochs[0] == 0 and epochs[-1] == 20 and len(epochs) == 9
    assert targets[0] == pytest.approx(0.75) and targets[20] == 0.15
    assert all(targets[a] > targets[b] for a, b in zip(epochs, epochs[1:]))
    assert pruning.activity_targets(0.1, 0.15, end_epoch=20, updates=8) == {0: 0.15}


def test_activity_target_callback_changes_the_trained_penalty():
    import keras

    from keras_events import EGRU, sparsity

    x = np.random.default_rng(0).normal(size=(16, 6, 3)).astype("float32")
    y = np.zeros(16, "int32")
    model = keras.Sequential([
        keras.Input((6, 3)),
        EGRU(4, return_sequences=True, activity_regularization=100.0, name="egru"),
        keras.layers.GlobalAveragePooling1D(), keras.layers.Dense(2)])
    model = sparsity.prune_low_magnitude(model, pruning_schedule=sparsity.ConstantSparsity(0.5, 0))
    model.compile(keras.optimizers.SGD(0.0),  # no updates: the loss changes only by the target
                  keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    history = model.fit(x, y, epochs=3, batch_size=16, verbose=0, callbacks=[
        sparsity.UpdatePruningStep(), pruning.activity_target_callback({0: 0.99, 2: 0.0})])
    loss = history.history["loss"]
    assert loss[0] == pytest.approx(loss[1]) and loss[2] > loss[1] + 1.0
    layer = next(l for l in model._flatten_layers() if isinstance(l, EGRU))
    assert layer.target_event_rate == 0.0

"""The recipes' pruning schedule and best-epoch callback (recipes/common/pruning.py)."""

import numpy as np
import pytest

from recipes.common import pruning


@pytest.mark.parametrize("steps_per_epoch,epochs", [(6, 1), (70, 40), (100, 3), (1, 10)])
def test_schedule_reaches_target_before_an_epoch_ends(steps_per_epoch, epochs):
    plan = pruning.PruningPlan(0.8, begin=0.2, end=0.7)
    schedule, first_final = plan.schedule(steps_per_epoch, epochs)
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
        pruning.PruningPlan(0.8, end=0.99).schedule(steps_per_epoch=1, epochs=2)


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



def test_weight_sparsity_counts_the_named_layers_zeros():
    import keras
    from keras_events import EGRU

    model = keras.Sequential([keras.Input((5, 3)), EGRU(4, name="egru"), keras.layers.Dense(2)])
    cell = model.get_layer("egru").cell
    kernel = np.ones(cell.kernel.shape, "float32")
    kernel[0] = 0.0  # one input row: 12 of the 36 input weights
    cell.kernel.assign(kernel)
    recurrent = np.ones(cell.recurrent_kernel.shape, "float32")
    recurrent[:, :3] = 0.0  # 3 columns: 12 of the 48 recurrent weights
    cell.recurrent_kernel.assign(recurrent)
    assert pruning.weight_sparsity(model, "egru") == pytest.approx((12 + 12) / (36 + 48))
    assert pruning.weight_sparsity(model, "missing") == 0.0

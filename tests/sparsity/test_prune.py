"""Pruning with the tfmot API on Keras 3: schedules, masks, training, strip, errors."""

import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest
from backend_utils import value_and_grads

from keras_events import EGRU, EGRUCell, sparsity
from keras_events.datasets import pulse_channels

SCHEDULE = dict(initial_sparsity=0.1, final_sparsity=0.9, begin_step=2, end_step=20, power=3, frequency=3)
BATCHES = 26


def _expected_kept(size, schedule_kwargs, batches):
    """Kept weights after each batch from the schedule's formula (tfmot semantics)."""
    s = schedule_kwargs
    kept, current = [], size
    for step in range(1, batches + 1):
        in_range = s["begin_step"] <= step <= s["end_step"]
        if in_range and (step - s["begin_step"]) % s["frequency"] == 0:
            p = min(1.0, max(0.0, (step - s["begin_step"]) / (s["end_step"] - s["begin_step"])))
            target = s["final_sparsity"] + (s["initial_sparsity"] - s["final_sparsity"]) * (1 - p) ** s["power"]
            current = max(round(size * (1 - target)), 1)
        kept.append(current)
    return kept


class _RecordKept(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.kept = []

    def on_train_batch_end(self, batch, logs=None):
        mask = keras.ops.convert_to_numpy(self.model.layers[0].masks[0])
        self.kept.append(int(np.count_nonzero(mask)))


def _dense_trajectory(schedule):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(BATCHES * 8, 20)).astype("float32")
    y = rng.normal(size=(BATCHES * 8, 10)).astype("float32")
    model = keras.Sequential([keras.Input((20,)), keras.layers.Dense(10)])
    pruned = sparsity.prune_low_magnitude(model, pruning_schedule=schedule)
    pruned.compile("sgd", "mse")
    record = _RecordKept()
    pruned.fit(x, y, batch_size=8, epochs=1, verbose=0, shuffle=False,
               callbacks=[sparsity.UpdatePruningStep(), record])
    return record.kept


@pytest.mark.tensorflow_only
def test_trajectory_matches_schedule_and_tfmot():
    import tensorflow_model_optimization as tfmot

    own = _dense_trajectory(sparsity.PolynomialDecay(**SCHEDULE))
    with_tfmot_schedule = _dense_trajectory(tfmot.sparsity.keras.PolynomialDecay(**SCHEDULE))
    expected = _expected_kept(200, SCHEDULE, BATCHES)
    assert own == with_tfmot_schedule
    assert np.max(np.abs(np.array(own) - expected)) <= 1

    env = dict(os.environ, TF_USE_LEGACY_KERAS="1", TF_CPP_MIN_LOG_LEVEL="3")
    script = os.path.join(os.path.dirname(__file__), "tfmot_trajectory.py")
    out = subprocess.run([sys.executable, script, json.dumps({"schedule": SCHEDULE, "batches": BATCHES})],
                         env=env, capture_output=True, text=True, timeout=300, check=True)
    tfmot_kept = json.loads(out.stdout.strip().splitlines()[-1])
    assert np.max(np.abs(np.array(own) - tfmot_kept)) <= 1


@pytest.mark.tensorflow_only
def test_schedule_values_equal_tfmot_objects():
    import tensorflow_model_optimization as tfmot

    pairs = [(sparsity.PolynomialDecay(**SCHEDULE), tfmot.sparsity.keras.PolynomialDecay(**SCHEDULE)),
             (sparsity.ConstantSparsity(0.7, 5, 40, 4), tfmot.sparsity.keras.ConstantSparsity(0.7, 5, 40, 4))]
    for ours, theirs in pairs:
        for step in range(0, 45):
            a, b = ours(step), theirs(step)
            assert bool(a[0]) == bool(b[0])
            assert float(a[1]) == pytest.approx(float(b[1]), abs=1e-6)


def _egru_model(units=32):
    return keras.Sequential([
        keras.Input((20, 4)),
        EGRU(units, return_sequences=True, activity_regularization=0.3),
        keras.layers.GlobalAveragePooling1D(),
        keras.layers.Dense(3, activation="softmax"),
    ])


def _fit(model, x, y, epochs, callbacks=()):
    model.compile(keras.optimizers.Adam(3e-3, clipnorm=1.0), "sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    model.fit(x, y, epochs=epochs, batch_size=32, verbose=0, callbacks=list(callbacks))


@pytest.mark.tensorflow_only
def test_pruned_egru_keeps_zeros_and_accuracy():
    """80 % sparsity on kernel and recurrent kernel; accuracy within 5 points of dense."""
    x, y = pulse_channels(1024, seed=0)
    x_val, y_val = pulse_channels(512, seed=1)
    keras.utils.set_random_seed(0)
    dense = _egru_model()
    _fit(dense, x, y, epochs=25)
    dense_acc = dense.evaluate(x_val, y_val, verbose=0)[1]

    keras.utils.set_random_seed(0)
    pruned = sparsity.prune_low_magnitude(
        _egru_model(), pruning_schedule=sparsity.PolynomialDecay(0.0, 0.8, 100, 500, frequency=25))
    _fit(pruned, x, y, epochs=25, callbacks=[sparsity.UpdatePruningStep()])
    wrapper = pruned.layers[0]
    for weight, mask in zip(wrapper.pruned_weights, wrapper.masks):
        w, m = keras.ops.convert_to_numpy(weight), keras.ops.convert_to_numpy(mask)
        assert int(m.sum()) == round(m.size * (1 - 0.8))  # the schedule ends at step 500 < 800
        assert np.all(w[m == 0] == 0.0)
    pruned_acc = pruned.evaluate(x_val, y_val, verbose=0)[1]
    assert dense_acc >= 0.9
    assert pruned_acc >= dense_acc - 0.05


def test_gradient_of_pruned_weights_is_zero_and_rnn_is_prunable():
    """The wrapper's gradient is the bare layer's gradient at weights w * m, masked."""
    wrapper = sparsity.prune_low_magnitude(keras.layers.RNN(EGRUCell(8), return_sequences=True),
                                           pruning_schedule=sparsity.ConstantSparsity(0.5, 0, frequency=1))
    model = keras.Sequential([keras.Input((6, 3)), wrapper])
    assert [w.name for w in wrapper.pruned_weights] == ["kernel", "recurrent_kernel"]
    callback = sparsity.UpdatePruningStep()
    callback.set_model(model)
    callback.on_train_begin()
    x = np.random.default_rng(0).normal(size=(4, 6, 3)).astype("float32")
    model(x, training=True)  # first training call (step 1): masks at 50 %
    masks = [keras.ops.convert_to_numpy(m) for m in wrapper.masks]
    weights = [keras.ops.convert_to_numpy(w) for w in wrapper.pruned_weights]
    for w, m in zip(weights, masks):
        assert int(m.sum()) == round(w.size * 0.5)  # k = round(n (1 - s)) kept
        assert np.all(np.abs(w[m == 1]).min() >= np.abs(w[m == 0]).max())  # the largest |w| kept

    _, grads = value_and_grads(lambda: keras.ops.sum(wrapper(x) ** 2), wrapper.pruned_weights)
    plain = keras.layers.RNN(EGRUCell(8), return_sequences=True)
    plain.build((None, 6, 3))
    plain.set_weights([w * m for w, m in zip(weights, masks)] + [keras.ops.convert_to_numpy(v)
                      for v in wrapper.layer.cell.weights[2:]])
    _, plain_grads = value_and_grads(lambda: keras.ops.sum(plain(x) ** 2),
                                     [plain.cell.kernel, plain.cell.recurrent_kernel])
    for g, g_plain, m in zip(grads, plain_grads, masks):
        assert np.all(g[m == 0] == 0.0)
        np.testing.assert_allclose(g, g_plain * m, rtol=1e-5, atol=1e-6)


def test_block_sparsity_prunes_whole_blocks():
    layer = keras.layers.Dense(16)
    wrapper = sparsity.prune_low_magnitude(layer, pruning_schedule=sparsity.ConstantSparsity(0.75, 0, frequency=1),
                                           block_size=(1, 4))
    model = keras.Sequential([keras.Input((8,)), wrapper])
    callback = sparsity.UpdatePruningStep()
    callback.set_model(model)
    callback.on_train_begin()
    model(np.ones((2, 8), "float32"), training=True)
    mask = keras.ops.convert_to_numpy(wrapper.masks[0]).reshape(8, 4, 4)
    assert np.all((mask.min(-1) == mask.max(-1)))   # each 1x4 block all kept or all pruned
    # the 8 of 32 blocks with the largest mean |w| are kept (AVG pooling)
    pooled = np.abs(keras.ops.convert_to_numpy(layer.kernel)).reshape(8, 4, 4).mean(-1)
    kept = mask[..., 0] == 1
    assert kept.sum() == round(32 * (1 - 0.75))
    assert pooled[kept].min() >= pooled[~kept].max()


def test_strip_pruning_save_load_round_trip(tmp_path):
    x, y = pulse_channels(128)
    pruned = sparsity.prune_low_magnitude(
        _egru_model(8), pruning_schedule=sparsity.ConstantSparsity(0.6, 0, frequency=2))
    _fit(pruned, x, y, epochs=1, callbacks=[sparsity.UpdatePruningStep()])
    path = os.path.join(tmp_path, "pruned.keras")
    pruned.save(path)
    with sparsity.prune_scope():
        reloaded = keras.saving.load_model(path)
    np.testing.assert_array_equal(reloaded.predict(x[:16], verbose=0), pruned.predict(x[:16], verbose=0))

    stripped = sparsity.strip_pruning(pruned)
    assert not any(isinstance(l, sparsity.PruneLowMagnitude) for l in stripped.layers)
    np.testing.assert_allclose(stripped.predict(x[:16], verbose=0), pruned.predict(x[:16], verbose=0), atol=1e-6)
    path = os.path.join(tmp_path, "stripped.keras")
    stripped.save(path)
    loaded = keras.saving.load_model(path)
    np.testing.assert_array_equal(loaded.predict(x[:16], verbose=0), stripped.predict(x[:16], verbose=0))
    table = sparsity.report(loaded, print_table=False)
    for name, stats in table[loaded.layers[0].name].items():  # k = round(n (1 - 0.6)) kept
        assert stats["nonzero"] == round(stats["size"] * (1 - 0.6)), name


class _Custom(keras.layers.Layer):
    def build(self, shape):
        self.w = self.add_weight(shape=(shape[-1], 2))

    def call(self, x):
        return x @ self.w


def test_errors():
    with pytest.raises(ValueError, match="Supported: Dense"):
        sparsity.prune_low_magnitude(keras.Sequential([keras.Input((3,)), _Custom()]))
    with pytest.raises(ValueError, match="final_sparsity"):
        sparsity.PolynomialDecay(0.0, 1.0, 0, 10)
    with pytest.raises(ValueError, match="target_sparsity"):
        sparsity.ConstantSparsity(-0.1, 0)
    with pytest.raises(ValueError, match="begin_step"):
        sparsity.PolynomialDecay(0.0, 0.5, 20, 10)
    model = sparsity.prune_low_magnitude(keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)]))
    model.compile("sgd", "mse")
    with pytest.raises(ValueError, match="UpdatePruningStep"):
        model.fit(np.zeros((4, 3)), np.zeros((4, 2)), verbose=0)


@pytest.mark.tensorflow_only
def test_pruning_summaries_write_sparsity_scalars(tmp_path):
    import tensorflow as tf

    x, y = pulse_channels(64)
    pruned = sparsity.prune_low_magnitude(_egru_model(8), pruning_schedule=sparsity.ConstantSparsity(0.5, 0, frequency=1))
    _fit(pruned, x, y, epochs=1, callbacks=[sparsity.UpdatePruningStep(), sparsity.PruningSummaries(str(tmp_path))])
    tags = set()
    for event_file in (tmp_path / "metrics").iterdir():
        for record in tf.compat.v1.train.summary_iterator(str(event_file)):
            tags.update(v.tag for v in record.summary.value)
    assert any(t.endswith("recurrent_kernel/sparsity") for t in tags)


# --- masks through training, `.keras` round trip mid-schedule, strip (both backends) ----------

N_TRAIN, BATCH = 96, 32                     # 3 batches (= pruning steps) per epoch
STEPS_PER_EPOCH = N_TRAIN // BATCH
GRADUAL = dict(initial_sparsity=0.25, final_sparsity=0.75, begin_step=1, end_step=9, power=1, frequency=2)


def _kept_after(size, step, s=GRADUAL):
    """Kept weights after training step ``step`` (>= 1): the mask of the last update at a step
    begin_step + k * frequency <= step, k = round(n (1 - sparsity)) (Zhu & Gupta 2017)."""
    last = s["begin_step"] + (min(step, s["end_step"]) - s["begin_step"]) // s["frequency"] * s["frequency"]
    p = (last - s["begin_step"]) / (s["end_step"] - s["begin_step"])
    sparsity = s["final_sparsity"] + (s["initial_sparsity"] - s["final_sparsity"]) * (1 - p) ** s["power"]
    return max(round(size * (1 - sparsity)), 1)


class _RecordEpochs(keras.callbacks.Callback):
    """Masks, effective and raw weights and the pruning step at every epoch end."""

    def __init__(self):
        super().__init__()
        self.epochs = []

    def on_epoch_end(self, epoch, logs=None):
        wrapper = self.model.layers[0]
        self.epochs.append(dict(
            masks=[keras.ops.convert_to_numpy(m) for m in wrapper.masks],
            weights=[keras.ops.convert_to_numpy(w) for w in wrapper.pruned_weights],
            step=int(keras.ops.convert_to_numpy(wrapper.pruning_step))))


def _gradual_model(seed=0):
    keras.utils.set_random_seed(seed)
    return sparsity.prune_low_magnitude(_egru_model(8), pruning_schedule=sparsity.PolynomialDecay(**GRADUAL))


def _train(model, x, y, epochs, record=None):
    if not model.compiled:
        model.compile(keras.optimizers.Adam(1e-2), "sparse_categorical_crossentropy")
    callbacks = [sparsity.UpdatePruningStep()] + ([record] if record else [])
    model.fit(x, y, epochs=epochs, batch_size=BATCH, shuffle=False, verbose=0, callbacks=callbacks)


def _state(model):
    wrapper = model.layers[0]
    return ([keras.ops.convert_to_numpy(m) for m in wrapper.masks],
            [keras.ops.convert_to_numpy(w) for w in wrapper.pruned_weights],
            int(keras.ops.convert_to_numpy(wrapper.pruning_step)))


def _assert_stripped_keeps_zeros(pruned, x):
    masks, weights, _ = _state(pruned)
    stripped = sparsity.strip_pruning(pruned)
    cell = stripped.layers[0].cell
    for w, m, v in zip(weights, masks, (cell.kernel, cell.recurrent_kernel)):
        v = keras.ops.convert_to_numpy(v)
        np.testing.assert_array_equal(v, w * m)
        np.testing.assert_array_equal(v == 0, m == 0)
    np.testing.assert_allclose(stripped.predict(x, verbose=0), pruned.predict(x, verbose=0), atol=1e-6)


def test_masks_stay_zero_through_training_and_a_keras_round_trip_continues(tmp_path):
    """Every epoch: kept counts follow the schedule, masks only shrink, the pruning step counts
    batches. Saved to `.keras` after 2 epochs (schedule half done), loaded, and both copies
    trained 2 more epochs: masks, pruning step, weights and exact zeros stay identical.

    TensorFlow: pruned weights are exact zeros after every batch. JAX holds the state outside
    the variables during `fit`, so the wrapper multiplies by the mask in every step and the
    zeros are written at the end of training; checked there (one test, so that JAX compiles
    the training step twice, not three times)."""
    x, y = pulse_channels(N_TRAIN, seed=0)
    model = _gradual_model()
    record = _RecordEpochs()
    _train(model, x, y, epochs=2, record=record)
    path = os.path.join(tmp_path, "pruned.keras")
    model.save(path)
    loaded = keras.saving.load_model(path)
    for a, b in zip(_state(model)[0] + _state(model)[1], _state(loaded)[0] + _state(loaded)[1]):
        np.testing.assert_array_equal(a, b)
    assert _state(loaded)[2] == _state(model)[2] == 2 * STEPS_PER_EPOCH

    _train(model, x, y, epochs=2, record=record)
    _train(loaded, x, y, epochs=2)
    previous = None
    for epoch, state in enumerate(record.epochs, start=1):
        assert state["step"] == epoch * STEPS_PER_EPOCH
        for m in state["masks"]:
            assert int(m.sum()) == _kept_after(m.size, state["step"]), (epoch, m.size)
        if previous is not None:
            for m, m_prev in zip(state["masks"], previous):
                assert np.all(m[m_prev == 0] == 0), "a pruned weight came back"
        if keras.backend.backend() == "tensorflow":
            for w, m in zip(state["weights"], state["masks"]):
                assert np.all(w[m == 0] == 0.0)
        previous = state["masks"]

    masks, weights, step = _state(model)
    masks_l, weights_l, step_l = _state(loaded)
    assert step == step_l == 4 * STEPS_PER_EPOCH
    for m, m_l, w, w_l in zip(masks, masks_l, weights, weights_l):
        np.testing.assert_array_equal(m, m_l)
        assert np.all(w[m == 0] == 0.0) and np.all(w[m == 1] != 0.0)
        assert np.all(w_l[m_l == 0] == 0.0)
        np.testing.assert_allclose(w_l, w, rtol=1e-5, atol=1e-6)
    _assert_stripped_keeps_zeros(model, x[:16])
    _assert_stripped_keeps_zeros(loaded, x[:16])

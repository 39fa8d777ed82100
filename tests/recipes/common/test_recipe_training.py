"""recipes/common/training.py: the event-rate target, pruning while training, clipping,
and the statistics the table reports, on tiny models (a few seconds)."""

import numpy as np
import pytest

from recipes.common import pruning, training

STEPS, FEATURES, UNITS, CLASSES = 12, 4, 8, 2


def _toy_data(n=64, seed=0):
    """Class = sign of the mean of the first feature over time (learnable, not trivial)."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, STEPS, FEATURES)).astype("float32")
    y = (x[:, :, 0].mean(axis=1) > 0).astype("int32")
    return x, y


def _event_model(target, units=UNITS):
    import keras
    from keras_events import EGRU

    return keras.Sequential([
        keras.Input((STEPS, FEATURES)),
        EGRU(units, return_sequences=True, seed=0, name="egru", **target.layer_kwargs()),
        keras.layers.GlobalAveragePooling1D(),
        keras.layers.Dense(CLASSES, activation="softmax"),
    ])


def _fit(target, epochs=2, steps=10, plan=None, units=UNITS, learning_rate=0.05, seed=0,
         block_layers=(), **kwargs):
    import tensorflow as tf

    x, y = _toy_data()
    data = tf.data.Dataset.from_tensor_slices((x, y)).batch(16).repeat()
    return training.fit(lambda: _event_model(target, units), data, epochs=epochs,
                        steps_per_epoch=steps, learning_rate=learning_rate, seed=seed,
                        validation=(x, y), test=(x, y), pruning_plan=plan, name="toy",
                        log=lambda m: None, jit_compile=False,  # XLA: 20 s to compile
                        block_layers=block_layers, **kwargs)


def _event_rate(model, x):
    """Reference: the fraction of non-zero outputs of the event layer (y = c·H(c − θ))."""
    import keras

    probe = keras.Model(model.inputs, model.get_layer("egru").output)
    return float(np.mean(np.asarray(probe.predict(x, verbose=0)) != 0))


@pytest.mark.tensorflow_only
def test_event_rate_target_lowers_the_event_rate():
    x, _ = _toy_data()
    free, _ = _fit(training.EventRateTarget(weight=0.0))
    held, _ = _fit(training.EventRateTarget(weight=5.0, rate=0.0))
    rate_free, rate_held = _event_rate(free, x), _event_rate(held, x)
    # Same seed, same batches, 20 steps: only the penalty differs (measured 0.43 vs 0.09).
    assert rate_free > 0.2, rate_free
    assert rate_held < 0.5 * rate_free, (rate_free, rate_held)
    # The table's event rate (activity_report, an eager trace of the cell) agrees.
    stats = training.event_stats(held, x)
    assert stats["event_rate"] == pytest.approx(rate_held, abs=0.01)
    assert stats["frames"] == STEPS


def test_event_rate_target_arguments():
    assert training.EventRateTarget(2.0, 0.19).layer_kwargs() == {
        "activity_regularization": 2.0, "target_event_rate": 0.19}
    with pytest.raises(ValueError, match="--activity-reg"):
        training.EventRateTarget(weight=-1.0)
    with pytest.raises(ValueError, match="--target-event-rate"):
        training.EventRateTarget(rate=1.0)


@pytest.mark.tensorflow_only
def test_fit_prunes_to_the_target_and_reports_what_it_trained():
    epochs, steps = 4, 10
    plan = pruning.PruningPlan(0.75, begin=0.2, end=0.5)
    model, results = _fit(training.EventRateTarget(), epochs=epochs, steps=steps, plan=plan,
                          units=16, learning_rate=1e-2)
    # Stripped: plain layers again, 75 % of every prunable weight exactly zero.
    assert model.get_layer("egru").__class__.__name__ == "EGRU"
    cell = model.get_layer("egru").cell
    for w in (cell.kernel, cell.recurrent_kernel):
        w = np.asarray(w)
        assert np.count_nonzero(w) == round(0.25 * w.size), w.shape
    assert pruning.weight_sparsity(model, "egru") == pytest.approx(0.75, abs=1e-3)
    assert results["epochs"] == epochs and results["target_sparsity"] == 0.75
    assert all(len(v) == epochs for v in results["history"].values())
    # The best epoch is one with the final masks.
    _, first_final = plan.schedule(steps, epochs)
    assert results["best_epoch"] >= first_final + 1
    x, y = _toy_data()
    probs = model.predict(x, verbose=0)
    assert results["test_accuracy"] == float(np.mean(probs.argmax(-1) == y))
    assert results["parameters"] == model.count_params()


def _groups_all_or_nothing(w, block):
    """Whether every aligned 1 x block group of columns of w is all zero or all non-zero."""
    nonzero = (np.asarray(w) != 0).reshape(w.shape[0], -1, block)
    return bool(np.all(nonzero.all(axis=2) | ~nonzero.any(axis=2)))


def _ke_egru_input(model_bytes, i, dtype):
    """Input ``i`` of the KE_EGRU op of a .tflite (2, 3: input-kernel index and row
    offsets; 5, 6: the recurrent kernel's)."""
    from keras_events.micro import model_ops

    m = model_ops.schema().ModelT.InitFromPackedBuf(bytearray(model_bytes), 0)
    codes = [c.customCode for c in m.operatorCodes]
    graph = m.subgraphs[0]
    op = next(o for o in graph.operators if codes[o.opcodeIndex] == b"KE_EGRU")
    return np.frombuffer(bytes(m.buffers[graph.tensors[op.inputs[i]].buffer].data), dtype)


@pytest.mark.tensorflow_only
def test_block_pruning_prunes_the_event_layer_in_1x4_blocks_and_exports_block4(tmp_path):
    """PruningPlan(block=4) on the layer named in block_layers: its kernels' zeros are
    whole aligned groups of 4 output columns at the target sparsity, in the saved .keras
    too; the head (2 columns: no 1 x 4 tiling) stays element-wise; the int8 export stores
    both matrices in block-4 form (the Cortex-M4 kernel's gather path)."""
    import keras

    from keras_events.ops import packing
    from recipes.common import export

    plan = pruning.PruningPlan(0.75, begin=0.2, end=0.5, block=4)
    model, results = _fit(training.EventRateTarget(), epochs=4, steps=10, plan=plan, units=16,
                          learning_rate=1e-2, block_layers=("egru",))
    assert results["prune_block"] == 4
    path = tmp_path / "egru.keras"
    model.save(path)
    cell = keras.saving.load_model(path).get_layer("egru").cell
    for w in (cell.kernel, cell.recurrent_kernel):
        w = np.asarray(w)
        assert np.count_nonzero(w) == round(0.25 * w.size), w.shape
        assert _groups_all_or_nothing(w, 4), w.shape
    head = np.asarray(model.layers[-1].kernel)
    assert np.count_nonzero(head) == round(0.25 * head.size)
    x, _ = _toy_data(16)
    tflite = export.export_event(model, x)
    for index, offsets in ((2, 3), (5, 6)):
        idx = _ke_egru_input(tflite, index, np.int16)
        nnz = int(_ke_egru_input(tflite, offsets, np.int32)[-1])
        assert nnz > 0 and packing.is_block4(idx, nnz), index
    # Element-wise pruning of the same model (the default): groups are broken up.
    plain, results = _fit(training.EventRateTarget(), epochs=4, steps=10, units=16,
                          plan=pruning.PruningPlan(0.75, begin=0.2, end=0.5),
                          learning_rate=1e-2, block_layers=("egru",))
    assert results["prune_block"] == 1
    assert not _groups_all_or_nothing(np.asarray(plain.get_layer("egru").cell.kernel), 4)


def test_prune_block_is_checked():
    with pytest.raises(ValueError, match="--prune-block"):
        pruning.PruningPlan(0.8, block=0)
    with pytest.raises(ValueError, match="--prune-block"):
        pruning.PruningPlan(0.8, block=4).wrap(_event_model(training.EventRateTarget()),
                                               None, block_layers=("nope",))


@pytest.mark.tensorflow_only
def test_patience_stops_when_validation_stops_improving():
    # Learning rate 0: the validation accuracy never improves after the first epoch, so
    # patience 2 stops after epoch 3 of 8; without patience all 8 run.
    _, results = _fit(training.EventRateTarget(), epochs=8, steps=2, learning_rate=0.0,
                      patience=2)
    assert results["epochs_run"] == 3 and results["epochs"] == 8
    assert len(results["history"]["val_accuracy"]) == 3 and results["best_epoch"] == 1
    _, results = _fit(training.EventRateTarget(), epochs=4, steps=2, learning_rate=0.0)
    assert results["epochs_run"] == 4
    # With pruning, patience counts from the first epoch with the final masks.
    plan = pruning.PruningPlan(0.5, begin=0.1, end=0.5)
    _, first_final = plan.schedule(2, 8)
    _, results = _fit(training.EventRateTarget(), epochs=8, steps=2, learning_rate=0.0,
                      plan=plan, patience=1)
    assert results["epochs_run"] == first_final + 2
    with pytest.raises(ValueError, match="--patience"):
        _fit(training.EventRateTarget(), epochs=2, steps=2, patience=0)


def test_compile_clips_gradients_and_decays_to_five_percent():
    import keras

    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, activation="softmax")])
    training.compile_model(model, learning_rate=0.01, decay_steps=100)
    assert model.optimizer.clipnorm == 1.0
    schedule = model.optimizer._learning_rate
    assert float(schedule(0)) == pytest.approx(0.01)
    assert float(schedule(100)) == pytest.approx(0.05 * 0.01)


def test_dense_gru_stats_count_every_weight():
    import keras

    model = keras.Sequential([keras.Input((STEPS, FEATURES)), keras.layers.GRU(UNITS),
                              keras.layers.Dense(CLASSES)])
    kernels = [w for w in model.weights if "kernel" in w.path]
    kernels[0].assign(np.zeros(kernels[0].shape, "float32"))  # the GRU's input kernel
    stats = training.dense_gru_stats(model, UNITS, FEATURES)
    gru_kernels = model.layers[0].cell.kernel.shape, model.layers[0].cell.recurrent_kernel.shape
    dense = sum(int(np.prod(s)) for s in gru_kernels)
    assert stats["dense_macs_per_frame"] == stats["effective_macs_per_frame"] == dense
    sizes = [int(np.prod(w.shape)) for w in kernels]
    assert stats["weight_sparsity"] == pytest.approx(sizes[0] / sum(sizes))
    assert stats["event_rate"] == 1.0


@pytest.mark.tensorflow_only
def test_same_seed_same_numbers_other_seed_other_numbers():
    """`fit(seed=...)` reproduces a run (pruned, event-rate target, dropout-free) exactly:
    same metrics, same weights; another seed changes them (so seeding is not ignored)."""
    target = training.EventRateTarget(weight=1.0, rate=0.1)
    plan = pruning.PruningPlan(0.5, 0.2, 0.6)
    runs = [_fit(target, epochs=3, plan=plan, seed=s) for s in (3, 3, 4)]
    (a, ra), (b, rb), (c, rc) = runs
    assert ra["history"] == rb["history"]
    assert ra["test_accuracy"] == rb["test_accuracy"]
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(wa, wb)
    assert any(not np.array_equal(wa, wc) for wa, wc in zip(a.get_weights(), c.get_weights()))


def test_rate_sweep_trains_one_event_model_per_target_and_plots(tmp_path):
    """stage_prune with a rate sweep: fit_one sees each target rate in its config; the
    points carry the measured rate (activity_report of the returned model) and the plot
    is written."""
    import dataclasses

    from recipes.common import plots

    @dataclasses.dataclass
    class Cfg:
        target_sparsity: float = 0.0
        prune_begin: float = 0.2
        prune_end: float = 0.7
        sweep: tuple = ()
        rate_sweep: tuple = (0.1, 0.3)
        target_event_rate: float = 0.2

    x, y = _toy_data(16)
    seen = []

    def fit_one(cfg, state, name, target_sparsity=None):
        seen.append(cfg.target_event_rate)
        return _event_model(training.EventRateTarget()), {"test_accuracy": cfg.target_event_rate}

    base = _event_model(training.EventRateTarget())
    state = {"models": {"egru": base}, "x_testing": x,
             "results": {"egru": {"test_accuracy": 0.5, "weight_sparsity": 0.0, "event_rate": 0.3},
                         "gru": {"test_accuracy": 0.6, "weight_sparsity": 0.0}}}
    training.stage_prune(Cfg(), state, fit_one, log=lambda m: None)
    assert seen == [0.1, 0.3]
    points = state["rate_points"]
    assert [p["target_event_rate"] for p in points] == [0.1, 0.3]
    assert points[0]["event_rate"] == pytest.approx(_event_rate(base, x[:256]), abs=0.2)
    path = tmp_path / "rate.png"
    plots.plot_accuracy_vs_event_rate(state, str(path))
    assert path.stat().st_size > 1000

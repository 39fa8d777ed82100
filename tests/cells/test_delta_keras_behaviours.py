"""Every Keras RNN behaviour, for each event cell (EGRU, Delta-GRU, Delta-LSTM), on TF and JAX.

Each test runs the cell inside the Keras machinery (go_backwards, stateful, masking,
Bidirectional, ...) and compares with the cell's NumPy reference
(tests/reference/egru_bptt.py, tests/reference/delta_cells.py) on the sequence that
behaviour should produce. The delta cells use thresholds that skip part of the changes.
"""

import os

import keras
import numpy as np
import pytest
from reference import delta_cells
from reference.egru_bptt import egru_sequence

from keras_events import DeltaGRUCell, DeltaLSTMCell, EGRUCell, sparsity

B, T, I, U = 4, 10, 5, 8

CELLS = {
    "egru": lambda **kw: EGRUCell(U, **kw),
    "delta_gru": lambda **kw: DeltaGRUCell(U, input_threshold=0.2, hidden_threshold=0.05, **kw),
    "delta_lstm": lambda **kw: DeltaLSTMCell(U, input_threshold=0.2, hidden_threshold=0.05, **kw),
}
np_ = keras.ops.convert_to_numpy


def _reference(cell, x):
    """The cell's output sequence on (B, T, I) ``x``, from its NumPy reference (float64)."""
    x = np.asarray(x, np.float64)
    if isinstance(cell, EGRUCell):
        weights = [np_(w).astype(np.float64) for w in (cell.kernel, cell.recurrent_kernel, cell.bias,
                                                       cell.threshold)]
        return egru_sequence(x, *weights)[0]
    sequence = delta_cells.gru_sequence if isinstance(cell, DeltaGRUCell) else delta_cells.lstm_sequence
    weights = [np_(w).astype(np.float64) for w in cell.get_weights()]
    return sequence(x, *weights, cell.input_threshold, cell.hidden_threshold)[0]


def _randomize(cell, seed=0):
    rng = np.random.default_rng(seed)
    cell.set_weights([rng.normal(-0.5 if w.path.endswith("threshold_param") else 0.0, 0.5, w.shape)
                      for w in cell.weights])


def _x(seed=1, shape=(B, T, I)):
    """A random walk: consecutive steps differ a little (the delta cells skip small changes)."""
    return np.cumsum(np.random.default_rng(seed).normal(0, 0.3, shape), axis=1).astype("float32")


def _rnn(kind, batch=None, **kwargs):
    rnn = keras.layers.RNN(CELLS[kind](), **kwargs)
    rnn.build((batch, T, I))
    _randomize(rnn.cell)
    return rnn


def _model(kind, **cell_kwargs):
    cell = CELLS[kind](**cell_kwargs)
    model = keras.Sequential([keras.Input((T, I)), keras.layers.RNN(cell), keras.layers.Dense(2)])
    _randomize(cell)
    return model


def _close(got, expected, atol=2e-5):
    np.testing.assert_allclose(np_(got), expected, atol=atol)


@pytest.mark.parametrize("kind", CELLS)
def test_go_backwards(kind):
    rnn = _rnn(kind, return_sequences=True, go_backwards=True)
    x = _x()
    _close(rnn(x), _reference(rnn.cell, x[:, ::-1]))


@pytest.mark.parametrize("kind", CELLS)
def test_unroll_equals_the_loop(kind):
    rnn = _rnn(kind, return_sequences=True, unroll=True)
    x = _x()
    _close(rnn(x), _reference(rnn.cell, x))


@pytest.mark.parametrize("kind", CELLS)
def test_stateful_two_halves_equal_whole_and_reset(kind):
    rnn = _rnn(kind, batch=B, return_sequences=True, stateful=True)
    x = _x()
    first, second = np_(rnn(x[:, : T // 2])), np_(rnn(x[:, T // 2:]))
    np.testing.assert_allclose(np.concatenate([first, second], 1), _reference(rnn.cell, x), atol=2e-5)
    rnn.reset_state()
    np.testing.assert_allclose(np_(rnn(x[:, : T // 2])), first, atol=1e-6)


@pytest.mark.parametrize("kind", CELLS)
def test_bidirectional(kind):
    layer = keras.layers.Bidirectional(keras.layers.RNN(CELLS[kind](), return_sequences=True))
    layer.build((None, T, I))
    _randomize(layer.forward_layer.cell, seed=0)
    _randomize(layer.backward_layer.cell, seed=1)
    x = _x()
    forward = _reference(layer.forward_layer.cell, x)
    backward = _reference(layer.backward_layer.cell, x[:, ::-1])[:, ::-1]
    _close(layer(x), np.concatenate([forward, backward], -1))


@pytest.mark.parametrize("kind", CELLS)
def test_masking_skips_padded_steps(kind):
    x = _x()
    x[:, 7:] = 0.0
    inputs = keras.Input((T, I))
    rnn = keras.layers.RNN(CELLS[kind]())
    model = keras.Model(inputs, rnn(keras.layers.Masking(0.0)(inputs)))
    _randomize(rnn.cell)
    _close(model(x), _reference(rnn.cell, x[:, :7])[:, -1])


@pytest.mark.parametrize("kind", CELLS)
def test_stacked_cells_equal_composition(kind):
    cells = [CELLS[kind](), CELLS[kind]()]
    inputs = keras.Input((T, I))
    stacked = keras.layers.RNN(cells, return_sequences=True, return_state=True)
    outputs = stacked(inputs)
    sizes = [s for cell in cells for s in cell.state_size]
    assert [tuple(o.shape)[-1] for o in keras.tree.flatten(outputs[1:])] == sizes  # knows input sizes
    model = keras.Model(inputs, outputs[0])
    for seed, cell in enumerate(cells):
        _randomize(cell, seed=seed)
    x = _x()
    _close(model(x), _reference(cells[1], _reference(cells[0], x)))


@pytest.mark.parametrize("kind", CELLS)
def test_variable_length_input(kind):
    inputs = keras.Input((None, I))
    rnn = keras.layers.RNN(CELLS[kind](), return_sequences=True)
    model = keras.Model(inputs, rnn(inputs))
    _randomize(rnn.cell)
    for steps in (4, T):
        x = _x(seed=steps, shape=(B, steps, I))
        _close(model(x), _reference(rnn.cell, x))


@pytest.mark.parametrize("kind", CELLS)
def test_dropout_arguments(kind):
    """Input dropout: one mask per sequence, the reference on x ⊙ mask; recurrent dropout
    changes the training output only; inference ignores both."""
    rnn = keras.layers.RNN(CELLS[kind](dropout=0.4, recurrent_dropout=0.3, seed=2), return_sequences=True)
    rnn.build((None, T, I))
    cell = rnn.cell
    _randomize(cell)
    x = _x()
    _close(rnn(x), _reference(cell, x))
    used, reset = [], cell.reset_dropout_mask

    def record_and_reset():
        used.append((cell._dropout_mask, cell._recurrent_dropout_mask))
        reset()

    cell.reset_dropout_mask = record_and_reset
    only_inputs = keras.layers.RNN(CELLS[kind](dropout=0.4, seed=2), return_sequences=True)
    only_inputs.build((None, T, I))
    only_inputs.cell.set_weights(cell.get_weights())
    inner, recorded = only_inputs.cell, []
    inner_reset = inner.reset_dropout_mask
    inner.reset_dropout_mask = lambda: (recorded.append(inner._dropout_mask), inner_reset())
    y = np_(only_inputs(x, training=True))
    mask = np_(recorded[-1])
    assert mask.shape == (B, I) and set(np.unique(mask)) == {0.0, np.float32(1 / 0.6)}
    np.testing.assert_allclose(y, _reference(inner, x * mask[:, None, :]), atol=2e-5)
    both = np_(rnn(x, training=True))
    masks = [np_(m) for m in used[-1]]
    assert masks[1].shape == (B, U)
    assert not np.allclose(both, _reference(cell, x * masks[0][:, None, :]), atol=1e-3)


@pytest.mark.parametrize("kind", CELLS)
def test_jit_compile_fit_and_predict(kind):
    model = _model(kind)
    x = _x(shape=(16, T, I))
    eager = model.predict(x, verbose=0)
    model.compile("adam", "mse", jit_compile=True)
    np.testing.assert_allclose(model.predict(x, verbose=0), eager, atol=2e-5)
    history = model.fit(x, np.zeros((16, 2)), epochs=2, batch_size=8, verbose=0)
    assert np.all(np.isfinite(history.history["loss"]))


@pytest.mark.parametrize("kind", CELLS)
def test_mixed_precision(kind):
    x = _x(shape=(16, T, I))
    reference = _model(kind)
    old = keras.config.dtype_policy()
    keras.config.set_dtype_policy("mixed_float16")
    try:
        model = _model(kind)
    finally:
        keras.config.set_dtype_policy(old)
    rnn = model.layers[0]
    assert rnn.cell.compute_dtype == "float16" and rnn.cell.kernel.dtype == "float32"
    model.set_weights(reference.get_weights())
    y = model.predict(x, verbose=0)
    assert y.dtype == np.float16 or y.dtype == np.float32
    # float16 rounding can flip an event or a send (a threshold test): most outputs agree
    close = np.abs(y.astype(np.float32) - reference.predict(x, verbose=0)) <= 0.05
    assert close.mean() >= 0.9
    model.compile("adam", "mse")
    assert np.isfinite(model.train_on_batch(x, np.zeros((16, 2))))


@pytest.mark.parametrize("kind", CELLS)
def test_tf_data_input(kind):
    import tensorflow as tf

    model = _model(kind)
    model.compile("adam", "mse")
    x = _x(shape=(16, T, I))
    data = tf.data.Dataset.from_tensor_slices((x, np.zeros((16, 2), "float32"))).batch(8)
    history = model.fit(data, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    np.testing.assert_allclose(model.predict(data, verbose=0), model.predict(x, verbose=0), atol=1e-6)


@pytest.mark.parametrize("kind", CELLS)
def test_clone_model(kind):
    model = _model(kind)
    clone = keras.models.clone_model(model)
    assert clone.layers[0].cell is not model.layers[0].cell
    assert clone.layers[0].cell.get_config() == model.layers[0].cell.get_config()
    clone.set_weights(model.get_weights())
    x = _x()
    np.testing.assert_allclose(np_(clone(x)), np_(model(x)), atol=1e-6)


@pytest.mark.tensorflow_only
@pytest.mark.parametrize("kind", CELLS)
def test_saved_model_export(kind, tmp_path):
    import tensorflow as tf

    model = _model(kind)
    path = os.path.join(tmp_path, "saved")
    model.export(path, verbose=False)
    loaded = tf.saved_model.load(path)  # kept: the served function references its variables
    served = loaded.serve(_x())
    np.testing.assert_allclose(np.asarray(served), np_(model(_x())), atol=1e-6)


@pytest.mark.parametrize("kind", CELLS)
def test_keras_file_round_trip(kind, tmp_path):
    model = _model(kind, surrogate="fast_sigmoid")
    path = os.path.join(tmp_path, "m.keras")
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert loaded.layers[0].cell.get_config() == model.layers[0].cell.get_config()
    np.testing.assert_array_equal(np_(loaded(_x())), np_(model(_x())))


@pytest.mark.parametrize("kind", CELLS)
def test_pruning_both_kernels(kind):
    model = sparsity.prune_low_magnitude(_model(kind),
                                         pruning_schedule=sparsity.ConstantSparsity(0.5, 0, frequency=1))
    wrapper = model.layers[0]
    assert [w.name for w in wrapper.pruned_weights] == ["kernel", "recurrent_kernel"]
    model.compile("adam", "mse")
    x = _x(shape=(16, T, I))
    model.fit(x, np.zeros((16, 2)), epochs=2, batch_size=8, verbose=0,
              callbacks=[sparsity.UpdatePruningStep()])
    for weight, mask in zip(wrapper.pruned_weights, wrapper.masks):
        w, m = np_(weight), np_(mask)
        assert int(m.sum()) == round(m.size * 0.5)
        assert np.all(w[m == 0] == 0.0)
    stripped = sparsity.strip_pruning(model)
    np.testing.assert_allclose(stripped.predict(x, verbose=0), model.predict(x, verbose=0), atol=1e-6)

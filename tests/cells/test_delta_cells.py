"""DeltaGRUCell / DeltaLSTMCell: thresholds 0 equal Keras's cells, thresholds > 0 equal the
NumPy reference (tests/reference/delta_cells.py), config, initial state, errors."""

import keras
import numpy as np
import pytest
from reference import delta_cells as ref

from keras_events import DeltaGRUCell, DeltaLSTMCell

B, T, I, U = 4, 11, 5, 7

# (delta cell, the Keras cell it equals at thresholds 0, its NumPy reference, state sizes)
CELLS = {
    "gru": (DeltaGRUCell, lambda u: keras.layers.GRUCell(u, reset_after=True), ref.gru_sequence,
            [U, I, U, 3 * U, 3 * U]),
    "lstm": (DeltaLSTMCell, keras.layers.LSTMCell, ref.lstm_sequence, [U, U, I, U, 4 * U]),
}


def _x(seed=1, shape=(B, T, I)):
    return np.random.default_rng(seed).normal(0, 1, shape).astype("float32")


def _slow_x(seed=1, shape=(B, T, I)):
    """A random walk: consecutive steps differ a little, so thresholds skip some changes."""
    rng = np.random.default_rng(seed)
    return np.cumsum(rng.normal(0, 0.3, shape), axis=1).astype("float32")


def _rnn(kind, **cell_kwargs):
    rnn = keras.layers.RNN(CELLS[kind][0](U, **cell_kwargs), return_sequences=True)
    rnn.build((None, T, I))
    rng = np.random.default_rng(0)
    rnn.cell.set_weights([rng.normal(0, 0.5, w.shape) for w in rnn.cell.get_weights()])
    return rnn


def _numpy_weights(cell):
    return [keras.ops.convert_to_numpy(w).astype("float64") for w in cell.get_weights()]


@pytest.mark.parametrize("kind", CELLS)
def test_thresholds_zero_equal_the_keras_cell_with_its_weights(kind):
    keras_rnn = keras.layers.RNN(CELLS[kind][1](U), return_sequences=True, return_state=True)
    keras_rnn.build((None, T, I))
    rng = np.random.default_rng(3)
    keras_rnn.cell.set_weights([rng.normal(0, 0.5, w.shape) for w in keras_rnn.cell.get_weights()])
    delta_rnn = keras.layers.RNN(CELLS[kind][0](U), return_sequences=True, return_state=True)
    delta_rnn.build((None, T, I))
    delta_rnn.cell.set_weights(keras_rnn.cell.get_weights())  # same names, shapes, columns
    assert [w.path.split("/")[-1] for w in delta_rnn.cell.weights] == \
        [w.path.split("/")[-1] for w in keras_rnn.cell.weights]
    x = _x()
    expected = [keras.ops.convert_to_numpy(t) for t in keras_rnn(x)]
    got = [keras.ops.convert_to_numpy(t) for t in delta_rnn(x)]
    np.testing.assert_allclose(got[0], expected[0], atol=1e-5)
    np.testing.assert_allclose(got[1], expected[1], atol=1e-5)  # h
    if kind == "lstm":
        np.testing.assert_allclose(got[2], expected[2], atol=1e-5)  # c


@pytest.mark.parametrize("kind", CELLS)
@pytest.mark.parametrize("thresholds", [(0.0, 0.0), (0.3, 0.1), (0.5, 0.05)])
def test_sequence_equals_numpy_reference(kind, thresholds):
    rnn = _rnn(kind, input_threshold=thresholds[0], hidden_threshold=thresholds[1])
    x = _slow_x()
    expected, sent_x, sent_h = CELLS[kind][2](x.astype("float64"), *_numpy_weights(rnn.cell), *thresholds)
    if thresholds[0] > 0:
        assert 0.1 < sent_x.mean() < 0.9 and 0.1 < sent_h.mean() < 0.9, "thresholds should skip some"
    np.testing.assert_allclose(keras.ops.convert_to_numpy(rnn(x)), expected, atol=2e-5)


@pytest.mark.parametrize("kind", CELLS)
def test_state_order_sizes_and_initial_state(kind):
    rnn = _rnn(kind, input_threshold=0.2, hidden_threshold=0.1)
    cell = rnn.cell
    assert cell.state_size == CELLS[kind][3]
    assert [tuple(s.shape) for s in cell.get_initial_state(3)] == [(3, n) for n in CELLS[kind][3]]
    assert all(not np.any(keras.ops.convert_to_numpy(s)) for s in cell.get_initial_state(3))
    x = _slow_x()
    _, *states = keras.layers.RNN(cell, return_state=True)(x)
    h_ref, *_ = CELLS[kind][2](x.astype("float64"), *_numpy_weights(cell), 0.2, 0.1)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(states[0]), h_ref[:, -1], atol=2e-5)
    x_hat = keras.ops.convert_to_numpy(states[CELLS[kind][3].index(I) if kind == "gru" else 2])
    # x̂ is exactly the last sent value of each input component
    assert np.all(np.isin(x_hat, np.concatenate([x.reshape(-1), [0.0]])))


@pytest.mark.parametrize("kind", CELLS)
def test_symbolic_state_shapes_know_the_input_size(kind):
    inputs = keras.Input((T, I))
    outputs = keras.layers.RNN(CELLS[kind][0](U), return_state=True)(inputs)
    assert [tuple(o.shape) for o in outputs[1:]] == [(None, n) for n in CELLS[kind][3]]


@pytest.mark.parametrize("kind", CELLS)
def test_config_round_trip_and_prunable_weights(kind):
    cell = CELLS[kind][0](U, input_threshold=0.25, hidden_threshold=0.125, dropout=0.1,
                          surrogate={"class_name": "triangle", "config": {"width": 0.5}}, seed=4)
    config = cell.get_config()
    assert config["input_threshold"] == 0.25 and config["hidden_threshold"] == 0.125
    clone = type(cell).from_config(config)
    assert clone.get_config() == config
    rnn = keras.layers.RNN(cell)
    rnn.build((None, T, I))
    assert cell.get_prunable_weights() == [cell.kernel, cell.recurrent_kernel]
    restored = keras.layers.deserialize(keras.layers.serialize(cell))
    assert type(restored) is type(cell) and restored.get_config() == config


def test_lstm_unit_forget_bias():
    cell = DeltaLSTMCell(U)
    cell.build((None, I))
    bias = keras.ops.convert_to_numpy(cell.bias)
    np.testing.assert_array_equal(bias, np.r_[np.zeros(U), np.ones(U), np.zeros(2 * U)])
    cell = DeltaLSTMCell(U, unit_forget_bias=False)
    cell.build((None, I))
    assert not np.any(keras.ops.convert_to_numpy(cell.bias))


@pytest.mark.parametrize("kind", CELLS)
@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"units": 0}, "units"),
        ({"units": 4, "input_threshold": -0.1}, "input_threshold"),
        ({"units": 4, "hidden_threshold": float("nan")}, "hidden_threshold"),
        ({"units": 4, "hidden_threshold": "high"}, "hidden_threshold"),
        ({"units": 4, "surrogate": "no_such"}, "surrogate"),
        ({"units": 4, "dropout": 1.0}, "dropout"),
    ],
)
def test_bad_arguments(kind, kwargs, match):
    with pytest.raises(ValueError, match=match):
        CELLS[kind][0](**kwargs)


@pytest.mark.parametrize("kind", CELLS)
def test_wrong_input_rank(kind):
    with pytest.raises(ValueError, match="inputs"):
        CELLS[kind][0](4).build((2, 3, 4))

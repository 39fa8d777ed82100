"""EGRUCell / EGRU: equations vs NumPy, RNN features, sparse BPTT, save/load, errors."""

import os

import keras
import numpy as np
import pytest
from backend_utils import value_and_grads
from reference.egru_bptt import egru_sequence

from keras_events import EGRU, EGRUCell

B, T, I, U = 4, 12, 5, 16


def _weights(cell):
    return [keras.ops.convert_to_numpy(w) for w in
            (cell.kernel, cell.recurrent_kernel, cell.bias, cell.threshold)]


def _randomize(cell, seed=0, scale=0.6):
    """Weights that give a mix of events and silence (default init fires a lot)."""
    rng = np.random.default_rng(seed)
    cell.kernel.assign(rng.normal(0, scale, cell.kernel.shape))
    cell.recurrent_kernel.assign(rng.normal(0, scale, cell.recurrent_kernel.shape))
    cell.bias.assign(rng.normal(0, 0.3, cell.bias.shape))
    cell.threshold_param.assign(rng.normal(-0.8, 0.3, cell.threshold_param.shape))


def _x(seed=1, shape=(B, T, I)):
    return np.random.default_rng(seed).normal(0, 1, shape).astype("float32")


def _rnn(**kwargs):
    layer = keras.layers.RNN(EGRUCell(U), **kwargs)
    layer.build((None, T, I))
    _randomize(layer.cell)
    return layer


def test_sequence_matches_numpy_reference():
    layer = _rnn(return_sequences=True)
    x = _x()
    y = keras.ops.convert_to_numpy(layer(x))
    ref, _, _, events = egru_sequence(x, *_weights(layer.cell))
    assert 0.1 < events.mean() < 0.9, "test weights should give a mix of events and silence"
    np.testing.assert_allclose(y, ref, atol=1e-6)
    assert np.array_equal(y != 0, events.astype(bool))


def test_return_state_and_last_step():
    layer = _rnn(return_state=True)
    x = _x()
    y, y_state, c_state = [keras.ops.convert_to_numpy(t) for t in layer(x)]
    ref, c_ref, y_ref, _ = egru_sequence(x, *_weights(layer.cell))
    np.testing.assert_allclose(y, ref[:, -1], atol=1e-6)
    np.testing.assert_allclose(c_state, c_ref, atol=1e-6)
    np.testing.assert_allclose(y_state, y_ref, atol=1e-6)


def test_go_backwards():
    layer = _rnn(return_sequences=True, go_backwards=True)
    x = _x()
    ref, *_ = egru_sequence(x[:, ::-1], *_weights(layer.cell))
    np.testing.assert_allclose(keras.ops.convert_to_numpy(layer(x)), ref, atol=1e-6)


def test_stateful_two_halves_equal_whole():
    layer = keras.layers.RNN(EGRUCell(U), return_sequences=True, stateful=True)
    layer.build((B, T, I))
    _randomize(layer.cell)
    x = _x()
    first = keras.ops.convert_to_numpy(layer(x[:, : T // 2]))
    second = keras.ops.convert_to_numpy(layer(x[:, T // 2:]))
    ref, *_ = egru_sequence(x, *_weights(layer.cell))
    np.testing.assert_allclose(np.concatenate([first, second], 1), ref, atol=1e-6)
    layer.reset_state()
    np.testing.assert_allclose(keras.ops.convert_to_numpy(layer(x[:, : T // 2])), first, atol=1e-6)


def test_masking_skips_padded_steps():
    x = _x()
    x[:, 8:] = 0.0
    inputs = keras.Input((T, I))
    masked = keras.layers.Masking(0.0)(inputs)
    rnn = keras.layers.RNN(EGRUCell(U))
    model = keras.Model(inputs, rnn(masked))
    _randomize(rnn.cell)
    ref, *_ = egru_sequence(x[:, :8], *_weights(rnn.cell))
    np.testing.assert_allclose(keras.ops.convert_to_numpy(model(x)), ref[:, -1], atol=1e-6)


def test_stacked_cells_and_stacked_layers():
    x = _x()
    stacked = keras.layers.RNN([EGRUCell(U), EGRUCell(8)], return_sequences=True)
    assert tuple(stacked(x).shape) == (B, T, 8)
    model = keras.Sequential([keras.Input((T, I)), EGRU(U, return_sequences=True), EGRU(8)])
    assert tuple(model(x).shape) == (B, 8)


def test_egru_layer_equals_rnn_of_cell():
    layer = EGRU(U, return_sequences=True)
    layer.build((None, T, I))
    _randomize(layer.cell)
    ref, *_ = egru_sequence(_x(), *_weights(layer.cell))
    np.testing.assert_allclose(keras.ops.convert_to_numpy(layer(_x())), ref, atol=1e-6)


def test_dropout_only_in_training():
    layer = keras.layers.RNN(EGRUCell(U, dropout=0.5, recurrent_dropout=0.5, seed=3))
    x = _x()
    a = keras.ops.convert_to_numpy(layer(x))
    b = keras.ops.convert_to_numpy(layer(x))
    np.testing.assert_array_equal(a, b)
    c = keras.ops.convert_to_numpy(layer(x, training=True))
    assert not np.allclose(a, c)


def _loss_and_grads(layer, x):
    cell = layer.cell
    variables = [cell.kernel, cell.recurrent_kernel, cell.bias, cell.threshold_param]
    return value_and_grads(lambda: keras.ops.sum(layer(x) ** 2), variables)


def test_threshold_gradient_is_nonzero():
    layer = _rnn(return_sequences=True)
    _, grads = _loss_and_grads(layer, _x())
    assert np.count_nonzero(grads[3]) > U // 2
    assert all(np.all(np.isfinite(g)) for g in grads)


def test_sparse_bptt_silent_unit_gets_exactly_zero_gradient():
    """A unit far below threshold all the time (|c - ϑ| >= triangle width) has ψ = 0
    everywhere, so no gradient reaches the weights that feed it."""
    layer = _rnn(return_sequences=True)
    cell = layer.cell
    silent = 3
    bias = keras.ops.convert_to_numpy(cell.bias)
    bias[0, silent] = 20.0            # update gate u ≈ 1: c follows the candidate
    bias[0, 2 * U + silent] = -20.0   # candidate z ≈ -1: c ≈ -1, c - ϑ < -1
    cell.bias.assign(bias)
    x = _x()
    _, _, _, events = egru_sequence(x, *_weights(cell))
    assert events[..., silent].sum() == 0
    _, (g_kernel, g_recurrent, _, g_threshold) = _loss_and_grads(layer, x)
    cols = [silent, U + silent, 2 * U + silent]
    assert np.all(g_recurrent[:, cols] == 0.0)
    assert np.all(g_kernel[:, cols] == 0.0)
    assert g_threshold[silent] == 0.0
    assert np.count_nonzero(g_recurrent) > 0


@pytest.mark.parametrize("make", ["cell", "layer"])
def test_keras_save_load_round_trip(tmp_path, make):
    if make == "cell":
        rnn = keras.layers.RNN(EGRUCell(U, surrogate={"class_name": "atan", "config": {"alpha": 3.0}}),
                               return_sequences=True)
    else:
        rnn = EGRU(U, return_sequences=True, activity_regularization=0.2, target_event_rate=0.1)
    model = keras.Sequential([keras.Input((T, I)), rnn, keras.layers.Dense(3)])
    _randomize(rnn.cell)
    x = _x()
    path = os.path.join(tmp_path, "m.keras")
    model.save(path)
    loaded = keras.saving.load_model(path)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(model(x)),
                                  keras.ops.convert_to_numpy(loaded(x)))
    assert loaded.layers[0].cell.get_config() == rnn.cell.get_config()


def test_activity_regularization_adds_a_loss_in_training_only():
    layer = EGRU(U, return_sequences=True, activity_regularization=0.5)
    x = _x()
    layer(x)
    assert len(layer.losses) == 0
    layer(x, training=True)
    assert len(layer.losses) == 1
    penalty = float(keras.ops.convert_to_numpy(layer.losses[0]))
    _, _, _, events = egru_sequence(x, *_weights(layer.cell))
    assert penalty == pytest.approx(0.5 * events.mean(), abs=1e-6)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"units": 0}, "units"),
        ({"units": -3}, "units"),
        ({"units": 4, "surrogate": "no_such"}, "surrogate"),
        ({"units": 4, "threshold_init": -0.1}, "threshold_init"),
        ({"units": 4, "threshold_init": 1.5}, "threshold_init"),
        ({"units": 4, "dropout": 1.0}, "dropout"),
    ],
)
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        EGRUCell(**kwargs)


def test_wrong_input_rank():
    with pytest.raises(ValueError, match="inputs"):
        EGRU(4)(np.zeros((2, 3), "float32"))
    with pytest.raises(ValueError, match="inputs"):
        EGRUCell(4).build((2, 3, 4))

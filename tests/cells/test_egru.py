"""EGRUCell / EGRU: equations vs NumPy, RNN features, sparse BPTT, save/load, errors."""

import os

import keras
import numpy as np
import pytest
from backend_utils import value_and_grads
from reference import egru_bptt as ref
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


def test_stacked_cells_equal_composition_of_two_cells():
    x = _x()
    cells = [EGRUCell(U), EGRUCell(8)]
    stacked = keras.layers.RNN(cells, return_sequences=True)
    stacked.build((None, T, I))
    for seed, cell in enumerate(cells):
        _randomize(cell, seed=seed)
    first, *_ = egru_sequence(x, *_weights(cells[0]))
    expected, *_ = egru_sequence(first, *_weights(cells[1]))
    np.testing.assert_allclose(keras.ops.convert_to_numpy(stacked(x)), expected, atol=1e-6)

    model = keras.Sequential([keras.Input((T, I)), EGRU(U, return_sequences=True), EGRU(8)])
    for layer, cell in zip(model.layers, cells):
        layer.cell.set_weights(cell.get_weights())
    np.testing.assert_allclose(keras.ops.convert_to_numpy(model(x)), expected[:, -1], atol=1e-6)


def test_egru_layer_equals_rnn_of_cell():
    layer = EGRU(U, return_sequences=True)
    layer.build((None, T, I))
    _randomize(layer.cell)
    ref, *_ = egru_sequence(_x(), *_weights(layer.cell))
    np.testing.assert_allclose(keras.ops.convert_to_numpy(layer(_x())), ref, atol=1e-6)


def _capture_dropout_masks(cell):
    """Record the masks the RNN layer used in a call (it resets them after the call)."""
    used = []
    reset = cell.reset_dropout_mask

    def record_and_reset():
        used.append((cell._dropout_mask, cell._recurrent_dropout_mask))
        reset()

    cell.reset_dropout_mask = record_and_reset
    return used


def test_dropout_masks_are_fixed_per_sequence_and_only_in_training():
    """Keras' RNN dropout: one mask per sequence (batch row), the same at every step, on the
    inputs and on the recurrent input y_{t-1}; values 0 or 1 / (1 - rate); off in inference."""
    layer = keras.layers.RNN(EGRUCell(U, dropout=0.5, recurrent_dropout=0.3, seed=3), return_sequences=True)
    layer.build((None, T, I))
    cell = layer.cell
    _randomize(cell)
    used = _capture_dropout_masks(cell)
    x = _x()
    params = [keras.ops.convert_to_numpy(w) for w in
              (cell.kernel, cell.recurrent_kernel, cell.bias, cell.threshold_param)]
    reference = lambda mx=None, my=None: ref.outputs(ref.forward(
        x, *params, ref.heaviside(np.zeros_like), input_mask=mx, recurrent_mask=my))[0]

    np.testing.assert_allclose(keras.ops.convert_to_numpy(layer(x)), reference(), atol=1e-6)
    outputs = [keras.ops.convert_to_numpy(layer(x, training=True)) for _ in range(2)]
    (mx1, my1), (mx2, my2) = [[keras.ops.convert_to_numpy(m) for m in pair] for pair in used[1:]]
    for m, rate, shape in ((mx1, 0.5, (B, I)), (my1, 0.3, (B, U))):
        assert m.shape == shape
        assert set(np.unique(m)) == {0.0, np.float32(1 / (1 - rate))}
    assert not np.array_equal(mx1, mx2), "a new mask for every call"
    np.testing.assert_allclose(outputs[0], reference(mx1, my1), atol=1e-6)
    np.testing.assert_allclose(outputs[1], reference(mx2, my2), atol=1e-6)


def _loss_and_grads(layer, x):
    cell = layer.cell
    variables = [cell.kernel, cell.recurrent_kernel, cell.bias, cell.threshold_param]
    return value_and_grads(lambda: keras.ops.sum(layer(x) ** 2), variables)


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
    # and the other units' gradients are the reference BPTT's (float32 here: 1e-4)
    params = [keras.ops.convert_to_numpy(w) for w in
              (cell.kernel, cell.recurrent_kernel, cell.bias, cell.threshold_param)]
    trace = ref.forward(x, *params, ref.heaviside(lambda v: np.maximum(0.0, 0.7 * (1.0 - np.abs(v)))))
    y, *_ = ref.outputs(trace)
    expected = ref.backward(trace, 2.0 * y)  # L = Σ y²
    for got, name in zip((g_kernel, g_recurrent, g_threshold),
                         ("kernel", "recurrent_kernel", "threshold_param")):
        scale = np.abs(expected[name]).max()
        assert scale > 0
        np.testing.assert_allclose(got, expected[name], rtol=1e-4, atol=1e-4 * scale, err_msg=name)


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

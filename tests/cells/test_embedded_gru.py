"""EmbeddedGRUCell: equations vs NumPy, the power-of-two code and its straight-through
gradient, the Keras RNN features (TF and JAX), save/load, errors."""

import os

import keras
import numpy as np
import pytest
from backend_utils import value_and_grads

from keras_events import EmbeddedGRUCell
from keras_events.cells.embedded_gru import power_of_two
from keras_events.ops import egru_emb

B, T, I, U = 3, 10, 5, 8


def _softsign(v):
    return v / (1 + np.abs(v))


def egru_sequence(x, kernel, recurrent_kernel, bias, h0=None):
    """The eGRU over a sequence, written from the paper's equations (Amoh & Odame 2019):
    z = (s(.) + 1) / 2, h~ = s(.), h_t = z h_{t-1} + (1 - z) h~; float64."""
    batch, steps, _ = x.shape
    units = recurrent_kernel.shape[0]
    h = np.zeros((batch, units)) if h0 is None else h0
    out = []
    for t in range(steps):
        a = x[:, t] @ kernel + h @ recurrent_kernel + bias
        z = (_softsign(a[:, :units]) + 1) / 2
        h = z * h + (1 - z) * _softsign(a[:, units:])
        out.append(h)
    return np.stack(out, 1)


def _numpy(t):
    return keras.ops.convert_to_numpy(t)


def _weights(cell):
    k, r = _numpy(cell.kernel), _numpy(cell.recurrent_kernel)
    if cell.quantize:
        k, r = egru_emb.power_of_two(k), egru_emb.power_of_two(r)
    return [k.astype(np.float64), r.astype(np.float64), _numpy(cell.bias).astype(np.float64)]


def _randomize(cell, seed=0):
    rng = np.random.default_rng(seed)
    cell.kernel.assign(rng.normal(0, 0.5, cell.kernel.shape))
    cell.recurrent_kernel.assign(rng.normal(0, 0.5, cell.recurrent_kernel.shape))
    cell.bias.assign(rng.normal(0, 0.3, cell.bias.shape))


def _x(seed=1, shape=(B, T, I)):
    return np.random.default_rng(seed).uniform(-1, 1, shape).astype("float32")


def _rnn(quantize=False, units=U, **kwargs):
    layer = keras.layers.RNN(EmbeddedGRUCell(units, quantize=quantize), **kwargs)
    layer.build((None, T, I))
    _randomize(layer.cell)
    return layer


@pytest.mark.parametrize("quantize", [False, True])
def test_sequence_matches_numpy_reference(quantize):
    layer = _rnn(quantize, return_sequences=True)
    x = _x()
    np.testing.assert_allclose(_numpy(layer(x)), egru_sequence(x, *_weights(layer.cell)),
                               atol=1e-5)


def test_quantized_weights_are_signed_powers_of_two_and_match_the_numpy_twin():
    w = np.random.default_rng(2).normal(0, 0.5, (40, 30)).astype("float32")
    w[0, :6] = [0.0, 3.0, -1.0, 2.0**-7, 0.75, -(2.0**-6.4)]
    q = _numpy(power_of_two(keras.ops.convert_to_tensor(w)))
    np.testing.assert_array_equal(q, egru_emb.power_of_two(w))
    np.testing.assert_array_equal(q[0, :6], [0.0, 1.0, -1.0, 0.0, 1.0, -(2.0**-6)])
    nonzero = np.abs(q[q != 0])
    assert set(np.unique(np.log2(nonzero))) <= set(range(-6, 1))
    inside = (q != 0) & (np.abs(w) <= 1)          # nearest exponent: within sqrt(2)
    ratio = np.abs(q[inside] / w[inside])
    assert ratio.min() >= 2**-0.5 - 1e-6 and ratio.max() <= 2**0.5 + 1e-6
    # the 4-bit code round-trips
    np.testing.assert_array_equal(egru_emb.decode(egru_emb.codes(w)), q)
    np.testing.assert_array_equal(egru_emb.unpack_codes(egru_emb.pack_codes(w), 40, 15),
                                  egru_emb.codes(w))


def test_straight_through_gradient_equals_the_gradient_at_the_quantized_weights():
    """QAT: d loss / d w (quantize=True) is the float cell's gradient evaluated at the
    quantized weights (the rounding passes the gradient through unchanged)."""
    x = _x()
    qat = _rnn(True, return_sequences=True)
    plain = _rnn(False, return_sequences=True)
    k, r, b = _weights(qat.cell)
    plain.cell.kernel.assign(k)
    plain.cell.recurrent_kernel.assign(r)
    loss = lambda layer: (lambda: keras.ops.sum(layer(x) ** 2))
    cells = (qat.cell, plain.cell)
    v_q, g_q = value_and_grads(loss(qat), [cells[0].kernel, cells[0].recurrent_kernel, cells[0].bias])
    v_p, g_p = value_and_grads(loss(plain), [cells[1].kernel, cells[1].recurrent_kernel, cells[1].bias])
    assert v_q == pytest.approx(v_p, rel=1e-5)
    for a, b_ in zip(g_q, g_p):
        assert np.abs(a).max() > 0
        np.testing.assert_allclose(a, b_, rtol=1e-4, atol=1e-6)


def test_return_state_go_backwards_and_unroll():
    x = _x()
    layer = _rnn(return_state=True)
    y, h = [_numpy(t) for t in layer(x)]
    ref = egru_sequence(x, *_weights(layer.cell))
    np.testing.assert_allclose(y, ref[:, -1], atol=1e-5)
    np.testing.assert_allclose(h, ref[:, -1], atol=1e-5)
    back = _rnn(return_sequences=True, go_backwards=True, unroll=True)
    np.testing.assert_allclose(_numpy(back(x)), egru_sequence(x[:, ::-1], *_weights(back.cell)),
                               atol=1e-5)


def test_stateful_two_halves_equal_whole():
    layer = keras.layers.RNN(EmbeddedGRUCell(U), return_sequences=True, stateful=True)
    layer.build((B, T, I))
    _randomize(layer.cell)
    x = _x()
    first = _numpy(layer(x[:, :T // 2]))
    second = _numpy(layer(x[:, T // 2:]))
    ref = egru_sequence(x, *_weights(layer.cell))
    np.testing.assert_allclose(np.concatenate([first, second], 1), ref, atol=1e-5)
    layer.reset_state()
    np.testing.assert_allclose(_numpy(layer(x[:, :T // 2])), first, atol=1e-6)


def test_masking_and_variable_length_input():
    x = _x()
    x[:, 7:] = 0.0
    inputs = keras.Input((None, I))                    # variable length
    rnn = keras.layers.RNN(EmbeddedGRUCell(U))
    model = keras.Model(inputs, rnn(keras.layers.Masking(0.0)(inputs)))
    _randomize(rnn.cell)
    ref = egru_sequence(x[:, :7], *_weights(rnn.cell))
    np.testing.assert_allclose(_numpy(model(x)), ref[:, -1], atol=1e-5)
    np.testing.assert_allclose(_numpy(model(x[:, :4])), ref[:, 3], atol=1e-5)


def test_stacked_cells_and_bidirectional():
    x = _x()
    cells = [EmbeddedGRUCell(U), EmbeddedGRUCell(4, quantize=True)]
    stacked = keras.layers.RNN(cells, return_sequences=True)
    stacked.build((None, T, I))
    for seed, cell in enumerate(cells):
        _randomize(cell, seed)
    first = egru_sequence(x, *_weights(cells[0]))
    np.testing.assert_allclose(_numpy(stacked(x)), egru_sequence(first, *_weights(cells[1])),
                               atol=1e-5)
    bi = keras.layers.Bidirectional(keras.layers.RNN(EmbeddedGRUCell(U), return_sequences=True))
    bi.build((None, T, I))
    _randomize(bi.forward_layer.cell, 3)
    _randomize(bi.backward_layer.cell, 4)
    fwd = egru_sequence(x, *_weights(bi.forward_layer.cell))
    bwd = egru_sequence(x[:, ::-1], *_weights(bi.backward_layer.cell))[:, ::-1]
    np.testing.assert_allclose(_numpy(bi(x)), np.concatenate([fwd, bwd], -1), atol=1e-5)


def test_dropout_only_in_training():
    layer = keras.layers.RNN(EmbeddedGRUCell(U, dropout=0.5, recurrent_dropout=0.3, seed=3),
                             return_sequences=True)
    layer.build((None, T, I))
    _randomize(layer.cell)
    x = _x()
    ref = egru_sequence(x, *_weights(layer.cell))
    np.testing.assert_allclose(_numpy(layer(x)), ref, atol=1e-5)
    assert np.abs(_numpy(layer(x, training=True)) - ref).max() > 1e-3


def _classifier(quantize=True):
    model = keras.Sequential([keras.Input((T, I)),
                              keras.layers.RNN(EmbeddedGRUCell(U, quantize=quantize)),
                              keras.layers.Dense(2)])
    _randomize(model.layers[0].cell)
    return model


def test_fit_with_jit_compile_and_a_dataset():
    x = _x(shape=(32, T, I))
    y = (x[:, :, 0].mean(1) > 0).astype("int32")
    model = _classifier()
    model.compile(keras.optimizers.Adam(0.01), keras.losses.SparseCategoricalCrossentropy(True),
                  jit_compile=True)
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        data = tf.data.Dataset.from_tensor_slices((x, y)).batch(8)
    else:
        data = (x, y)
    first = model.evaluate(x, y, verbose=0)
    model.fit(data, epochs=8, verbose=0) if not isinstance(data, tuple) else \
        model.fit(*data, batch_size=8, epochs=8, verbose=0)
    assert model.evaluate(x, y, verbose=0) < first


def test_mixed_precision():
    keras.config.set_dtype_policy("mixed_float16")
    try:
        layer = _rnn(True, return_sequences=True)
        x = _x()
        y = layer(x)
        assert keras.backend.standardize_dtype(y.dtype) == "float16"
        np.testing.assert_allclose(_numpy(y).astype(np.float64),
                                   egru_sequence(x, *_weights(layer.cell)), atol=2e-2)
    finally:
        keras.config.set_dtype_policy("float32")


def test_clone_and_keras_save_load_round_trip(tmp_path):
    model = _classifier()
    x = _x()
    clone = keras.models.clone_model(model)
    clone.set_weights(model.get_weights())
    np.testing.assert_allclose(_numpy(clone(x)), _numpy(model(x)), atol=1e-6)
    path = os.path.join(tmp_path, "m.keras")
    model.save(path)
    loaded = keras.saving.load_model(path)
    np.testing.assert_array_equal(_numpy(loaded(x)), _numpy(model(x)))
    assert loaded.layers[0].cell.get_config() == model.layers[0].cell.get_config()
    assert loaded.layers[0].cell.quantize is True


@pytest.mark.tensorflow_only
def test_savedmodel_export(tmp_path):
    import tensorflow as tf

    model = _classifier()
    x = _x()
    model.export(str(tmp_path / "saved"), verbose=False)
    served = tf.saved_model.load(str(tmp_path / "saved"))
    np.testing.assert_allclose(served.serve(x).numpy(), _numpy(model(x)), atol=1e-5)


def test_activity_report_counts_every_weight_every_step():
    from keras_events import activity_report

    model = _classifier()
    stats = activity_report(model, _x(), print_table=False)[model.layers[0].name]
    assert stats["event_rate"] == 1.0 and stats["backward_active"] == 1.0
    assert stats["dense_macs"] == stats["effective_macs"] == 2 * U * (I + U)


@pytest.mark.parametrize("kwargs, match", [
    ({"units": 0}, "units"), ({"units": 4, "quantize": "yes"}, "quantize"),
    ({"units": 4, "dropout": 1.0}, "dropout"), ({"units": 4, "recurrent_dropout": -0.1},
                                                 "recurrent_dropout")])
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        EmbeddedGRUCell(**kwargs)


def test_wrong_input_rank():
    with pytest.raises(ValueError, match="keras.layers.RNN"):
        EmbeddedGRUCell(4).build((2, 3, 4))

"""The recipe's fused-LSTM baseline (recipes/kws/lstm_cmsis.py): the trained Keras 3 LSTM's
weights survive the tf_keras rebuild, and the converter fuses it into one
UNIDIRECTIONAL_SEQUENCE_LSTM whose int8 outputs follow the Keras model."""
import numpy as np
import pytest


@pytest.fixture(scope="module")
def lstm_model():
    import keras

    from recipes.kws.models import build_lstm

    class Cfg:
        units = 8

    keras.utils.set_random_seed(0)
    return build_lstm(Cfg(), frames=12, mels=5, classes=3)


def test_tf_keras_clone_computes_the_same_function(lstm_model):
    from recipes.kws.lstm_cmsis import tf_keras_clone

    x = np.random.default_rng(1).standard_normal((1, 12, 5)).astype(np.float32)
    clone = tf_keras_clone(lstm_model)
    np.testing.assert_allclose(clone(x).numpy(), lstm_model(x).numpy(), atol=1e-5)


@pytest.mark.slow  # the converter: ~1-3 min
def test_export_is_one_fused_int8_lstm_that_follows_keras(lstm_model):
    from keras_events.micro import model_ops
    from recipes.kws.lstm_cmsis import FUSED_OP, export_int8, host_predict

    x = np.random.default_rng(2).standard_normal((40, 12, 5)).astype(np.float32)
    model_bytes = export_int8(lstm_model, x[:20])
    ops = model_ops.model_op_names(model_bytes)
    assert FUSED_OP in ops and "WHILE" not in ops
    probs = host_predict(model_bytes, x)
    np.testing.assert_allclose(probs, lstm_model.predict(x, verbose=0), atol=0.05)


@pytest.fixture(scope="module")
def long_memory_lstm():
    """An LSTM whose forget gates stay open (bias +6): a state left over from one clip
    would still be there at the end of the next one."""
    import keras

    from recipes.kws.models import build_lstm

    class Cfg:
        units = 8

    keras.utils.set_random_seed(3)
    model = build_lstm(Cfg(), frames=12, mels=5, classes=3)
    lstm = model.layers[0]
    kernel, recurrent, bias = lstm.get_weights()
    bias[Cfg.units:2 * Cfg.units] = 6.0  # gate order i, f, c, o
    lstm.set_weights([kernel, recurrent, bias])
    return model


def test_every_clip_starts_from_zero_state(long_memory_lstm):
    """The fused op keeps its state in variable tensors across invokes: clip k's outputs
    must not depend on clip k - 1 (with the leak the recipe reported 0.713 int8 vs 0.975
    Keras). The float ``.tflite`` is held to Keras tightly: no quantization in the way."""
    import tensorflow as tf

    from recipes.common.output import quiet_native
    from recipes.kws.lstm_cmsis import host_predict, tf_keras_clone

    rng = np.random.default_rng(4)
    x = rng.standard_normal((6, 12, 5)).astype(np.float32)
    x[::2] *= 3.0  # loud clips before quiet ones: a leaked cell state is large
    keras_probs = long_memory_lstm.predict(x, verbose=0)
    with quiet_native():
        float_bytes = tf.lite.TFLiteConverter.from_keras_model(
            tf_keras_clone(long_memory_lstm)).convert()
    np.testing.assert_allclose(host_predict(float_bytes, x), keras_probs, atol=1e-4)
    alone = np.concatenate([host_predict(float_bytes, clip[None]) for clip in x])
    np.testing.assert_array_equal(host_predict(float_bytes, x), alone)

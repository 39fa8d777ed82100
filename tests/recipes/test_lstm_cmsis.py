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
    from recipes.common.export import tflite_predict
    from recipes.kws.lstm_cmsis import FUSED_OP, export_int8

    x = np.random.default_rng(2).standard_normal((40, 12, 5)).astype(np.float32)
    model_bytes = export_int8(lstm_model, x[:20])
    ops = model_ops.model_op_names(model_bytes)
    assert FUSED_OP in ops and "WHILE" not in ops
    probs = tflite_predict(model_bytes, x, batch=1)
    np.testing.assert_allclose(probs, lstm_model.predict(x, verbose=0), atol=0.05)

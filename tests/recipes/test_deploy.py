"""recipes/kws/deploy.py: the streaming EGRU equals the whole-sequence model on the host
TFLM, and the derived Keras models keep the trained weights."""

import numpy as np
import pytest

from recipes.kws import deploy, train

pytestmark = pytest.mark.tensorflow_only
FRAMES, MELS, CLASSES = 98, 40, 12


@pytest.fixture(scope="module")
def egru_model():
    import keras

    keras.utils.set_random_seed(5)
    model = train.build_egru(train.Config(units=16), frames=FRAMES, mels=MELS, classes=CLASSES)
    # Spread the head's weights so the logits differ between clips (a real classifier).
    head = model.layers[-1]
    head.set_weights([np.random.default_rng(1).normal(0, 1.0, (16, CLASSES)).astype("float32"),
                      np.zeros(CLASSES, "float32")])
    return model


@pytest.fixture(scope="module")
def clips():
    rng = np.random.default_rng(2)
    # Standardised log-mel-like input: slowly varying noise.
    x = rng.normal(size=(12, FRAMES, MELS)).astype("float32")
    return (0.5 * x + 0.5 * np.cumsum(x, axis=1) / np.sqrt(np.arange(1, FRAMES + 1))[:, None]).astype("float32")


def test_derived_models_share_the_trained_weights(egru_model, clips):
    import keras

    logits = deploy.logits_model(egru_model).predict(clips[:4], verbose=0)
    probs = egru_model.predict(clips[:4], verbose=0)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(keras.ops.softmax(logits)), probs,
                               rtol=1e-4, atol=1e-5)
    stream = deploy.streaming_model(egru_model)
    assert tuple(stream.inputs[0].shape) == (1, 1, MELS)
    for a, b in zip(stream.get_layer("egru").get_weights(), egru_model.get_layer("egru").get_weights()):
        np.testing.assert_array_equal(a, b)


def test_streaming_equals_whole_sequence_on_host_tflm(egru_model, clips):
    whole = deploy.export_egru(egru_model, clips)
    stream = deploy.export_stream(egru_model, clips[:4])
    keras_logits = deploy.logits_model(egru_model).predict(clips[:6], verbose=0)
    check = deploy.streaming_check(stream, whole, keras_logits, clips[:6])
    # mean_t(Dense(y_t)) == Dense(mean_t(y_t)): same decision, equal up to int8 rounding.
    assert check["argmax_equal_int8"] == 1.0 and check["argmax_equal_float"] == 1.0
    assert check["max_abs_diff_int8"] <= 0.05 * check["logit_range"]
    assert check["max_abs_diff_float"] <= 0.05 * check["logit_range"]
    assert check["arena_used_bytes"] > 0

    host = deploy.egru_host_run(whole, clips)
    assert host["events"].shape == (len(clips), FRAMES, 16)
    assert 0.0 < host["event_rate"] < 1.0
    assert 0 < host["macs_per_frame"] <= 3 * 16 * (MELS + 16)


def test_quantize_round_trip_and_bad_bytes():
    details = {"quantization": (0.05, -3)}
    x = np.linspace(-8, 8, 81)
    q = deploy.quantize(x, details)
    assert q.dtype == np.int8 and q.min() == -128 and q.max() == 127  # saturates
    inside = (q > -128) & (q < 127)
    assert np.abs(deploy.dequantize(q, details)[inside] - x[inside]).max() <= 0.025 + 1e-6
    with pytest.raises(ValueError, match="model_bytes"):
        deploy.tflite_predict(b"", x)

"""recipes/common/export.py: the derived Keras models keep the trained weights, the
streaming model equals the whole-sequence model on the host TFLM, and the host run's
events and MAC count agree with references computed here."""

import numpy as np
import pytest

from recipes.common import export

pytestmark = pytest.mark.tensorflow_only
FRAMES, FEATURES, UNITS, CLASSES = 98, 40, 16, 12


@pytest.fixture(scope="module")
def event_model():
    """Input -> EGRU (all steps) -> mean over time -> Dense(softmax): the recipes' shape."""
    import keras
    from keras_events import EGRU

    keras.utils.set_random_seed(5)
    model = keras.Sequential([
        keras.Input((FRAMES, FEATURES)),
        # threshold 0.3 (the default before issue 16): this untrained layer at 0.1 fires
        # at most steps, and int8 streaming and whole-sequence argmax differ on 1 of 6 clips
        EGRU(UNITS, return_sequences=True, seed=0, name="egru", threshold_init=0.3),
        keras.layers.GlobalAveragePooling1D(),
        keras.layers.Dense(CLASSES, activation="softmax"),
    ])
    # Spread the head's weights so the logits differ between clips (a real classifier).
    head = model.layers[-1]
    head.set_weights([np.random.default_rng(1).normal(0, 1.0, (UNITS, CLASSES)).astype("float32"),
                      np.zeros(CLASSES, "float32")])
    return model


@pytest.fixture(scope="module")
def clips():
    rng = np.random.default_rng(2)
    # Standardised log-mel-like input: slowly varying noise.
    x = rng.normal(size=(12, FRAMES, FEATURES)).astype("float32")
    return (0.5 * x + 0.5 * np.cumsum(x, axis=1) / np.sqrt(np.arange(1, FRAMES + 1))[:, None]).astype("float32")


def test_derived_models_share_the_trained_weights(event_model, clips):
    import keras

    logits = export.logits_model(event_model).predict(clips[:4], verbose=0)
    probs = event_model.predict(clips[:4], verbose=0)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(keras.ops.softmax(logits)), probs,
                               rtol=1e-4, atol=1e-5)
    stream = export.streaming_model(event_model)
    assert tuple(stream.inputs[0].shape) == (1, 1, FEATURES)
    for a, b in zip(stream.get_layer("egru").get_weights(), event_model.get_layer("egru").get_weights()):
        np.testing.assert_array_equal(a, b)


def test_streaming_equals_whole_sequence_on_host_tflm(event_model, clips):
    import keras

    whole = export.export_event(event_model, clips)
    stream = export.export_stream(event_model, clips[:4])
    keras_logits = export.logits_model(event_model).predict(clips[:6], verbose=0)
    check = export.streaming_check(stream, whole, keras_logits, clips[:6])
    # mean_t(Dense(y_t)) == Dense(mean_t(y_t)): same decision, equal up to int8 rounding.
    assert check["argmax_equal_int8"] == 1.0 and check["argmax_equal_float"] == 1.0
    assert check["max_abs_diff_int8"] <= 0.05 * check["logit_range"]
    assert check["max_abs_diff_float"] <= 0.05 * check["logit_range"]
    assert check["arena_used_bytes"] > 0

    host = export.event_host_run(whole, clips)
    assert host["events"].shape == (len(clips), FRAMES, UNITS)
    # Reference events: the float model's y != 0; int8 rounding flips a few near θ.
    probe = keras.Model(event_model.inputs, event_model.get_layer("egru").output)
    float_events = np.asarray(probe.predict(clips, verbose=0)) != 0
    assert np.mean(host["events"] == float_events) >= 0.95
    assert host["event_rate"] == pytest.approx(float_events.mean(), abs=0.03)


def test_host_run_counts_the_macs_of_active_inputs_and_units(clips):
    """Reference: the kernel executes the stored weights (all 3U per row here) of every
    input that is not at its zero point, plus those of every unit that fired the frame
    before."""
    import keras
    from keras_events import EGRU
    from keras_events.export import Interpreter

    model = keras.Sequential([keras.Input((FRAMES, FEATURES)),
                              EGRU(UNITS, return_sequences=True, seed=0, name="egru"),
                              keras.layers.GlobalAveragePooling1D(), keras.layers.Dense(CLASSES)])
    # Every weight 0.05-0.1 in magnitude: within 2x of its column's largest, so none
    # rounds to 0 in per-channel int8 and every row is stored whole.
    rng = np.random.default_rng(3)
    cell = model.get_layer("egru").cell
    for w in (cell.kernel, cell.recurrent_kernel):
        w.assign((rng.uniform(0.05, 0.1, w.shape) * rng.choice([-1.0, 1.0], w.shape)).astype("float32"))
    whole = export.export_event(model, clips)
    host = export.event_host_run(whole, clips)
    assert 0.02 < host["event_rate"] < 0.98  # both kinds of MACs occur
    details = Interpreter(model_content=whole).get_input_details()[0]
    active_inputs = np.sum(export.quantize(clips, details) != details["quantization"][1])
    fired_before = host["events"][:, :-1].sum()
    expected = 3 * UNITS * (active_inputs + fired_before) / (len(clips) * FRAMES)
    assert host["macs_per_frame"] == pytest.approx(expected, rel=1e-12)


def test_quantize_round_trip_and_bad_bytes():
    details = {"quantization": (0.05, -3)}
    x = np.linspace(-8, 8, 81)
    q = export.quantize(x, details)
    assert q.dtype == np.int8 and q.min() == -128 and q.max() == 127  # saturates
    inside = (q > -128) & (q < 127)
    assert np.abs(export.dequantize(q, details)[inside] - x[inside]).max() <= 0.025 + 1e-6
    with pytest.raises(ValueError, match="model_bytes"):
        export.tflite_predict(b"", x)


def test_a_model_without_an_event_layer_is_a_clear_error():
    import keras

    model = keras.Sequential([keras.Input((3, 2)), keras.layers.GRU(4), keras.layers.Dense(2)])
    with pytest.raises(ValueError, match="exactly one event layer, found 0"):
        export.logits_model(model)

"""DS-CNN-S baseline: MFCC features, the MLPerf Tiny topology, int8 export on host TFLM."""

import numpy as np
import pytest

from recipes.kws import dscnn


def test_mfcc_is_the_orthonormal_dct_of_every_other_frame():
    from scipy.fft import dct

    x = np.random.default_rng(0).standard_normal((2, 98, 40)).astype(np.float32)
    expected = dct(x[:, ::2][:, :49], type=2, norm="ortho", axis=-1)[..., :10]
    assert np.allclose(dscnn.mfcc(x), expected, atol=1e-5)
    with pytest.raises(ValueError, match="frames"):
        dscnn.mfcc(x[:, :50])


def test_topology_is_ds_cnn_s():
    model = dscnn.build_dscnn(None, classes=12)
    assert model.input_shape == (None, 49, 10, 1) and model.output_shape == (None, 12)
    # MLPerf Tiny DS-CNN-S: 23,756 trainable parameters
    assert sum(int(np.prod(w.shape)) for w in model.trainable_weights) == 23756


@pytest.mark.tensorflow_only
def test_int8_export_runs_on_host_tflm():
    from keras_events import micro
    from recipes.common.export import quantize, tflite_predict

    rng = np.random.default_rng(1)
    model = dscnn.build_dscnn(None, classes=12)
    x = rng.standard_normal((16, 49, 10, 1)).astype(np.float32)
    tflite = dscnn.export_int8(model, x)
    interp = micro.Interpreter(bytes(tflite), arena_size=256 * 1024)
    details = interp.get_input_details()[0]
    assert details["dtype"] == np.int8
    interp.close()
    host = micro.run(bytes(tflite), quantize(x[:4], details), board="host",
                     arena_size=256 * 1024)
    tfl = tflite_predict(tflite, x[:4], batch=1)
    out = np.stack([o[0] for o in host.outputs]).reshape(4, -1)
    assert out.shape == (4, 12)
    # TFLM (reference kernels on the host) and TFLite agree on the class.
    assert np.array_equal(out.argmax(-1), tfl.argmax(-1))


def test_cli_selects_front_end_and_models():
    from recipes.kws import config
    from recipes.kws.__main__ import parse_args

    cfg = parse_args(["--frontend", "q15", "--models", "gru,egru,dscnn"])
    assert (cfg.frontend, cfg.models) == ("q15", ("gru", "egru", "dscnn"))
    assert parse_args([]).frontend == "float" and parse_args([]).models == ("gru", "egru")
    with pytest.raises(ValueError, match="--frontend must be one of float, q15"):
        config.Config(frontend="q16")
    with pytest.raises(ValueError, match="unknown"):
        config.Config(models=("gru", "cnn"))

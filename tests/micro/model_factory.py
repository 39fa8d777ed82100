"""Small .tflite models for the micro tests, generated with the TF converter.

Run as a script in a subprocess (``python model_factory.py NAME OUT_DIR``) so test
processes (possibly under AddressSanitizer) never import TensorFlow; conftest.py caches the
result by this file's hash.
"""
import os
import pathlib
import sys

import numpy as np


def fc_int8(out: pathlib.Path) -> None:
    """QUANTIZE-free int8 graph: FULLY_CONNECTED(relu) -> FULLY_CONNECTED -> SOFTMAX,
    int8 input and output (full-integer post-training quantization)."""
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    model = keras.Sequential([keras.Input((16,)), keras.layers.Dense(32, activation="relu"),
                              keras.layers.Dense(8), keras.layers.Softmax()])

    def representative():
        for _ in range(64):
            yield [rng.standard_normal((1, 16)).astype(np.float32)]

    conv = tf.lite.TFLiteConverter.from_keras_model(model)
    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    conv.representative_dataset = representative
    conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    conv.inference_input_type = tf.int8
    conv.inference_output_type = tf.int8
    tflite = conv.convert()
    x = rng.integers(-128, 128, (6, 1, 16)).astype(np.int8)
    (out / "model.tflite").write_bytes(tflite)
    np.save(out / "x.npy", x)
    np.save(out / "y_tflite.npy", _tflite_outputs(tflite, x))


def _tflite_outputs(tflite: bytes, x: np.ndarray) -> np.ndarray:
    """The standard TFLite interpreter's outputs, one invoke per row of ``x``."""
    import tensorflow as tf
    interp = tf.lite.Interpreter(model_content=tflite)
    interp.allocate_tensors()
    i, o = interp.get_input_details()[0]["index"], interp.get_output_details()[0]["index"]
    ys = []
    for row in x:
        interp.set_tensor(i, row)
        interp.invoke()
        ys.append(interp.get_tensor(o))
    return np.stack(ys)


MODELS = {"fc_int8": fc_int8}

if __name__ == "__main__":
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    name, out_dir = sys.argv[1], pathlib.Path(sys.argv[2])
    out_dir.mkdir(parents=True, exist_ok=True)
    MODELS[name](out_dir)

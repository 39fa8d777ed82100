"""Full-integer int8 conversion of a builtin-op Keras model with the standard converter.

The baseline a user deploys today (e.g. ``keras.layers.GRU(unroll=True)``, the only GRU
form that converts to int8 in TF 2.21): post-training quantization from representative
data, int8 builtin ops only, int8 input and output. Used by the benchmarks and the
keyword-spotting recipe to compare the event kernels against it.
"""

import numpy as np


def builtin_int8_tflite(model, representative_data):
    """``.tflite`` bytes of ``model`` quantized to int8 by the TFLite converter.

    ``representative_data``: array of input samples ``[n, ...]`` without a batch axis per
    sample (each is fed as a batch of one).
    """
    import tensorflow as tf

    samples = np.asarray(representative_data, np.float32)
    if samples.ndim < 2 or len(samples) == 0:
        raise ValueError("representative_data must be a non-empty array of input samples "
                         f"[n, ...], got shape {samples.shape}.")
    converter = tf.lite.TFLiteConverter.from_keras_model(model)

    def dataset():
        for x in samples:
            yield [x[None]]

    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = dataset
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = tf.int8
    converter.inference_output_type = tf.int8
    return converter.convert()

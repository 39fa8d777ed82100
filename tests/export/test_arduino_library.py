"""to_arduino_library: layout, and the library + example compile for Cortex-M4."""

import concurrent.futures
import os
import pathlib
import subprocess

import keras
import numpy as np
import pytest

from keras_events import EGRUCell
from keras_events._native.flags import M4_ARCH, M4_OPT
from keras_events._native.paths import tflm_dir
from keras_events.export.arduino import to_arduino_library

TREE = tflm_dir() / "cmsis_nn"
M4 = [*M4_ARCH, *M4_OPT, "-DTF_LITE_STATIC_MEMORY", "-DCMSIS_NN", "-DTF_LITE_MCU_DEBUG_LOG",
      "-funsigned-char", "-Wall", "-Werror=return-type"]
INCLUDES = [TREE, TREE / "third_party/gemmlowp", TREE / "third_party/flatbuffers/include",
            TREE / "third_party/ruy", TREE / "third_party/kissfft"]
LABELS = ["yes", "no", "_silence_", "_unknown_"]


@pytest.fixture(scope="module")
def streaming_tflite():
    import tensorflow as tf

    from keras_events import export

    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input(batch_shape=(1, 1, 40)),
                              keras.layers.RNN(EGRUCell(16)),  # one frame per invoke: [1, U]
                              keras.layers.Dense(len(LABELS))])
    frames = np.random.default_rng(0).normal(size=(64, 1, 40)).astype("float32")
    return export.to_tflite(model, quantize="int8", representative_data=frames,
                            inference_input_type=tf.int8, inference_output_type=tf.int8)


def test_library_layout(tmp_path, streaming_tflite):
    lib = to_arduino_library(streaming_tflite, tmp_path / "kws_egru", labels=LABELS,
                             feature_mean=-3.0, feature_std=2.5, arena_size=32768)
    props = dict(line.split("=", 1) for line in (lib / "library.properties").read_text().splitlines())
    assert props["name"] == "kws_egru" and props["includes"] == "kws_egru.h"
    assert props["depends"] == "Arduino_TensorFlowLite"
    for path in ["src/kws_egru.h", "src/kws_egru_model.cc", "src/custom_ops/core/ke_egru.c",
                 "src/custom_ops/core/ke_logmel.c", "src/custom_ops/tflm/ke_op.cc",
                 "src/custom_ops/core/ke_egru_op.c", "src/custom_ops/ops.def",
                 "src/ke_streaming_classifier.cc", "examples/kws_egru/kws_egru.ino"]:
        assert (lib / path).is_file(), path
    model_cc = (lib / "src/kws_egru_model.cc").read_text()
    assert 'AddCustom("KE_EGRU"' in model_cc and "AddFullyConnected" in model_cc
    assert "#define KWS_EGRU_ARENA_SIZE 32768" in (lib / "src/kws_egru.h").read_text()


def test_library_and_example_compile_for_cortex_m4(tmp_path, streaming_tflite):
    from prereq import require_tools
    require_tools("arm-none-eabi-g++", fix="make install-apt")
    lib = to_arduino_library(streaming_tflite, tmp_path / "kws_egru", labels=LABELS, arena_size=32768)
    includes = [f"-I{p}" for p in [lib / "src", pathlib.Path(__file__).parent / "arduino_stub", *INCLUDES]]
    sketch = tmp_path / "sketch.cc"
    sketch.write_text('#include <Arduino.h>\n' + (lib / "examples/kws_egru/kws_egru.ino").read_text())
    sources = sorted(lib.glob("src/**/*.c")) + sorted(lib.glob("src/**/*.cc")) + [sketch]

    def compile_one(source):
        compiler = ["arm-none-eabi-gcc", "-std=c99"] if source.suffix == ".c" else \
            ["arm-none-eabi-g++", "-std=c++17", "-fno-rtti", "-fno-exceptions", "-fno-threadsafe-statics"]
        return source, subprocess.run([*compiler, *M4, *includes, "-c", str(source),
                                       "-o", str(tmp_path / (source.name + ".o"))], capture_output=True, text=True)

    with concurrent.futures.ThreadPoolExecutor(os.cpu_count() or 2) as pool:
        for source, result in pool.map(compile_one, sources):
            assert result.returncode == 0, f"{source.name}:\n{result.stderr[-3000:]}"


def test_bad_arguments(tmp_path, streaming_tflite):
    with pytest.raises(ValueError, match="tflite_bytes"):
        to_arduino_library(b"not a model", tmp_path / "x", labels=LABELS)
    with pytest.raises(ValueError, match="name"):
        to_arduino_library(streaming_tflite, tmp_path / "bad-name", labels=LABELS)
    with pytest.raises(ValueError, match="labels"):
        to_arduino_library(streaming_tflite, tmp_path / "x", labels=[])

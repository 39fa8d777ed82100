"""Malformed KE_EGRU_EMB models: Prepare fails with a message naming the input, Python
raises, nothing crashes."""

import keras
import numpy as np
import pytest

from keras_events import EmbeddedGRUCell, tflite_file
from keras_events.export import Interpreter, to_tflite

pytestmark = pytest.mark.tensorflow_only

T, I, U = 5, 3, 6


@pytest.fixture(scope="module")
def models():
    model = keras.Sequential([keras.Input((T, I)), keras.layers.RNN(
        EmbeddedGRUCell(U, quantize=True), return_sequences=True)])
    x = np.random.default_rng(0).uniform(-1, 1, (8, T, I)).astype(np.float32)
    return {"float": to_tflite(model), "int8": to_tflite(model, quantize="int8",
                                                         representative_data=x)}


def _mutate(tflite_bytes, tensor_index, array):
    """Replaces the op's input `tensor_index` by `array` (own buffer, shape and type)."""
    schema = tflite_file.schema()
    model = tflite_file.load(tflite_bytes)
    g = model.subgraphs[0]
    op = [o for o in g.operators
          if model.operatorCodes[o.opcodeIndex].customCode == b"KE_EGRU_EMB"][0]
    types = {np.dtype(np.int8): schema.TensorType.INT8, np.dtype(np.int32): schema.TensorType.INT32,
             np.dtype(np.float32): schema.TensorType.FLOAT32}
    tensor = g.tensors[op.inputs[tensor_index]]
    buf = schema.BufferT()
    buf.data = np.frombuffer(np.ascontiguousarray(array).tobytes(), np.uint8)
    model.buffers.append(buf)
    tensor.buffer = len(model.buffers) - 1
    tensor.shape = np.asarray(array.shape, np.int32)
    tensor.shapeSignature = None
    tensor.type = types[array.dtype]
    return tflite_file.dump(model)


@pytest.mark.parametrize("kind, index, array, message", [
    ("int8", 1, np.zeros((2 * U, 1), np.int8), "w_codes"),              # wrong byte count
    ("int8", 2, np.zeros((2 * U, U // 2), np.int32), "u_codes"),        # wrong type
    ("int8", 3, np.full(2 * U, 2**30, np.int32), "bias"),               # beyond +-2^29
    ("float", 1, np.zeros((I, U), np.float32), "kernel"),               # wrong shape
    ("float", 3, np.zeros((2, 2 * U), np.float32), "bias"),             # wrong rank
])
def test_malformed_inputs_fail_in_prepare_with_the_input_named(models, kind, index, array,
                                                               message):
    bad = _mutate(models[kind], index, array)
    with pytest.raises(Exception, match=message):
        interpreter = Interpreter(model_content=bad)
        interpreter.allocate_tensors()


def _with_version(tflite_bytes, version):
    """The model with the op's `version` option rewritten (a file of another op version)."""
    from flatbuffers import flexbuffers

    model = tflite_file.load(tflite_bytes)
    for op in model.subgraphs[0].operators:
        if model.operatorCodes[op.opcodeIndex].customCode == b"KE_EGRU_EMB":
            options = tflite_file.custom_options(op)
            options["version"] = version
            op.customOptions = np.frombuffer(flexbuffers.Dumps(options), np.uint8)
    return tflite_file.dump(model)


@pytest.mark.parametrize("version", [1, 3])
def test_a_file_of_another_op_version_fails_in_prepare_asking_for_a_re_export(models, version):
    """Version 2 changed the shift codes' layout: a version-1 file must not run (its codes
    would be read in the new layout), nor one from a newer keras-events."""
    from keras_events.ops import egru_emb

    assert egru_emb.VERSION == 2
    for kind in ("int8", "float"):
        with pytest.raises(Exception, match=rf"version {version} of this op; this build runs "
                                            rf"version 2.*Re-export the model"):
            interpreter = Interpreter(model_content=_with_version(models[kind], version))
            interpreter.allocate_tensors()
    interpreter = Interpreter(model_content=_with_version(models["int8"], 2))  # unchanged: runs
    interpreter.allocate_tensors()
    interpreter.invoke()

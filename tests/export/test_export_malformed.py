"""Malformed KE_EGRU models: Prepare fails with a message, Python raises, nothing crashes.

(The same checks run under ASan/UBSan on the C++ glue in `make test-sanitize-custom-ops`.)
"""

import numpy as np
import pytest
from export_helpers import egru_model

from keras_events import tflite_file
from keras_events.export import Interpreter, to_tflite

pytestmark = pytest.mark.tensorflow_only

U = 6


@pytest.fixture(scope="module")
def models():
    model = egru_model(5, 3, U, return_sequences=True, sparsity=0.3)
    x = np.random.default_rng(0).normal(0, 1, (8, 5, 3)).astype(np.float32)
    return {"float": to_tflite(model), "int8": to_tflite(model, quantize="int8", representative_data=x)}


def _mutate(tflite_bytes, change):
    model = tflite_file.load(tflite_bytes)
    g = model.subgraphs[0]
    op = [o for o in g.operators if model.operatorCodes[o.opcodeIndex].customCode == b"KE_EGRU"][0]
    change(model, g, op)
    return tflite_file.dump(model)


def _set_data(model, tensor, array):
    """Gives `tensor` new contents (its own buffer), shape and type."""
    schema = tflite_file.schema()
    types = {np.dtype(np.int8): schema.TensorType.INT8, np.dtype(np.int16): schema.TensorType.INT16,
             np.dtype(np.int32): schema.TensorType.INT32, np.dtype(np.float32): schema.TensorType.FLOAT32}
    buf = schema.BufferT()
    buf.data = np.frombuffer(np.ascontiguousarray(array).tobytes(), np.uint8)
    model.buffers.append(buf)
    tensor.buffer = len(model.buffers) - 1
    tensor.shape = np.asarray(array.shape, np.int32)
    tensor.shapeSignature = None
    tensor.type = types[array.dtype]


def _data(model, g, op, i, dtype):
    return np.frombuffer(bytes(model.buffers[g.tensors[op.inputs[i]].buffer].data), dtype).copy()


def _edit_input(i, dtype, edit):
    def change(model, g, op):
        _set_data(model, g.tensors[op.inputs[i]], edit(_data(model, g, op, i, dtype)))
    return change


def _options(**options):
    from flatbuffers import flexbuffers

    def change(model, g, op):
        op.customOptions = np.frombuffer(flexbuffers.Dumps(options), np.uint8) if options else None
    return change


def _decreasing(offsets):
    offsets[1], offsets[2] = offsets[2] + 1, offsets[1]
    return offsets


def _drop_last_input(model, g, op):
    op.inputs = op.inputs[:-1]


def _x_rank2(model, g, op):
    g.tensors[op.inputs[0]].shape = np.asarray([1, 15], np.int32)
    g.tensors[op.inputs[0]].shapeSignature = None


def _tiny_output_scale(model, g, op):
    g.tensors[op.outputs[0]].quantization.scale = np.asarray([1e-12], np.float32)


CASES = {
    "index type int32": ("float", _edit_input(2, np.int16, lambda a: a.astype(np.int32)), "type"),
    "values type int8 in float model": ("float", _edit_input(1, np.float32, lambda a: a.astype(np.int8)), "type"),
    "missing options": ("float", _options(), "options"),
    "options without units": ("float", _options(return_sequences=True), "units"),
    "units mismatch": ("float", _options(units=U + 1, return_sequences=True), "KE_EGRU"),
    "decreasing offsets": ("float", _edit_input(3, np.int32, _decreasing), "offsets"),
    "offsets too short": ("float", _edit_input(3, np.int32, lambda a: a[:-1]), "w_offsets"),
    "index out of range": ("float", _edit_input(2, np.int16, lambda a: np.full_like(a, 3 * U)), "index"),
    "bias shape": ("float", _edit_input(7, np.float32, lambda a: a[: 3 * U]), "bias"),
    "threshold int16 in float model": ("float", _edit_input(8, np.float32, lambda a: a.astype(np.int16)), "threshold"),
    "input count": ("float", _drop_last_input, "inputs"),
    "x rank 2": ("float", _x_rank2, "rank"),
    "int8 negative scale": ("int8", _edit_input(9, np.float32, lambda a: -a), "scale"),
    "int8 missing scale input": ("int8", _drop_last_input, "inputs"),
    "int8 bias too large": ("int8", _edit_input(7, np.int32, lambda a: np.full_like(a, 2**31 - 1)), "bias"),
    "int8 tiny output scale": ("int8", _tiny_output_scale, "output scale"),
    "int8 zero threshold": ("int8", _edit_input(8, np.int16, lambda a: np.zeros_like(a)), "threshold"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_malformed_model_raises(models, case):
    kind, change, message = CASES[case]
    broken = _mutate(models[kind], change)
    # ValueError (a bad argument), and before invoke: Prepare (or the structure check) rejects it.
    with pytest.raises(ValueError, match=message):
        Interpreter(model_content=broken).allocate_tensors()


def test_allocate_failure_is_a_value_error_naming_the_op(models):
    broken = _mutate(models["int8"], _tiny_output_scale)
    interpreter = Interpreter(model_content=broken)
    with pytest.raises(ValueError, match="allocate_tensors.*KE_EGRU") as e:
        interpreter.allocate_tensors()
    assert not isinstance(e.value, RuntimeError)


def test_unmodified_models_run(models):
    for kind in ("float", "int8"):
        interpreter = Interpreter(model_content=models[kind])
        interpreter.allocate_tensors()
        interpreter.invoke()

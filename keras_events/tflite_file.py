"""The project's one reader (and writer) of `.tflite` flatbuffers.

Every module that looks into a `.tflite` model goes through here: the export's int8 pass
(`export/quantize.py`, object API: `load` / `dump`), the model summary, the micro tools'
op lists (`op_names`). The flatbuffer classes are TensorFlow's generated schema module
(``tensorflow/lite/python/schema_py_generated.py``), loaded straight from the installed
wheel's file: importing TensorFlow itself takes ~8 s, and `keras_events.micro` (host TFLM,
firmware builds, sanitizer runs) must not do it. The schema module needs only the
`flatbuffers` package.
"""
from __future__ import annotations

import functools
import math
import importlib.util
import pathlib

FILE_IDENTIFIER = b"TFL3"


@functools.lru_cache(maxsize=1)
def schema():
    """The ``schema_py_generated`` module of the installed TensorFlow wheel (not imported
    through ``tensorflow``, so TensorFlow stays unloaded)."""
    spec = importlib.util.find_spec("tensorflow")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("reading .tflite models needs the tensorflow wheel installed "
                          "(for tensorflow/lite/python/schema_py_generated.py)")
    path = pathlib.Path(spec.submodule_search_locations[0]) / "lite/python/schema_py_generated.py"
    mod_spec = importlib.util.spec_from_file_location("_ke_tflite_schema", path)
    module = importlib.util.module_from_spec(mod_spec)
    mod_spec.loader.exec_module(module)
    return module


def check_identifier(tflite_bytes, argument="model"):
    """Raises a ValueError naming `argument` unless `tflite_bytes` is a `.tflite` flatbuffer."""
    data = tflite_bytes if isinstance(tflite_bytes, (bytes, bytearray, memoryview)) else None
    if data is None or len(data) < 8 or bytes(data[4:8]) != FILE_IDENTIFIER:
        raise ValueError(f"{argument} is not a .tflite flatbuffer (no 'TFL3' identifier); pass "
                         f"the bytes of a .tflite model.")


def load(tflite_bytes):
    """The model as a mutable schema object (``ModelT``: subgraphs, tensors, buffers...)."""
    check_identifier(tflite_bytes)
    s = schema()
    return s.ModelT.InitFromObj(s.Model.GetRootAs(bytearray(tflite_bytes), 0))


def dump(model):
    """``ModelT`` -> `.tflite` bytes (the inverse of `load`)."""
    import flatbuffers

    builder = flatbuffers.Builder(1024)
    builder.Finish(model.Pack(builder), file_identifier=FILE_IDENTIFIER)
    return bytes(builder.Output())


def builtin_code(op_code):
    """The builtin operator number of an ``OperatorCode(T)``: the int32 ``builtin_code``
    superseded the int8 ``deprecated_builtin_code``; writers fill one or both."""
    if hasattr(op_code, "BuiltinCode"):  # reader class (raw API)
        return max(op_code.BuiltinCode(), op_code.DeprecatedBuiltinCode())
    return max(op_code.builtinCode, op_code.deprecatedBuiltinCode)


@functools.lru_cache(maxsize=1)
def _builtin_names():
    return {v: k for k, v in vars(schema().BuiltinOperator).items() if not k.startswith("_")}


def builtin_name(code):
    """``9`` -> ``"FULLY_CONNECTED"`` (``BUILTIN_<n>`` for numbers this schema predates)."""
    return _builtin_names().get(code, f"BUILTIN_{code}")


def op_name(op_code):
    """Custom code (``str``) of a custom operator, else the builtin name."""
    custom = op_code.CustomCode() if hasattr(op_code, "CustomCode") else op_code.customCode
    if builtin_code(op_code) == schema().BuiltinOperator.CUSTOM and custom:
        return custom.decode() if isinstance(custom, bytes) else str(custom)
    return builtin_name(builtin_code(op_code))


def tensor_type_name(tensor_type):
    """``TensorType`` number -> lower-case name (``9`` -> ``"int8"``)."""
    names = {v: k.lower() for k, v in vars(schema().TensorType).items() if not k.startswith("_")}
    return names.get(tensor_type, "?")


def op_names(tflite_bytes) -> list[str]:
    """Sorted names of the operators the model's subgraphs use: builtin names
    (``FULLY_CONNECTED``) and custom codes. Reads only the op-code table (no unpacking)."""
    check_identifier(tflite_bytes)
    s = schema()
    m = s.Model.GetRootAs(bytes(tflite_bytes), 0)
    used = {sg.Operators(j).OpcodeIndex()
            for sg in (m.Subgraphs(i) for i in range(m.SubgraphsLength()))
            for j in range(sg.OperatorsLength())}
    names = set()
    for i in sorted(used):  # the code table may list ops no operator uses (converter leftovers)
        if i >= m.OperatorCodesLength():
            raise ValueError(f"model is malformed: an operator uses op code {i} of "
                             f"{m.OperatorCodesLength()}")
        names.add(op_name(m.OperatorCodes(i)))
    return sorted(names)


def custom_options(operator):
    """The flexbuffer map of a custom ``OperatorT`` as a dict ({} when it has none)."""
    from flatbuffers import flexbuffers

    if operator.customOptions is None or len(operator.customOptions) == 0:
        return {}
    return flexbuffers.Loads(bytes(operator.customOptions))


def _type_sizes():
    t = schema().TensorType
    sizes = {"FLOAT32": 4, "FLOAT16": 2, "INT32": 4, "UINT8": 1, "INT64": 8, "BOOL": 1,
             "INT16": 2, "INT8": 1, "FLOAT64": 8, "UINT64": 8, "UINT32": 4, "UINT16": 2,
             "BFLOAT16": 2}
    return {getattr(t, k): v for k, v in sizes.items() if hasattr(t, k)}


# Inputs a builtin op may leave out (tensor index -1): the bias of the convolution-like ops;
# the recurrent ops (LSTM, RNN, SVDF families) have many optional inputs after the first.
_OPTIONAL_BIAS = {"FULLY_CONNECTED": 2, "CONV_2D": 2, "DEPTHWISE_CONV_2D": 2,
                  "TRANSPOSE_CONV": 3, "CONV_3D": 2}


def _optional_inputs(op_code):
    name = op_name(op_code)
    if name in _OPTIONAL_BIAS:
        return {_OPTIONAL_BIAS[name]}
    if builtin_code(op_code) == schema().BuiltinOperator.CUSTOM or any(
            family in name for family in ("LSTM", "RNN", "SVDF")):
        return set(range(1, 64))  # the op checks its own inputs
    return set()


def check_structure(tflite_bytes, argument="model_content"):
    """Raises a ValueError naming `argument` when a model's indices or sizes lie.

    A flatbuffer can be valid while its contents are not (one corrupted byte suffices):
    checked here, before an interpreter follows them, are every operator's op-code index,
    every tensor index of operators and subgraphs, every tensor's buffer index, shape and
    constant data size, per-channel quantization arrays, and the data flow (an operator
    reads only constants, subgraph inputs, variables and outputs of earlier operators: the
    TFLite runtime's graph partitioning crashes on a cycle; no operator writes a tensor
    holding constant data). What the flatbuffer verifier
    and each kernel's Prepare check is left to them.
    """
    check_identifier(tflite_bytes, argument)
    data = bytes(tflite_bytes)
    limit = len(data)  # no vector in the file can hold more entries than it has bytes

    def fail(what):
        raise ValueError(f"{argument} is a malformed .tflite model: {what}.")

    def length(n, what):
        if n < 0 or n > limit:
            fail(f"{what} has an impossible length {n}")
        return n

    try:
        m = schema().Model.GetRootAs(data, 0)
        n_codes = length(m.OperatorCodesLength(), "the op-code table")
        n_buffers = length(m.BuffersLength(), "the buffer table")
        buffer_sizes = []
        for b in range(n_buffers):
            buf = m.Buffers(b)
            external = buf is not None and buf.Offset() > 1
            buffer_sizes.append(None if buf is None or external else length(buf.DataLength(), "a buffer"))
        sizes = _type_sizes()
        types = schema().TensorType
        zero_ranges = {types.INT8: (-128, 127), types.UINT8: (0, 255), types.INT16: (-32768, 32767)}
        for s in range(length(m.SubgraphsLength(), "the subgraph table")):
            g = m.Subgraphs(s)
            n = length(g.TensorsLength(), "a tensor table")
            constant = set()
            for i in range(n):
                t = g.Tensors(i)
                if not 0 <= t.Buffer() < max(n_buffers, 1):
                    fail(f"subgraph {s} tensor {i} uses buffer {t.Buffer()} of {n_buffers}")
                shape = [t.Shape(d) for d in range(length(t.ShapeLength(), "a shape"))]
                elements = 1
                for d in shape:
                    if d < 0:
                        fail(f"subgraph {s} tensor {i} has shape {shape}")
                    elements *= d
                if elements * 8 > 1 << 31:
                    fail(f"subgraph {s} tensor {i} has a shape of {elements} elements")
                stored = buffer_sizes[t.Buffer()] if n_buffers else 0
                if stored:
                    constant.add(i)
                    if t.Type() in sizes and stored < elements * sizes[t.Type()]:
                        fail(f"subgraph {s} tensor {i} holds {stored} bytes but its shape "
                             f"{shape} needs {elements * sizes[t.Type()]}")
                q = t.Quantization()
                zero_range = zero_ranges.get(t.Type())
                if q is not None and zero_range is not None:
                    # TFLite's XNNPACK delegate reads such zero points unchecked (a crash).
                    zps = [q.ZeroPoint(k) for k in range(length(q.ZeroPointLength(), "zero points"))]
                    if any(not zero_range[0] <= z <= zero_range[1] for z in zps):
                        fail(f"subgraph {s} tensor {i} has a zero point outside "
                             f"{zero_range[0]}..{zero_range[1]}")
                if q is not None and any(not math.isfinite(q.Scale(k))
                                         for k in range(length(q.ScaleLength(), "scales"))):
                    fail(f"subgraph {s} tensor {i} has a scale that is not finite")
                if q is not None and q.ScaleLength() > 1:
                    qd = q.QuantizedDimension()
                    if not 0 <= qd < len(shape) or shape[qd] != q.ScaleLength() or \
                            q.ZeroPointLength() not in (0, 1, q.ScaleLength()):
                        fail(f"subgraph {s} tensor {i}: {q.ScaleLength()} per-channel scales "
                             f"do not match quantized dimension {qd} of shape {shape}")
                if t.IsVariable() or elements == 0:  # state, or nothing to read
                    constant.add(i)

            def indices(get, count, lowest, what):
                out = [get(k) for k in range(length(count, what))]
                for k in out:
                    if not lowest <= k < n:
                        fail(f"subgraph {s} {what} uses tensor index {k}, out of range "
                             f"({n} tensors)")
                return out

            with_data = {i for i in constant if buffer_sizes[g.Tensors(i).Buffer()]}
            inputs = indices(g.Inputs, g.InputsLength(), 0, "input list")
            indices(g.Outputs, g.OutputsLength(), 0, "output list")
            available = constant | set(inputs)
            for j in range(length(g.OperatorsLength(), "an operator table")):
                op = g.Operators(j)
                if op.OpcodeIndex() >= n_codes:
                    fail(f"subgraph {s} operator {j} uses op code {op.OpcodeIndex()} of {n_codes}")
                code = m.OperatorCodes(op.OpcodeIndex())
                if builtin_code(code) != schema().BuiltinOperator.CUSTOM and \
                        op.CustomOptionsLength() > 0:
                    # As TFLM rules; TFLite's XNNPACK delegate crashed on such an op.
                    fail(f"subgraph {s} operator {j} is the builtin {op_name(code)} but "
                         f"carries custom options")
                if op.InputsIsNone() or op.OutputsIsNone():
                    fail(f"subgraph {s} operator {j} has no input or output list")
                ins = indices(op.Inputs, op.InputsLength(), -1, f"operator {j}")
                absent = [pos for pos, k in enumerate(ins) if k < 0]
                if absent and not set(absent) <= _optional_inputs(m.OperatorCodes(op.OpcodeIndex())):
                    # TFLite's XNNPACK delegate dereferences a missing required input.
                    fail(f"subgraph {s} operator {j} lacks its required input {absent[0]}")
                outs = indices(op.Outputs, op.OutputsLength(), 0, f"operator {j}")
                # A tensor written at run time must not hold constant data (the
                # interpreter would overwrite the model's, possibly shared, weights).
                if with_data & set(outs):
                    fail(f"subgraph {s} operator {j} writes tensor {sorted(with_data & set(outs))[0]}, "
                         f"which holds constant data")
                unready = [k for k in ins if k >= 0 and k not in available]
                if unready and s == 0:  # control-flow bodies may read their own inputs
                    fail(f"subgraph {s} operator {j} reads tensor {unready[0]} before any "
                         f"operator writes it")
                available.update(outs)
    except ValueError:
        raise
    except Exception as e:  # the reader ran off a corrupt buffer
        fail(f"the flatbuffer cannot be read ({type(e).__name__})")

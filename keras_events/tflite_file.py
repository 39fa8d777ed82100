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

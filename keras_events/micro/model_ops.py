"""Which operators a ``.tflite`` model uses, and the TFLM resolver calls that provide them.

The firmware's op resolver holds exactly the model's ops (so flash figures contain no unused
kernels). The model is read with the flatbuffer schema classes that ship in the TensorFlow
wheel (``tensorflow/lite/python/schema_py_generated.py``), loaded directly from the file so
that TensorFlow itself (an ~8 s import) is not imported.
"""
from __future__ import annotations

import functools
import importlib.util
import pathlib
import re

from keras_events._native import manifest

# Project custom ops (the native manifest custom_ops/ops.def): custom_code in the model ->
# TFLM registration function (custom_ops/tflm/).
PROJECT_CUSTOM_OPS = {op.name: f"ke_micro::{op.tflm_registration}" for op in manifest.ops()}

# BuiltinOperator names whose resolver method is not the plain CamelCase of the name.
_METHOD_EXCEPTIONS = {
    "CONV_2D": "AddConv2D",
    "DEPTHWISE_CONV_2D": "AddDepthwiseConv2D",
    "AVERAGE_POOL_2D": "AddAveragePool2D",
    "MAX_POOL_2D": "AddMaxPool2D",
    "L2_POOL_2D": "AddL2Pool2D",
    "TRANSPOSE_CONV": "AddTransposeConv",
    "UNIDIRECTIONAL_SEQUENCE_LSTM": "AddUnidirectionalSequenceLSTM",
    "SVDF": "AddSvdf",
    "PRELU": "AddPrelu",
    "RELU6": "AddRelu6",
    "BATCH_TO_SPACE_ND": "AddBatchToSpaceNd",
    "SPACE_TO_BATCH_ND": "AddSpaceToBatchNd",
    "CUMSUM": "AddCumSum",
    "ADD_N": "AddAddN",
    "SELECT_V2": "AddSelectV2",
    "REVERSE_V2": "AddReverseV2",
    "PADV2": "AddPadV2",
    "SPLIT_V": "AddSplitV",
}

_RESOLVER_HEADER = "tensorflow/lite/micro/micro_mutable_op_resolver.h"


@functools.lru_cache(maxsize=1)
def schema():
    """The ``schema_py_generated`` module of the installed TensorFlow wheel."""
    spec = importlib.util.find_spec("tensorflow")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("reading .tflite op codes needs the tensorflow wheel installed "
                          "(for tensorflow/lite/python/schema_py_generated.py)")
    path = pathlib.Path(spec.submodule_search_locations[0]) / "lite/python/schema_py_generated.py"
    mod_spec = importlib.util.spec_from_file_location("_ke_tflite_schema", path)
    module = importlib.util.module_from_spec(mod_spec)
    mod_spec.loader.exec_module(module)
    return module


def model_op_names(model: bytes) -> list[str]:
    """Sorted names of the operators ``model``'s subgraphs use: builtin names
    (``FULLY_CONNECTED``) and custom codes (a project op's name)."""
    s = schema()
    if len(model) < 8 or not s.Model.ModelBufferHasIdentifier(model, 0):
        raise ValueError("model is not a .tflite flatbuffer (no 'TFL3' identifier)")
    m = s.Model.GetRootAs(model, 0)
    builtin_names = {v: k for k, v in vars(s.BuiltinOperator).items() if not k.startswith("_")}
    used = {sg.Operators(j).OpcodeIndex() for sg in (m.Subgraphs(i) for i in range(m.SubgraphsLength()))
            for j in range(sg.OperatorsLength())}
    names = set()
    for i in sorted(used):  # the code table may list ops no operator uses (converter leftovers)
        if i >= m.OperatorCodesLength():
            raise ValueError(f"model is malformed: an operator uses op code {i} of "
                             f"{m.OperatorCodesLength()}")
        oc = m.OperatorCodes(i)
        # builtin_code (int32) superseded deprecated_builtin_code (int8); use the larger.
        code = max(oc.BuiltinCode(), oc.DeprecatedBuiltinCode())
        if code == s.BuiltinOperator.CUSTOM:
            names.add(oc.CustomCode().decode())
        else:
            names.add(builtin_names.get(code, f"BUILTIN_{code}"))
    return sorted(names)


def resolver_method(op_name: str) -> str:
    """``FULLY_CONNECTED`` -> ``AddFullyConnected`` (the MicroMutableOpResolver method)."""
    if op_name in _METHOD_EXCEPTIONS:
        return _METHOD_EXCEPTIONS[op_name]
    return "Add" + "".join(p.capitalize() for p in op_name.split("_"))


@functools.lru_cache(maxsize=4)
def tflm_resolver_methods(tflm_tree: pathlib.Path) -> frozenset:
    text = (tflm_tree / _RESOLVER_HEADER).read_text()
    return frozenset(re.findall(r"TfLiteStatus (Add\w+)\(", text))


def resolver_calls(op_names: list[str], tflm_tree: pathlib.Path) -> list[str]:
    """C++ statements adding each op to ``resolver``; raises naming unsupported ops."""
    available = tflm_resolver_methods(tflm_tree)
    calls, missing = [], []
    for name in op_names:
        if name in PROJECT_CUSTOM_OPS:
            calls.append(f'resolver.AddCustom("{name}", {PROJECT_CUSTOM_OPS[name]}())')
            continue
        method = resolver_method(name)
        if method in available and method not in ("AddCustom", "AddBuiltin"):
            calls.append(f"resolver.{method}()")
        else:
            missing.append(name)
    if missing:
        raise ValueError(
            f"the model uses ops TFLM cannot run here: {missing}; supported are TFLM's builtin "
            f"ops and the project's custom ops {sorted(PROJECT_CUSTOM_OPS)}")
    return calls

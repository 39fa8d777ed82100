"""Which operators a ``.tflite`` model uses, and the TFLM resolver calls that provide them.

The firmware's op resolver holds exactly the model's ops (so flash figures contain no unused
kernels). The model is read by `keras_events.tflite_file` (the project's one ``.tflite``
reader, which does not import TensorFlow); ``model_op_names`` and ``schema`` are its
``op_names`` and ``schema``.
"""
from __future__ import annotations

import functools
import pathlib
import re

from keras_events._native import manifest
from keras_events.tflite_file import op_names as model_op_names  # noqa: F401 (re-exported)
from keras_events.tflite_file import schema  # noqa: F401 (re-exported)

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

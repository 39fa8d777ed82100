"""Event ops: one module per custom op (``keras_events/ops/<op>.py``), registered by name.

See `registry` for the contract and `base.EventOp` for what an op module provides.
`names()`, `get(name)`, `for_cell(cell)` and `all_ops()` are what the rest of the package
uses; `packing` holds the weight formats every op shares.
"""
from keras_events.ops.base import EventOp
from keras_events.ops.registry import all_ops, builtin_op_modules, for_cell, get, names, register

__all__ = ["EventOp", "all_ops", "for_cell", "get", "names", "register"]

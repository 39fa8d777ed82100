"""Event ops: one module per custom op (``keras_events/ops/<op>.py``), registered by name.

See `registry` for the contract. `names()`, `get(name)`, `for_cell(cell)` and
`all_ops()` are what the rest of the package uses.
"""
from keras_events.ops.registry import all_ops, for_cell, get, names, register

# Modules that register the built-in ops (imported on first registry use).
BUILTIN_OP_MODULES = ("keras_events.ops.egru",)

__all__ = ["all_ops", "for_cell", "get", "names", "register"]

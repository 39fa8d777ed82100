"""The registry of event ops: each op module registers one `EventOp` at import.

An event op is everything the export and the micro tools need to know about one custom
op (the EGRU op, later the Delta and embedded-GRU ops): its custom-op name and version,
the Keras cell class it serves, options and weight packing, MAC/event accounting and a
NumPy reference of one step. Exporters, the quantizer, the summary, the micro tools and
the recipes iterate over this registry; no op name is written outside its own module.
Registered like `keras_events.surrogates` registers surrogates.
"""
import importlib

# Modules that register the built-in ops (imported on first registry use). A new op adds
# its module here.
BUILTIN_OP_MODULES = ("keras_events.ops.egru",)

_REGISTRY = {}


def register(op):
    """Adds `op` (an `EventOp` instance) under `op.name`; returns it (usable at module end)."""
    if op.name in _REGISTRY and _REGISTRY[op.name] is not op:
        raise ValueError(f"An event op named {op.name!r} is already registered.")
    _REGISTRY[op.name] = op
    return op


def _load_builtin_ops():
    # Importing an op module registers it. Lazy so `import keras_events.ops` stays light.
    for module in BUILTIN_OP_MODULES:
        importlib.import_module(module)


def get(name):
    """The `EventOp` registered as `name` (a custom-op code such as the EGRU's)."""
    _load_builtin_ops()
    if name not in _REGISTRY:
        raise KeyError(f"Unknown event op {name!r}; registered: {sorted(_REGISTRY)}.")
    return _REGISTRY[name]


def names():
    """Custom-op codes of every registered event op (sorted)."""
    _load_builtin_ops()
    return sorted(_REGISTRY)


def all_ops():
    """Every registered `EventOp`, sorted by name."""
    _load_builtin_ops()
    return [_REGISTRY[n] for n in sorted(_REGISTRY)]


def for_cell(cell):
    """The `EventOp` that exports `cell` (a Keras RNN cell instance), or None."""
    for op in all_ops():
        if op.serves(cell):
            return op
    return None

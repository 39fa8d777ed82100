"""The registry of event ops: each op module registers one `EventOp` at import.

An event op is everything the export and the micro tools need to know about one custom
op (the EGRU op, later the Delta and embedded-GRU ops): its custom-op name and version,
the Keras cell class it serves, options and weight packing, MAC/event accounting and a
NumPy reference of one step. Exporters, the quantizer, the summary, the micro tools and
the recipes iterate over this registry; no op name is written outside its own module.
Registered like `keras_events.surrogates` registers surrogates.
"""
import importlib


def builtin_op_modules():
    """The modules that register the built-in ops, imported on first registry use: one per
    line of the native manifest (``custom_ops/ops.def``), named after the op
    (``KE_<NAME>`` -> ``keras_events.ops.<name>``), so the manifest line is the op's only
    registration."""
    from keras_events._native import manifest

    return tuple(f"keras_events.ops.{name.lower().removeprefix('ke_')}"
                 for name in manifest.names())

_REGISTRY = {}


def register(op):
    """Adds `op` (an `EventOp` instance) under `op.name`; returns it (usable at module end)."""
    if op.name in _REGISTRY and _REGISTRY[op.name] is not op:
        raise ValueError(f"An event op named {op.name!r} is already registered.")
    _REGISTRY[op.name] = op
    return op


def _load_builtin_ops():
    # Importing an op module registers it. Lazy so `import keras_events.ops` stays light.
    for module in builtin_op_modules():
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as e:
            if e.name != module:
                raise
            raise ModuleNotFoundError(
                f"The native manifest lists an op whose Python module {module} is missing: "
                f"add keras_events/ops/{module.rsplit('.', 1)[1]}.py (see "
                f"docs/guides/adding-an-op.md).", name=module) from None


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

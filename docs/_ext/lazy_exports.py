"""Griffe extension: make lazily exported names visible to the API reference.

`keras_events.export` exports `to_tflite`, `Interpreter`, ... through a module-level
`__getattr__` (so that importing it does not pull in TensorFlow). Static analysis sees
those names only in `__all__`, so `::: keras_events.export.to_tflite` could not be
collected. For every module of the package that defines `__getattr__`, this extension
imports the module, asks it for each name of `__all__` that static analysis did not
find, and adds an alias to the object's defining module. The pages therefore name only
the public path, and the alias follows whatever module the object moves to.
"""
import importlib

import griffe


class LazyExports(griffe.Extension):
    def on_package(self, *, pkg, loader, **kwargs):
        for module in _modules(pkg):
            if "__getattr__" not in module.members or not module.exports:
                continue
            runtime = importlib.import_module(module.path)
            for name in module.exports:
                name = name if isinstance(name, str) else getattr(name, "name", str(name))
                if name in module.members:
                    continue
                obj = getattr(runtime, name)
                target = f"{obj.__module__}.{obj.__qualname__}"
                module.set_member(name, griffe.Alias(name, target, parent=module))


def _modules(module):
    yield module
    for member in module.modules.values():
        yield from _modules(member)

"""The export package's C libraries (``_ke_ops.so``, ``_ke_core.so``).

- Installed from a wheel: the libraries were compiled when the wheel was built (``setup.py``
  calls ``keras_events._native.host``) and ship inside the package; they are used as they
  are, no compiler is needed at run time.
- Source checkout (editable install, ``python -m`` from the repository): built on first use
  by the native builder (cached: an unchanged tree builds nothing).
"""
import os
import threading

from keras_events._native import host, paths

OPS_LIBRARY = str(host.OPS_LIBRARY)
CORE_LIBRARY = str(host.CORE_LIBRARY)
_BUILDERS = {OPS_LIBRARY: host.build_ops_library, CORE_LIBRARY: host.build_core_library}
_LOCK = threading.Lock()


def prebuilt():
    """True when the package is an installed one (a wheel): its libraries are not rebuilt."""
    return not paths.IS_CHECKOUT


def ensure_built(library):
    """Returns `library`'s path (OPS_LIBRARY or CORE_LIBRARY); in a checkout, builds it first
    if its sources, flags or the TensorFlow version changed."""
    if prebuilt():
        if os.path.exists(library):
            return library
        raise RuntimeError(
            f"{library} is missing: this installed keras-events was built without its "
            "compiled ops. Reinstall it from a wheel or sdist (`pip install keras-events`; "
            "building needs a C/C++ compiler and TensorFlow).")
    with _LOCK:
        return str(_BUILDERS[library]())

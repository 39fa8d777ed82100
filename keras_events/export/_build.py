"""The export package's C libraries, built on first use by the native builder
(``keras_events._native.host``; cached: an unchanged tree builds nothing).

The sources live in the repository (`custom_ops/`), so this works from a source
checkout or an editable install; a wheel ships the built libraries instead.
"""
import os
import threading

from keras_events._native import host

OPS_LIBRARY = str(host.OPS_LIBRARY)
CORE_LIBRARY = str(host.CORE_LIBRARY)
_BUILDERS = {OPS_LIBRARY: host.build_ops_library, CORE_LIBRARY: host.build_core_library}
_LOCK = threading.Lock()


def ensure_built(library):
    """Returns `library`'s path (OPS_LIBRARY or CORE_LIBRARY), building it if its sources,
    flags or the TensorFlow version changed."""
    if not host.CUSTOM_OPS.is_dir():
        if os.path.exists(library):
            return library
        raise RuntimeError(f"{os.path.basename(library)} is not built and the C sources "
                           f"(custom_ops/) are not next to the package ({host.CUSTOM_OPS.parent}).")
    with _LOCK:
        return str(_BUILDERS[library]())

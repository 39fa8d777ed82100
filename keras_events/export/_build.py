"""Builds the project's C libraries on first use (`make -f custom_ops/custom_ops.mk`).

The sources live in the repository (`custom_ops/`), so this works from a source
checkout or an editable install; a wheel would ship the built libraries instead.
"""
import os
import subprocess
import sys
import threading

PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.dirname(os.path.dirname(PACKAGE_DIR))
_LOCK = threading.Lock()

OPS_LIBRARY = os.path.join(PACKAGE_DIR, "_ke_ops.so")
CORE_LIBRARY = os.path.join(PACKAGE_DIR, "_ke_core.so")
# make targets are the library files themselves (phony targets are never "up to date").
_TARGETS = {OPS_LIBRARY: "keras_events/export/_ke_ops.so",
            CORE_LIBRARY: "keras_events/export/_ke_core.so"}


def ensure_built(library):
    """Returns `library`'s path, running its make target if sources are newer or it is missing."""
    fragment = os.path.join(REPO_ROOT, "custom_ops", "custom_ops.mk")
    if not os.path.exists(fragment):
        if os.path.exists(library):
            return library
        raise RuntimeError(f"{os.path.basename(library)} is not built and the C sources "
                           f"(custom_ops/) are not next to the package ({REPO_ROOT}).")
    with _LOCK:
        # make decides whether anything is stale; -q first keeps the common case silent.
        cmd = ["make", "--no-print-directory", "-f", fragment, f"PYTHON={sys.executable}",
               _TARGETS[library]]
        if subprocess.run(cmd[:1] + ["-q"] + cmd[1:], cwd=REPO_ROOT,
                          capture_output=True).returncode != 0:
            done = subprocess.run(cmd, cwd=REPO_ROOT, capture_output=True, text=True)
            if done.returncode != 0:
                raise RuntimeError(f"Building {os.path.basename(library)} failed "
                                   f"(`{' '.join(cmd)}` in {REPO_ROOT}):\n{done.stdout}{done.stderr}")
    return library

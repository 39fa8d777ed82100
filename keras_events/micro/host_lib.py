"""``libke_tflm.so``: TFLM (x86-64 reference kernels) + the project's TFLM kernels behind the
small C API of ``micro/host/ke_tflm_c_api.h``, for the ctypes binding
``keras_events.micro.Interpreter``. Built by ``keras_events._native.board`` from the same
sources as the firmware (every op of the native manifest), so host tests exercise the
board's code; ``sanitize=True`` builds everything with AddressSanitizer + UBSan (load it with
``LD_PRELOAD=$(gcc -print-file-name=libasan.so)``; ``make test-sanitize-micro`` does).
"""
from __future__ import annotations

import subprocess

from keras_events._native.board import build_host_library  # noqa: F401


def asan_runtime() -> str:
    """Path of gcc's libasan, to LD_PRELOAD before loading a sanitizer build."""
    return subprocess.run(["gcc", "-print-file-name=libasan.so"], capture_output=True, text=True,
                          check=True).stdout.strip()

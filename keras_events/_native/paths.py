"""Where the native sources are, where built artefacts go, and the TFLM tree (``TFLM_DIR``)."""
from __future__ import annotations

import os
import pathlib

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]
CUSTOM_OPS = REPO_ROOT / "custom_ops"
CORE = CUSTOM_OPS / "core"
MICRO = REPO_ROOT / "micro"
PACKAGE_DIR = REPO_ROOT / "keras_events"
BUILD_DIR = REPO_ROOT / "build" / "native"     # per-checkout objects and test binaries
CACHE_ROOT = pathlib.Path(os.environ.get("KE_CACHE_DIR",
                                         pathlib.Path.home() / ".cache" / "keras-events"))

# The pinned TFLM tree next to the checkout (the one definition of the default; the
# Makefile passes its TFLM_DIR through the environment).
DEFAULT_TFLM_DIR = (REPO_ROOT / ".." / "shared" / "third_party" / "tflm").resolve()


def tflm_dir() -> pathlib.Path:
    """``$TFLM_DIR`` if set, else the pinned tree next to the checkout."""
    d = pathlib.Path(os.environ.get("TFLM_DIR") or DEFAULT_TFLM_DIR).resolve()
    if not (d / "ref").is_dir() or not (d / "cmsis_nn").is_dir():
        raise FileNotFoundError(
            f"TFLM_DIR={d} has no ref/ and cmsis_nn/ trees; set TFLM_DIR to the generated "
            "TFLM tree (see micro/README.md for how to create it)")
    return d

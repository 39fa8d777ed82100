"""Where the native sources are, where built artefacts go, and the TFLM tree (``TFLM_DIR``).

The C sources (``custom_ops/``, ``micro/``) are found in one of two places, checked in this
order (``source_root()``):

1. the copy an installed package carries, ``keras_events/_native/src/`` (the wheel's build
   step puts it there, see ``setup.py``), so ``keras_events.micro`` and the Arduino export
   work from ``pip install keras-events`` without a checkout;
2. the source checkout this package lives in (editable install, ``python -m`` from the repo).

Both have the same layout (``custom_ops/...``, ``micro/...``): the C code includes
``"micro/harness/..."`` relative to that root.
"""
from __future__ import annotations

import os
import pathlib

PACKAGE_DIR = pathlib.Path(__file__).resolve().parents[1]      # .../keras_events
REPO_ROOT = PACKAGE_DIR.parent                                 # the checkout (or site-packages)
INSTALLED_SOURCES = PACKAGE_DIR / "_native" / "src"            # the wheel's copy of the C sources
# Folders (relative to the source root) that make up the native sources: what a wheel
# ships (setup.py copies them) and what the builders read.
SOURCE_DIRS = ("custom_ops/core", "custom_ops/glue", "custom_ops/tflite", "custom_ops/tflm",
               "micro/harness", "micro/host", "micro/qemu_plugin")
SOURCE_FILES = ("custom_ops/ops.def",)
# The TFLite C headers the host glue compiles against, as an sdist carries them (copied from
# the TFLM tree by setup.py's sdist step); a checkout reads them from TFLM_DIR instead.
BUNDLED_TFLITE_INCLUDE = REPO_ROOT / "third_party" / "tflite_include"


def source_root() -> pathlib.Path:
    """The folder holding ``custom_ops/`` and ``micro/``: the installed copy first, then the
    checkout. (When neither exists the checkout path is returned and the first build names
    the missing file.)"""
    for root in (INSTALLED_SOURCES, REPO_ROOT):
        if (root / "custom_ops" / "ops.def").is_file():
            return root
    return REPO_ROOT


SOURCE_ROOT = source_root()
IS_CHECKOUT = SOURCE_ROOT == REPO_ROOT
CUSTOM_OPS = SOURCE_ROOT / "custom_ops"
CORE = CUSTOM_OPS / "core"
MICRO = SOURCE_ROOT / "micro"
CACHE_ROOT = pathlib.Path(os.environ.get("KE_CACHE_DIR",
                                         pathlib.Path.home() / ".cache" / "keras-events"))
# Per-checkout objects and test binaries; an installed package has no checkout to write
# into, so its (rare: host TFLM, firmware) intermediate outputs go to the cache.
BUILD_DIR = REPO_ROOT / "build" / "native" if IS_CHECKOUT else CACHE_ROOT / "build"

# The pinned TFLM tree next to the checkout (the one definition of the default; the
# Makefile passes its TFLM_DIR through the environment). An installed package has no
# default: TFLM_DIR must be set.
DEFAULT_TFLM_DIR = (REPO_ROOT / ".." / "shared" / "third_party" / "tflm").resolve() \
    if IS_CHECKOUT else None

_HOW_TO_CREATE = (
    "TFLM is not on any package registry; create the tree once with tflite-micro's "
    "generator: `git clone https://github.com/tensorflow/tflite-micro && cd tflite-micro && "
    "python3 tensorflow/lite/micro/tools/project_generation/create_tflm_tree.py $TFLM_DIR/ref "
    "&& python3 tensorflow/lite/micro/tools/project_generation/create_tflm_tree.py "
    "--makefile_options=\"TARGET=cortex_m_generic OPTIMIZED_KERNEL_DIR=cmsis_nn "
    "TARGET_ARCH=project_generation\" $TFLM_DIR/cmsis_nn` (pinned commit and details: "
    "micro/README.md of the keras-events sources)")


def tflm_dir() -> pathlib.Path:
    """``$TFLM_DIR`` if set, else the pinned tree next to the checkout."""
    env = os.environ.get("TFLM_DIR")
    if not env and DEFAULT_TFLM_DIR is None:
        raise FileNotFoundError(
            "the environment variable TFLM_DIR is not set: keras_events.micro and the Arduino "
            "export compile TensorFlow Lite Micro from a generated source tree with ref/ and "
            f"cmsis_nn/ subtrees; set TFLM_DIR to it. {_HOW_TO_CREATE}")
    d = pathlib.Path(env or DEFAULT_TFLM_DIR).resolve()
    if not (d / "ref").is_dir() or not (d / "cmsis_nn").is_dir():
        raise FileNotFoundError(
            f"TFLM_DIR={d} has no ref/ and cmsis_nn/ trees; set TFLM_DIR to the generated "
            f"TFLM tree. {_HOW_TO_CREATE}")
    return d

"""Fixtures for the TFLite Micro tests.

Tests that need a TFLM library build use the session fixtures below; on a fresh machine
the first one builds the (cached) libraries once, later sessions reuse them. Models come
from model_factory.py, generated in a subprocess and cached by that file's hash.
"""
import pathlib
import sys

import numpy as np
import pytest

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]
for _p in (REPO_ROOT, REPO_ROOT / "tests"):  # tests/: prereq (the sanitize run cuts conftests here)
    if str(_p) not in sys.path:
        sys.path.insert(0, str(_p))

from micro_fixtures import make_model  # noqa: E402
from prereq import require_tools  # noqa: E402


def pytest_configure(config):
    config.addinivalue_line("markers", "tflm: needs the TFLM library build (cached after the first run)")
    config.addinivalue_line("markers", "qemu: runs firmware on qemu-system-arm")
    config.addinivalue_line("markers", "sanitize: host-TFLM tests that also run under ASan/UBSan")


def tflm_library(variant):
    """The cached TFLM library of ``variant`` ("m4", "m0") + the QEMU plugin (built on first
    use). Without the toolchain: a skip on a developer machine, a failure in CI
    (tests/prereq.py)."""
    from keras_events.micro import qemu, tflm_build
    require_tools("arm-none-eabi-gcc", "qemu-system-arm", fix="make micro-toolchain")
    lib = tflm_build.build_library(variant)
    qemu.build_plugin()
    return lib


@pytest.fixture(scope="session")
def tflm_m4():
    """Cached Cortex-M4F TFLM library + QEMU plugin."""
    return tflm_library("m4")


@pytest.fixture(scope="session")
def tflm_m0():
    """Cached Cortex-M0 TFLM library + QEMU plugin (a few minutes on first use)."""
    return tflm_library("m0")


@pytest.fixture(scope="session")
def host_lib():
    """Cached host libke_tflm.so (ASan build when KE_MICRO_SANITIZE=1)."""
    from keras_events.micro import host_interpreter
    return host_interpreter.load_library()


@pytest.fixture(scope="session")
def fc_int8():
    d = make_model("fc_int8")
    return (d / "model.tflite").read_bytes(), np.load(d / "x.npy"), np.load(d / "y_tflite.npy")

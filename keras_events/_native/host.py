"""Host (x86-64) builds: the TFLite op library, the core library, the C unit tests and the
log-mel front end.

- ``build_ops_library()``: ``keras_events/export/_ke_ops.so``, every op of the manifest
  (core + shared checks + host TFLite glue + ``register.cc``), linked against the installed
  TensorFlow wheel's ``libtensorflow_cc.so.2`` (``keras_events.export.runtime`` loads it).
- ``build_core_library()``: ``keras_events/export/_ke_core.so``, the portable C cores alone
  (the ctypes reference binding).
- ``build_core_tests(sanitize)`` / ``build_glue_test(sanitize)``: the C unit tests of
  ``custom_ops/tests`` (the glue test under ASan/UBSan only).
- ``build_front_end_library(name)`` / ``build_logmel_library()``: the C keyword front ends
  (float log-mel, fixed-point log-mel) for ctypes.

Each returns its output path at once when nothing changed (a key of sources, headers,
flags and TensorFlow version is kept next to the output).
"""
from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import shutil
import pathlib

from . import manifest, progress
from .compile import compile_object, digest, headers_digest, link
from .flags import HOST_C, HOST_CXX, SANITIZE, SANITIZE_OPT, TEST_C
from .paths import (BUILD_DIR, BUNDLED_TFLITE_INCLUDE, CORE, CUSTOM_OPS, PACKAGE_DIR,
                    tflm_dir)

OPS_LIBRARY = PACKAGE_DIR / "export" / "_ke_ops.so"
CORE_LIBRARY = PACKAGE_DIR / "export" / "_ke_core.so"
REGISTERER = CUSTOM_OPS / "tflite" / "register.cc"
TESTS = CUSTOM_OPS / "tests"
LOGMEL = CORE / "ke_logmel.c"


def _cc() -> str:
    return os.environ.get("CC", "gcc")


def _cxx() -> str:
    return os.environ.get("CXX", "g++")


def _stamp(out: pathlib.Path) -> pathlib.Path:
    # One key file per output path: the wheel build writes the same library names into
    # build/lib, which must not mark the checkout's copy as current (or vice versa).
    return BUILD_DIR / "keys" / f"{out.name}-{digest(str(out.resolve().parent))}.key"


def _current(out: pathlib.Path, key: str) -> bool:
    stamp = _stamp(out)
    return out.exists() and stamp.exists() and stamp.read_text() == key


def _record(out: pathlib.Path, key: str) -> pathlib.Path:
    stamp = _stamp(out)
    stamp.parent.mkdir(parents=True, exist_ok=True)
    stamp.write_text(key)
    return out


def tensorflow_wheel() -> tuple[pathlib.Path, str]:
    """(directory of libtensorflow_cc.so.2, version) of the installed wheel, without
    importing TensorFlow (~8 s)."""
    spec = importlib.util.find_spec("tensorflow")
    if spec is None or spec.origin is None:
        raise RuntimeError("the host op library links against the tensorflow wheel; "
                           "install it (pip install tensorflow)")
    return pathlib.Path(spec.origin).parent, importlib.metadata.version("tensorflow")


def tflite_includes(tflm: pathlib.Path | None = None) -> list[str]:
    """The TFLite C headers with the full struct layout: the TFLM tree's headers WITHOUT
    -DTF_LITE_STATIC_MEMORY (the host interpreter's TfLiteTensor). The TensorFlow wheel
    ships no TFLite headers; an sdist carries the few the glue needs (copied from the TFLM
    tree when the sdist was made), so building from it needs no TFLM tree."""
    if tflm is None and BUNDLED_TFLITE_INCLUDE.is_dir():
        return [f"-I{BUNDLED_TFLITE_INCLUDE}"]
    tflm = tflm or tflm_dir()
    return [f"-I{tflm / 'ref'}", f"-I{tflm / 'ref/third_party/flatbuffers/include'}"]


def _glue_sources() -> list[pathlib.Path]:
    return manifest.sources("glue") + manifest.sources("tflite")


def build_ops_library(out: pathlib.Path = OPS_LIBRARY) -> pathlib.Path:
    libdir, version = tensorflow_wheel()
    core, glue = manifest.sources("core"), [*_glue_sources(), REGISTERER]
    cxx_flags = [*HOST_CXX, *tflite_includes(), f'-DKE_TF_VERSION="{version}"']
    # rpath: the TensorFlow next to an installed package (site-packages/tensorflow, seen
    # from keras_events/export/), then the one built against. The loader imports TensorFlow
    # first anyway, so the libtensorflow_cc.so.2 it loaded is the one used.
    link_flags = ["-shared", f"-L{libdir}", "-l:libtensorflow_cc.so.2",
                  "-Wl,-rpath,$ORIGIN/../../tensorflow", f"-Wl,-rpath,{libdir}", "-lm"]
    key = digest(*core, *glue, headers_digest(), _cc(), _cxx(), *HOST_C, *cxx_flags, *link_flags)
    if _current(out, key):
        return out
    with progress.stage(f"host op library {out.name} built"):
        objs = [compile_object(s, _cc(), HOST_C) for s in core]
        objs += [compile_object(s, _cxx(), cxx_flags) for s in glue]
        link(out, _cxx(), objs, link_flags)
    return _record(out, key)


def build_core_library(out: pathlib.Path = CORE_LIBRARY) -> pathlib.Path:
    core = manifest.sources("core")
    key = digest(*core, headers_digest(), _cc(), *HOST_C)
    if _current(out, key):
        return out
    link(out, _cc(), [compile_object(s, _cc(), HOST_C) for s in core], ["-shared", "-lm"])
    return _record(out, key)


def build_core_tests(sanitize: bool = False) -> pathlib.Path:
    """``custom_ops/tests/test_core.c`` (and the ``test_*.c`` whose tests its main calls) with
    every core; returns the executable."""
    flags = ["-std=c99", "-Wall", "-Wextra", *SANITIZE_OPT, *SANITIZE] if sanitize else TEST_C
    tag = "host-asan" if sanitize else "host-test"
    objs = [compile_object(s, _cc(), flags, tag=tag)
            for s in [*sorted(TESTS.glob("test_*.c")), *manifest.sources("core")]]
    out = BUILD_DIR / ("test_core_san" if sanitize else "test_core")
    key = digest(*objs, *flags)
    if _current(out, key):
        return out
    link(out, _cc(), objs, [*(SANITIZE if sanitize else []), "-lm"])
    return _record(out, key)


def build_glue_test(sanitize: bool = True) -> pathlib.Path:
    """``custom_ops/tests/test_glue.cc``: the host TFLite glue driven without TensorFlow."""
    c_flags = ["-std=c99", "-Wall", "-Wextra", *(SANITIZE_OPT + SANITIZE if sanitize else ["-O2"])]
    cxx_flags = ["-std=c++17", "-Wall", "-Wextra", *(SANITIZE_OPT + SANITIZE if sanitize else ["-O2"]),
                 *tflite_includes()]
    tag = "host-asan" if sanitize else "host-test"
    objs = [compile_object(s, _cc(), c_flags, tag=tag) for s in manifest.sources("core")]
    objs += [compile_object(s, _cxx(), cxx_flags, tag=tag)
             for s in [TESTS / "test_glue.cc", *_glue_sources()]]
    out = BUILD_DIR / ("test_glue_san" if sanitize else "test_glue")
    key = digest(*objs, *cxx_flags)
    if _current(out, key):
        return out
    link(out, _cxx(), objs, [*(SANITIZE if sanitize else []), "-lm"])
    return _record(out, key)


# The keyword front ends in C (sources, headers), for ctypes: the float librosa-matched one
# and the fixed-point one of ``--frontend q15``.
FRONT_ENDS = {
    "logmel": ((LOGMEL,), (CORE / "ke_logmel.h",)),
    "logmel_q": ((CORE / "ke_logmel_q.c", CORE / "ke_dct_q.c"),
                 (CORE / "ke_logmel_q.h", CORE / "ke_dct_q.h", CORE / "ke_dsp16.h")),
}


def build_front_end_library(name: str = "logmel",
                            out_dir: pathlib.Path | None = None) -> pathlib.Path:
    """A front end of ``FRONT_ENDS`` as a shared library, named by content."""
    if name not in FRONT_ENDS:
        raise ValueError(f"name={name!r}; choose one of {sorted(FRONT_ENDS)}")
    sources, headers = FRONT_ENDS[name]
    if shutil.which(_cc()) is None:
        raise RuntimeError(f"C compiler {_cc()!r} not found. Fix: install gcc or set CC.")
    flags = ["-std=c99", "-O2", "-Wall", "-Wextra", "-Werror", "-shared", "-fPIC"]
    out_dir = pathlib.Path(out_dir or BUILD_DIR)
    out = out_dir / f"libke_{name}_{digest(*sources, *headers, _cc(), *flags)}.so"
    if out.exists():
        return out
    return link(out, _cc(), [*flags, *sources], ["-lm"])


def build_logmel_library(out_dir: pathlib.Path | None = None) -> pathlib.Path:
    """``custom_ops/core/ke_logmel.c`` as a shared library, named by content."""
    return build_front_end_library("logmel", out_dir)

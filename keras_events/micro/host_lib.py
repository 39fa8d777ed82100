"""Build ``libke_tflm.so``: TFLM (x86-64 reference kernels) + the project's TFLM kernels
behind the small C API of ``micro/host/ke_tflm_c_api.h``, for the ctypes binding
``keras_events.micro.Interpreter``.

The same glue (micro/tflm/) and core (custom_ops/core/) sources as the firmware are
compiled, so host tests exercise the board's code. ``sanitize=True`` builds everything with
AddressSanitizer + UBSan (load it with ``LD_PRELOAD=$(gcc -print-file-name=libasan.so)``;
``make test-sanitize-micro`` does).
"""
from __future__ import annotations

import hashlib
import os
import pathlib
import shlex
import subprocess

from keras_events.micro import firmware, tflm_build

HOST_SOURCES = [tflm_build.REPO_ROOT / "micro" / "host" / "ke_tflm_c_api.cc",
                firmware.GLUE / "ke_log.cc", firmware.GLUE / "ke_model_check.cc",
                firmware.GLUE / "ke_arena.cc",
                firmware.GLUE / "ke_egru.cc", firmware.CORE / "ke_egru.c",
                firmware.CORE / "ke_egru_tables.c"]


def build_host_library(sanitize: bool = False, tflm_dir: pathlib.Path | None = None) -> pathlib.Path:
    """Return the path of the (cached) shared library, building what is missing."""
    name = "host-asan" if sanitize else "host"
    variant = tflm_build.VARIANTS[name]
    tflm_dir = tflm_dir or tflm_build.tflm_dir_from_env()
    lib = tflm_build.build_library(name, tflm_dir)
    objs = [firmware.compile_object(s, variant, tflm_dir) for s in HOST_SOURCES]
    key = hashlib.sha256("\n".join(map(str, [lib, *objs])).encode()).hexdigest()[:16]
    out = tflm_build.CACHE_ROOT.parent / "host" / f"libke_tflm-{name}-{key}.so"
    if out.exists():
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(f".tmp{os.getpid()}.so")
    cmd = [variant.cxx, "-shared", *variant.flags, "-o", str(tmp), *map(str, objs), str(lib),
           "-Wl,--gc-sections", "-Wl,--exclude-libs,ALL", "-Wl,--no-undefined", "-lm"]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"linking {out.name} failed:\n{shlex.join(cmd)}\n{r.stderr[-6000:]}")
    tmp.replace(out)
    return out


def asan_runtime() -> str:
    """Path of gcc's libasan, to LD_PRELOAD before loading a sanitizer build."""
    return subprocess.run(["gcc", "-print-file-name=libasan.so"], capture_output=True, text=True,
                          check=True).stdout.strip()

"""Compiling and linking with results cached by content.

An object's key hashes its source, every project header it could include and the full
command, so an unchanged source is never recompiled, in this checkout or another one
(objects live in ``~/.cache/keras-events/objects/``).  Outputs are written under a
temporary name and renamed: an interrupted build or a process loading a library never
sees a half-written file.
"""
from __future__ import annotations

import hashlib
import os
import pathlib
import shlex
import subprocess

from .paths import CACHE_ROOT, CUSTOM_OPS, MICRO

# Headers a project source may include (every one is hashed into each object's key).
HEADER_DIRS = (CUSTOM_OPS, CUSTOM_OPS / "core", CUSTOM_OPS / "glue", CUSTOM_OPS / "tflite",
               CUSTOM_OPS / "tflm", MICRO / "harness", MICRO / "host", MICRO / "qemu_plugin")
OBJECT_CACHE = CACHE_ROOT / "objects"


def digest(*parts) -> str:
    """Short hash of strings, bytes and files (a path's content)."""
    h = hashlib.sha256()
    for part in parts:
        if isinstance(part, pathlib.Path):
            h.update(part.name.encode() + b"\0" + part.read_bytes())
        else:
            h.update(part if isinstance(part, bytes) else str(part).encode())
        h.update(b"\0")
    return h.hexdigest()[:16]


def headers_digest(dirs=HEADER_DIRS) -> str:
    files = [p for d in dirs for p in sorted(d.glob("*")) if p.suffix in (".h", ".def")]
    return digest(*files)


def run(cmd: list, what: str) -> None:
    r = subprocess.run([str(c) for c in cmd], capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"{what} failed:\n{shlex.join(map(str, cmd))}\n{r.stderr[-6000:]}")


def _atomic(out: pathlib.Path, cmd_with_output) -> pathlib.Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f"{out.stem}.tmp{os.getpid()}{out.suffix}")
    run(cmd_with_output(tmp), f"building {out.name}")
    tmp.replace(out)
    return out


def compiler_for(src: pathlib.Path, cc: str = "gcc", cxx: str = "g++") -> str:
    return cxx if src.suffix in (".cc", ".cpp") else cc


def compile_object(src: pathlib.Path, compiler: str, flags: list, obj_dir: pathlib.Path | None = None,
                   cache: bool = True, tag: str = "host") -> pathlib.Path:
    """``compiler flags -c src``; the object is reused while source, headers and flags match.

    ``tag`` names the cache subfolder (one per target, e.g. ``m4``); ``obj_dir`` overrides
    it (``cache=False``: always compile, for generated sources)."""
    key = digest(src, headers_digest(), shlex.join([compiler, *map(str, flags)]))
    obj = (obj_dir or OBJECT_CACHE / tag) / f"{src.stem}-{key}.o"
    if cache and obj.exists():
        return obj
    return _atomic(obj, lambda tmp: [compiler, *flags, "-c", src, "-o", tmp])


def link(out: pathlib.Path, linker: str, inputs: list, flags: list) -> pathlib.Path:
    """``linker inputs flags -o out`` (atomic)."""
    return _atomic(out, lambda tmp: [linker, *inputs, *flags, "-o", tmp])

"""Reader of the native manifest ``custom_ops/ops.def``: which event ops exist, their
registration functions and C sources.

Each op is a table ``ke_op_NAME`` in its core sources (``custom_ops/core/ke_op.h``); the
generic glues (``custom_ops/glue``, ``tflite``, ``tflm``: the manifest's ``KE_COMMON`` line)
register every op, so an op lists only its core sources.

The manifest is an X-macro file that C includes directly (``KE_OP(...)`` lines, see its
header); this reads the same lines so the Python builders (host op library, host TFLM
library, firmware, Arduino library) compile exactly what the C registerers register.

    >>> op = ops()[0]                                    # doctest: +SKIP
    >>> op.name, op.tflm_registration, op.core  # doctest: +SKIP
    >>> sources("core", [op.name])   # common core sources, then the op's  # doctest: +SKIP
"""
from __future__ import annotations

import functools
import pathlib
import re
from dataclasses import dataclass

from .paths import CUSTOM_OPS

MANIFEST = CUSTOM_OPS / "ops.def"
KINDS = ("core", "glue", "tflite", "tflm")   # source groups, in manifest order

_STRING = r'\s*"([^"]*)"\s*'
_OP = re.compile(r"^KE_OP\(\s*(\w+)\s*,\s*(\d+)\s*," + _STRING + r"\)", re.M)
_COMMON = re.compile(r"^KE_COMMON\(" + ",".join([_STRING] * 4) + r"\)", re.M)


@dataclass(frozen=True)
class Op:
    """One ``KE_OP`` line: custom-op name, version, core sources."""
    name: str
    version: int
    core: tuple                # paths relative to custom_ops/

    @property
    def tflite_registration(self) -> str:
        """``extern "C" const TfLiteRegistration* NAME_Registration(void)`` (host glue)."""
        return f"{self.name}_Registration"

    @property
    def tflm_registration(self) -> str:
        """``const TFLMRegistration* ke_micro::Register_NAME()`` (TFLM glue)."""
        return f"Register_{self.name}"

    def paths(self, kind: str) -> list[pathlib.Path]:
        """The op's own sources of one group (only ``core``: the glues are generic)."""
        return [CUSTOM_OPS / s for s in self.core] if kind == "core" else []


def _split(group: str) -> tuple:
    return tuple(group.split())


@functools.lru_cache(maxsize=1)
def _read() -> tuple[tuple[Op, ...], dict]:
    # Comments are dropped first: the header documents the KE_OP syntax itself.
    text = re.sub(r"/\*.*?\*/", "", MANIFEST.read_text(), flags=re.S)
    ops = tuple(Op(m[1], int(m[2]), _split(m[3])) for m in _OP.finditer(text))
    common = _COMMON.search(text)
    if not ops or common is None:
        raise RuntimeError(f"{MANIFEST} lists no KE_OP or no KE_COMMON line")
    return ops, dict(zip(KINDS, map(_split, common.groups())))


def ops() -> tuple[Op, ...]:
    """Every op of the manifest, in manifest order."""
    return _read()[0]


def names() -> list[str]:
    """The custom-op names (``custom_code`` in a ``.tflite``)."""
    return [op.name for op in ops()]


def get(name: str) -> Op:
    for op in ops():
        if op.name == name:
            return op
    raise KeyError(f"{name!r} is not in the native manifest {MANIFEST} (ops: {names()})")


def sources(kind: str, op_names=None) -> list[pathlib.Path]:
    """Paths of one source group: the common sources, then those of ``op_names`` (default:
    every op) that the manifest lists; a source two ops share (e.g. the delta ops'
    ``core/ke_delta.c``) comes once."""
    if kind not in KINDS:
        raise ValueError(f"kind={kind!r}; choose one of {KINDS}")
    wanted = names() if op_names is None else [n for n in op_names if n in names()]
    out = [CUSTOM_OPS / s for s in _read()[1][kind]]
    for name in wanted:
        out += [p for p in get(name).paths(kind) if p not in out]
    return out

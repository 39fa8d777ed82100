"""Project code built against TFLite Micro: firmware objects and image, the host TFLM
library (``libke_tflm.so``) and the QEMU instruction-count plugin.

The same sources (manifest ops + ``micro/harness`` support) go into the board firmware and
the host library, so host tests exercise the board's code.  Objects are cached by content
(``compile.compile_object``); TFLM itself comes from ``tflm.build_library``.
"""
from __future__ import annotations

import pathlib

from . import manifest, progress, tflm
from .compile import compile_object, digest, link
from .flags import M4_ARCH, M4_LINK, M4_OPT
from .paths import CACHE_ROOT, CORE, MICRO, SOURCE_ROOT, tflm_dir

HARNESS = MICRO / "harness"
LINKER_SCRIPT = HARNESS / "an386.ld"
# TFLM support shared by the firmware and the host library (arena, log sink, model checks).
SUPPORT_SOURCES = [HARNESS / "ke_log.cc", HARNESS / "ke_model_check.cc", HARNESS / "ke_arena.cc"]
FIRMWARE_SOURCES = [HARNESS / "startup.c", HARNESS / "semihost.c", HARNESS / "ke_counters.c",
                    *SUPPORT_SOURCES]
HOST_API = MICRO / "host" / "ke_tflm_c_api.cc"
PLUGIN_SRC = MICRO / "qemu_plugin" / "insn_count.c"


def op_sources(op_names=None) -> list[pathlib.Path]:
    """Everything a TFLM build needs for ``op_names`` (default: every op of the manifest;
    names that are not project ops are ignored): cores, shared checks, TFLM glue."""
    names = manifest.names() if op_names is None else \
        [n for n in op_names if n in manifest.names()]
    if not names:
        return []
    return [p for kind in ("core", "glue", "tflm") for p in manifest.sources(kind, names)]


def project_flags(variant: tflm.Variant, tflm_tree: pathlib.Path, lang: str) -> list[str]:
    return variant.compile_flags(tflm_tree, lang) + [
        f"-I{SOURCE_ROOT}", f"-I{HARNESS}", f"-I{CORE}", "-Wall"]


def compile_for(src: pathlib.Path, variant: tflm.Variant, tflm_tree: pathlib.Path | None = None,
                extra: tuple = (), cache: bool = True, out_dir: pathlib.Path | None = None
                ) -> pathlib.Path:
    """Compile one project source for ``variant`` (cached by content, headers, flags)."""
    tflm_tree = tflm_tree or tflm_dir()
    lang = "c++" if src.suffix == ".cc" else "c"
    compiler = variant.cxx if lang == "c++" else variant.cc
    return compile_object(src, compiler, project_flags(variant, tflm_tree, lang) + list(extra),
                          obj_dir=out_dir, cache=cache, tag=variant.name)


# Plain C for the Cortex-M4F without TFLM (the log-mel front end and its firmware).
M4_C = [*M4_ARCH, "-std=c99", *M4_OPT, "-Wall", "-Wextra"]
LOGMEL = CORE / "ke_logmel.c"


def link_firmware(objs: list, out_dir: pathlib.Path, libraries: list = (),
                  name: str = "firmware.elf", linker: str | None = None) -> pathlib.Path:
    """A Cortex-M4F image for QEMU mps2-an386 (micro/harness/an386.ld); ``linker``: the
    m4 C++ driver by default (TFLM firmware), arm-none-eabi-gcc for plain C images."""
    return link(out_dir / name, linker or tflm.VARIANTS["m4"].cxx, list(objs),
                [*libraries, *M4_LINK, f"-T{LINKER_SCRIPT}",
                 f"-Wl,-Map={out_dir / (pathlib.Path(name).stem + '.map')}", "-lm"])


def build_host_library(sanitize: bool = False, tflm_tree: pathlib.Path | None = None
                       ) -> pathlib.Path:
    """``libke_tflm.so``: TFLM (x86-64 reference kernels) + every manifest op behind the C
    API of ``micro/host/ke_tflm_c_api.h`` (the ctypes binding keras_events.micro.Interpreter).
    ``sanitize``: everything under ASan + UBSan (load with LD_PRELOAD of libasan)."""
    name = "host-asan" if sanitize else "host"
    variant = tflm.VARIANTS[name]
    tflm_tree = tflm_tree or tflm_dir()
    lib = tflm.build_library(name, tflm_tree)
    objs = [compile_for(s, variant, tflm_tree)
            for s in [HOST_API, *SUPPORT_SOURCES, *op_sources()]]
    out = CACHE_ROOT / "host" / f"libke_tflm-{name}-{digest(str(lib), *map(str, objs))}.so"
    if out.exists():
        return out
    with progress.stage(f"host TFLM library {out.name} linked"):
        return link(out, variant.cxx, objs, ["-shared", *variant.flags, str(lib), "-Wl,--gc-sections",
                                             "-Wl,--exclude-libs,ALL", "-Wl,--no-undefined", "-lm"])


def build_qemu_plugin() -> pathlib.Path:
    """The TCG plugin counting guest instructions (host gcc; cached by source)."""
    headers = [PLUGIN_SRC.with_name(h) for h in ("qemu_plugin_api.h", "thumb_class.h")]
    out = CACHE_ROOT / "qemu_plugin" / f"libke_insn_count-{digest(PLUGIN_SRC, *headers)}.so"
    if out.exists():
        return out
    return link(out, "gcc", ["-O2", "-fPIC", "-shared", "-fvisibility=hidden", "-Wall",
                             "-Wextra", "-Werror", PLUGIN_SRC], [])


def compile_m4_c(src: pathlib.Path, include_dirs=(), cache: bool = True,
                 out_dir: pathlib.Path | None = None, extra=()) -> pathlib.Path:
    """A plain C source for the Cortex-M4F (``M4_C``), cached by content unless ``cache``
    is False (sources that include generated headers)."""
    flags = [*M4_C, *extra, *(f"-I{d}" for d in include_dirs)]
    return compile_object(src, "arm-none-eabi-gcc", flags, obj_dir=out_dir, cache=cache,
                          tag="m4-c")


def build_logmel_m4_object() -> pathlib.Path:
    """``ke_logmel.c`` compiled for the Cortex-M4F with -Werror (a portability check)."""
    return compile_m4_c(LOGMEL, extra=("-Werror",))

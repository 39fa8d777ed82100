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
from .flags import M0_ARCH, M4_ARCH, M4_LINK, M4_OPT
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
                  name: str = "firmware.elf", linker: str | None = None,
                  board: "Board | None" = None, stack: int | None = None) -> pathlib.Path:
    """An image for ``board`` (default: the Cortex-M4F, QEMU mps2-an386,
    micro/harness/an386.ld; ``stack``: bytes to reserve, boards with a stack symbol only);
    ``linker``: the C++ driver by default (TFLM firmware), arm-none-eabi-gcc for plain C
    images."""
    link_flags = board.link_flags(stack) if board is not None else [*M4_LINK, f"-T{LINKER_SCRIPT}"]
    return link(out_dir / name, linker or tflm.VARIANTS["m4"].cxx, list(objs),
                [*libraries, *link_flags,
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


# --- boards -------------------------------------------------------------------------------
# Each emulated board: its QEMU machine, core flags, memory map, start-up code and the TFLM
# library variant its TFLM firmware links (keras_events.micro.firmware). Both boards run
# TFLM firmware and bare-kernel firmware (build_bare_firmware: a C core called directly).
M0_DIR = MICRO / "m0"
# The Cortex-M0's TFLM firmware reserves this much stack (linker symbol __stack_size; the
# bare-kernel firmware keeps the linker script's 2 KiB): TFLM's Invoke and the op's
# message formatting need more than the bare kernels.
M0_TFLM_STACK = 3 << 10


class Board:
    """One emulated board: ``name`` (what ``micro run --board`` takes), QEMU ``machine``,
    compiler ``arch`` flags, ``linker_script``, ``startup`` sources, ``flash`` / ``ram``
    bytes, ``tflm``: the TFLM library variant (``keras_events._native.tflm.VARIANTS``) of
    its TFLM firmware, ``tflm_stack``: the stack that firmware reserves (None: the linker
    script's), ``default_arena``: its tensor arena when none is given (None: all the RAM
    the image leaves), ``max_arena``: the largest arena accepted before linking (the link
    itself rejects one that leaves too little RAM)."""

    def __init__(self, name, machine, cpu, arch, linker_script, startup, flash, ram, tflm,
                 tflm_stack=None, default_arena=None, max_arena=None):
        self.name, self.machine, self.cpu, self.arch = name, machine, cpu, list(arch)
        self.linker_script, self.startup = linker_script, list(startup)
        self.flash, self.ram, self.tflm = flash, ram, tflm
        self.tflm_stack, self.default_arena = tflm_stack, default_arena
        self.max_arena = max_arena or ram

    def c_flags(self):
        return [*self.arch, "-std=c99", *M4_OPT, "-Wall", "-Wextra"]

    def link_flags(self, stack: int | None = None):
        """``stack``: bytes of stack to reserve instead of the linker script's."""
        return [*self.arch, "-nostartfiles", "--specs=nano.specs", "--specs=nosys.specs",
                "-Wl,--gc-sections", f"-T{self.linker_script}",
                *([f"-Wl,--defsym=__ke_stack_size={int(stack)}"] if stack else [])]

    def firmware_sources(self) -> list[pathlib.Path]:
        """The TFLM firmware's board support: start-up, semihosting, counter markers and
        the TFLM support shared with the host library."""
        return [*self.startup, HARNESS / "semihost.c", HARNESS / "ke_counters.c",
                *SUPPORT_SOURCES]

    def __repr__(self):
        return f"<Board {self.name} ({self.cpu}, QEMU {self.machine})>"


BOARDS = {
    "mps2-an386": Board("mps2-an386", "mps2-an386", "Cortex-M4F", M4_ARCH, LINKER_SCRIPT,
                        [HARNESS / "startup.c"], 4 << 20, 4 << 20, tflm="m4",
                        default_arena=64 << 10, max_arena=3 << 20),
    "microbit": Board("microbit", "microbit", "Cortex-M0 (nRF51822)", M0_ARCH,
                      M0_DIR / "nrf51.ld", [M0_DIR / "startup_m0.c"], 256 << 10, 16 << 10,
                      tflm="m0", tflm_stack=M0_TFLM_STACK),
}


def get_board(name: str) -> Board:
    if name not in BOARDS:
        raise ValueError(f"board={name!r}; choose one of {sorted(BOARDS)}")
    return BOARDS[name]


def compile_bare_c(src: pathlib.Path, board: Board, include_dirs=(), cache: bool = True,
                   out_dir: pathlib.Path | None = None, extra=()) -> pathlib.Path:
    """A plain C source (no TFLM) for ``board``, cached by content unless ``cache`` is False
    (sources that include generated headers)."""
    flags = [*board.c_flags(), *extra, *(f"-I{d}" for d in include_dirs)]
    return compile_object(src, "arm-none-eabi-gcc", flags, obj_dir=out_dir, cache=cache,
                          tag=f"{board.name}-c")


def build_bare_firmware(main_src: pathlib.Path, board: Board, out_dir: pathlib.Path,
                        core_sources=(), include_dirs=(), name: str = "firmware.elf",
                        extra=()) -> pathlib.Path:
    """A bare-kernel image for ``board``: ``main_src`` (compiled uncached, it may include
    generated headers from ``include_dirs``), the given core sources, the board's start-up
    and the semihosting / counter-marker support."""
    out_dir = pathlib.Path(out_dir)
    inc = [out_dir, *include_dirs, CORE, HARNESS, M0_DIR]
    objs = [compile_bare_c(main_src, board, inc, cache=False, out_dir=out_dir, extra=extra)]
    objs += [compile_bare_c(pathlib.Path(s), board, inc, extra=extra) for s in core_sources]
    objs += [compile_bare_c(s, board, inc)
             for s in [*board.startup, HARNESS / "semihost.c", HARNESS / "ke_counters.c"]]
    return link(out_dir / name, "arm-none-eabi-gcc", objs,
                [*board.link_flags(), f"-Wl,-Map={out_dir / (pathlib.Path(name).stem + '.map')}",
                 "-lm"])

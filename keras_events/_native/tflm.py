"""Build TensorFlow Lite Micro static libraries once and cache them outside the checkout.

The pinned TFLM tree (``$TFLM_DIR``, see its README for the verified flags) is compiled
for one *variant* (Cortex-M4F from ``cmsis_nn/``, Cortex-M0 (ARMv6-M) and x86-64 host from
``ref/``, host with sanitizers) into ``~/.cache/keras-events/tflm/<variant>-<key>/``. The key hashes the tree's
file contents and the compiler + flags (``flags.py``), so a changed tree or flag gives a
new library and an unchanged one is reused instantly.

Only what models need is compiled: the interpreter, the kernels and CMSIS-NN; the audio
``signal/`` library, kissfft and the unit-test helpers are skipped. Objects are compiled
with ``-ffunction-sections -fdata-sections`` so firmware links with ``--gc-sections``.

Usage: ``python -m keras_events._native build tflm-m4 tflm-m0 tflm-host`` (prints each library path).
"""
from __future__ import annotations

import concurrent.futures
import hashlib
import os
import pathlib
import shlex
import subprocess
import tempfile
import time
from dataclasses import dataclass, field

from .flags import (M0_ARCH, M0_DEFS, M0_OPT, M4_ARCH, M4_DEFS, M4_OPT, SANITIZE, SANITIZE_OPT,
                    TFLM_C, TFLM_CXX, TFLM_DEFS)
from . import progress
from .paths import CACHE_ROOT as _CACHE, tflm_dir as tflm_dir_from_env

CACHE_ROOT = _CACHE / "tflm"

# Files of the generated tree that no model needs (test scaffolding, audio front end).
_SKIP_PARTS = ("signal/", "third_party/kissfft/")
_SKIP_NAMES = {"test_helpers.cc", "test_helper_custom_ops.cc", "kernel_runner.cc",
               "fake_micro_context.cc", "mock_micro_graph.cc"}

@dataclass(frozen=True)
class Variant:
    """One way of compiling a TFLM tree: which subtree, which compilers, which flags."""
    name: str
    tree: str                      # "ref" or "cmsis_nn"
    cc: str
    cxx: str
    ar: str
    flags: tuple = field(default_factory=tuple)   # C and C++
    defs: tuple = field(default_factory=tuple)
    kernels: frozenset | None = None   # kernel files (stem without _common) to build; None: all

    def include_dirs(self, tflm_dir: pathlib.Path) -> list[str]:
        t = tflm_dir / self.tree
        dirs = [t, t / "third_party/gemmlowp", t / "third_party/flatbuffers/include",
                t / "third_party/ruy"]
        if self.tree == "cmsis_nn":
            dirs += [t / "third_party/cmsis", t / "third_party/cmsis_nn",
                     t / "third_party/cmsis_nn/Include",
                     t / "third_party/cmsis/CMSIS/Core/Include",
                     t / "third_party/cmsis/Cortex_DFP/Device/ARMCM4/Include"]
        return [f"-I{d}" for d in dirs]

    def compile_flags(self, tflm_dir: pathlib.Path, lang: str) -> list[str]:
        """Full flag list for compiling TFLM *and* project code against this variant."""
        return ([*self.flags, *TFLM_DEFS, *self.defs,
                 *(TFLM_CXX if lang == "c++" else TFLM_C)] + self.include_dirs(tflm_dir))


# The host library's op set: every kernel file under tensorflow/lite/micro/kernels/ whose
# stem (without "_common") is listed here, plus the shared support files. The resolver in
# micro/host/ke_tflm_c_api.cc registers exactly these ops (a mismatch fails the link, which
# uses --no-undefined). Building ~half of the kernels halves the host build time.
HOST_KERNELS = frozenset("""
    activations add batch_matmul cast comparisons concatenation conv depthwise_conv dequantize
    elementwise exp expand_dims fill fully_connected gather hard_swish leaky_relu logical
    logistic maximum_minimum mul pack pad pooling quantize reduce reshape shape slice softmax
    split split_v squeeze strided_slice sub tanh transpose unpack while zeros_like
    kernel_util micro_tensor_utils decompress
    """.split())

# The Cortex-M0 library's op set: what the eGRU models and small heads use (the int8
# eGRU: KE_EGRU_EMB, QUANTIZE/DEQUANTIZE at float edges; heads: FULLY_CONNECTED, MUL, ADD,
# LOGISTIC, RELU, RESHAPE, CONCATENATION, GATHER, EXPAND_DIMS). A model needing another op
# (e.g. MEAN, SOFTMAX) fails to link with a message naming it
# (keras_events.micro.firmware); add its kernel here (each one adds minutes to the
# library's first build on the shared machine).
M0_KERNELS = frozenset("""
    activations add concatenation dequantize expand_dims fully_connected gather logistic
    mul quantize reshape kernel_util micro_tensor_utils decompress
    """.split())

VARIANTS = {
    "m4": Variant("m4", "cmsis_nn", "arm-none-eabi-gcc", "arm-none-eabi-g++", "arm-none-eabi-ar",
                  flags=(*M4_ARCH, *M4_OPT),
                  defs=tuple(M4_DEFS)),
    "m0": Variant("m0", "ref", "arm-none-eabi-gcc", "arm-none-eabi-g++", "arm-none-eabi-ar",
                  flags=(*M0_ARCH, *M0_OPT), defs=tuple(M0_DEFS), kernels=M0_KERNELS),
    "host": Variant("host", "ref", "gcc", "g++", "ar",
                    flags=("-O2", "-fPIC", "-ffunction-sections", "-fdata-sections"),
                    defs=("-DTF_LITE_DISABLE_X86_NEON",), kernels=HOST_KERNELS),
    "host-asan": Variant("host-asan", "ref", "gcc", "g++", "ar",
                         flags=(*SANITIZE_OPT, "-fPIC", *SANITIZE),
                         defs=("-DTF_LITE_DISABLE_X86_NEON",), kernels=HOST_KERNELS),
}


def sources(tflm_dir: pathlib.Path, variant: Variant) -> list[pathlib.Path]:
    root = tflm_dir / variant.tree
    out = []
    for top in ("tensorflow", "third_party/cmsis_nn/Source"):
        base = root / top
        if not base.is_dir():
            continue
        for p in sorted(base.rglob("*")):
            rel = p.relative_to(root).as_posix()
            if p.suffix not in (".c", ".cc") or p.name in _SKIP_NAMES or \
                    any(s in rel for s in _SKIP_PARTS):
                continue
            if variant.kernels is not None and p.parent.name == "kernels" and \
                    p.stem.removesuffix("_common") not in variant.kernels:
                continue
            out.append(p)
    return out


def cache_key(tflm_dir: pathlib.Path, variant: Variant) -> str:
    """Hash of the tree's content (relative path + bytes of every file), compiler and flags.

    Content, not mtimes or the tree's location: a re-extracted or moved copy of the same
    tree (CI checkouts, a second worktree) reuses the built objects. Hashing the ~16 MB
    tree takes ~0.2 s. The flags are hashed with the tree path replaced by a placeholder.
    """
    h = hashlib.sha256()
    root = tflm_dir / variant.tree
    for p in sorted(root.rglob("*")):
        if p.is_file():
            h.update(f"{p.relative_to(root)}\0".encode())
            h.update(hashlib.sha256(p.read_bytes()).digest())
    flags = shlex.join([variant.cc, variant.cxx, *variant.compile_flags(tflm_dir, "c++"),
                        *variant.compile_flags(tflm_dir, "c")])
    h.update(flags.replace(str(tflm_dir), "<TFLM_DIR>").encode())
    h.update(_compiler_version(variant.cxx).encode())
    return h.hexdigest()[:16]


def _compiler_version(cxx: str) -> str:
    try:
        return subprocess.run([cxx, "--version"], capture_output=True, text=True,
                              check=True).stdout.splitlines()[0]
    except (OSError, subprocess.CalledProcessError) as e:
        raise RuntimeError(f"compiler {cxx!r} not usable ({e}); run `make micro-toolchain` "
                           "to install the Arm GNU toolchain") from e


def _compile(variant: Variant, tflm_dir: pathlib.Path, src: pathlib.Path,
             obj: pathlib.Path) -> None:
    if obj.exists():
        return
    lang = "c++" if src.suffix == ".cc" else "c"
    comp = variant.cxx if lang == "c++" else variant.cc
    obj.parent.mkdir(parents=True, exist_ok=True)
    tmp = obj.with_suffix(f".tmp{os.getpid()}.o")
    cmd = ["nice", "-n", "10", comp, *variant.compile_flags(tflm_dir, lang), "-w",
           "-c", str(src), "-o", str(tmp)]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"compiling {src} failed:\n{shlex.join(cmd)}\n{r.stderr[-4000:]}")
    tmp.replace(obj)   # atomic: an interrupted build never leaves a truncated object


def build_library(variant_name: str, tflm_dir: pathlib.Path | None = None,
                  jobs: int = 2, verbose: bool = False) -> pathlib.Path:
    """Return the cached ``libtflm.a`` for ``variant_name``, building it if needed."""
    if variant_name not in VARIANTS:
        raise ValueError(f"variant={variant_name!r}; choose one of {sorted(VARIANTS)}")
    variant = VARIANTS[variant_name]
    tflm_dir = tflm_dir or tflm_dir_from_env()
    # Objects are keyed by tree + flags; the archive also by the set of files in it.
    out_dir = CACHE_ROOT / f"{variant.name}-{cache_key(tflm_dir, variant)}"
    srcs = sources(tflm_dir, variant)
    root = tflm_dir / variant.tree
    set_key = hashlib.sha256("\n".join(s.relative_to(root).as_posix() for s in srcs)
                             .encode()).hexdigest()[:8]
    lib = out_dir / f"libtflm-{set_key}.a"
    if lib.exists():
        return lib
    objs = [out_dir / "obj" / (s.relative_to(root).as_posix().replace("/", "__") + ".o")
            for s in srcs]
    # Talk: the first build takes minutes (a line per ~10 % with the elapsed time;
    # `verbose`: every 25 files).
    start, step = time.monotonic(), 25 if verbose else max(1, len(srcs) // 10)
    progress.say(f"TFLM {variant.name}: compiling {len(srcs)} files with {jobs} jobs, first "
                 f"build only (cached in {out_dir})")
    with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
        futs = [pool.submit(_compile, variant, tflm_dir, s, o) for s, o in zip(srcs, objs)]
        for i, f in enumerate(concurrent.futures.as_completed(futs)):
            f.result()
            if (i + 1) % step == 0 and i + 1 < len(srcs):
                progress.say(f"TFLM {variant.name}: {i + 1}/{len(srcs)} files, "
                             f"{progress.elapsed(time.monotonic() - start)}")
    with tempfile.TemporaryDirectory(dir=out_dir) as td:
        tmp_lib = pathlib.Path(td) / "libtflm.a"
        subprocess.run([variant.ar, "rcs", str(tmp_lib), *map(str, objs)], check=True)
        (out_dir / "flags.txt").write_text(
            shlex.join(variant.compile_flags(tflm_dir, "c++")) + "\n")
        tmp_lib.replace(lib)
    progress.say(f"TFLM {variant.name}: library built in {progress.elapsed(time.monotonic() - start)}")
    return lib

"""Build the Cortex-M4F firmware (micro/harness) for one ``.tflite`` model and its inputs.

``build_firmware(model, inputs)`` generates ``ke_firmware_data.c`` (model and inputs as C
arrays, run configuration) and an op resolver with exactly the model's ops, compiles them
with the harness and links against the cached TFLM library (``tflm_build``). Harness,
project and resolver objects are cached by content, so a build for a new model usually
compiles one C file of arrays and links.
"""
from __future__ import annotations

import hashlib
import os
import pathlib
import shlex
import subprocess
import tempfile
from dataclasses import dataclass

import numpy as np

from keras_events import tflite_file
from keras_events.micro import model_ops, tflm_build

REPO_ROOT = tflm_build.REPO_ROOT
HARNESS = REPO_ROOT / "micro" / "harness"
GLUE = REPO_ROOT / "micro" / "tflm"
CORE = REPO_ROOT / "custom_ops" / "core"
OPTIONS = REPO_ROOT / "custom_ops" / "glue"  # glue headers shared with the host TFLite op
LINKER_SCRIPT = HARNESS / "an386.ld"
DEFAULT_ARENA = 64 * 1024

# numpy dtype -> TfLiteType enum value (tensorflow/lite/core/c/c_api_types.h)
TFLITE_TYPE = {np.dtype(np.float32): 1, np.dtype(np.int32): 2, np.dtype(np.uint8): 3,
               np.dtype(np.int64): 4, np.dtype(np.bool_): 6, np.dtype(np.int16): 7,
               np.dtype(np.int8): 9}
NUMPY_TYPE = {v: k for k, v in TFLITE_TYPE.items()}

HARNESS_SOURCES = [HARNESS / "startup.c", HARNESS / "semihost.c", HARNESS / "ke_counters.c",
                   GLUE / "ke_log.cc", GLUE / "ke_model_check.cc", GLUE / "ke_arena.cc"]
# Sources a project custom op needs, compiled only when the model uses the op.
CUSTOM_OP_SOURCES = {"KE_EGRU": [GLUE / "ke_egru.cc", CORE / "ke_egru.c",
                                 CORE / "ke_egru_tables.c"]}


@dataclass
class Firmware:
    elf: pathlib.Path
    model_bytes: int
    input_bytes: int
    arena_size: int
    ops: list


def _project_flags(variant: tflm_build.Variant, tflm_dir: pathlib.Path, lang: str) -> list[str]:
    return variant.compile_flags(tflm_dir, lang) + [
        f"-I{REPO_ROOT}", f"-I{HARNESS}", f"-I{CORE}", "-Wall"]


def _headers_digest() -> str:
    h = hashlib.sha256()
    for d in (HARNESS, GLUE, CORE, OPTIONS):
        for p in sorted(d.glob("*.h")):
            h.update(p.name.encode() + p.read_bytes())
    return h.hexdigest()


def compile_object(src: pathlib.Path, variant: tflm_build.Variant, tflm_dir: pathlib.Path,
                   extra: tuple = (), cache: bool = True, out_dir: pathlib.Path | None = None
                   ) -> pathlib.Path:
    """Compile one project source for ``variant``; cached by content of source, project
    headers and flags."""
    lang = "c++" if src.suffix == ".cc" else "c"
    comp = variant.cxx if lang == "c++" else variant.cc
    flags = _project_flags(variant, tflm_dir, lang) + list(extra)
    key = hashlib.sha256(src.read_bytes() + _headers_digest().encode() +
                         shlex.join([comp, *flags]).encode()).hexdigest()[:16]
    obj_dir = out_dir or (tflm_build.CACHE_ROOT.parent / "objects" / variant.name)
    obj_dir.mkdir(parents=True, exist_ok=True)
    obj = obj_dir / f"{src.stem}-{key}.o"
    if cache and obj.exists():
        return obj
    tmp = obj.with_suffix(f".tmp{os.getpid()}.o")
    cmd = [comp, *flags, "-c", str(src), "-o", str(tmp)]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"compiling {src} failed:\n{shlex.join(cmd)}\n{r.stderr[-6000:]}")
    tmp.replace(obj)
    return obj


def input_bytes(inputs) -> tuple[bytes, list[int]]:
    """Inputs in the order the firmware reads them: invoke-major, model input order.

    One array: its raw bytes (any shape; the firmware cuts it into invokes of the input
    tensor's size). Several arrays: axis 0 of each is the invoke index.
    """
    arrays = [np.ascontiguousarray(a) for a in (inputs if isinstance(inputs, (list, tuple))
                                                 else [inputs])]
    if not arrays:
        raise ValueError("inputs is empty; pass one numpy array per model input")
    for a in arrays:
        if a.dtype not in TFLITE_TYPE:
            raise ValueError(f"input dtype {a.dtype} is not supported; use one of "
                             f"{sorted(str(d) for d in TFLITE_TYPE)} matching the model input")
    types = [TFLITE_TYPE[a.dtype] for a in arrays]
    if len(arrays) == 1:
        return arrays[0].tobytes(), types
    n = arrays[0].shape[0]
    if any(a.shape[0] != n for a in arrays):
        raise ValueError("with several inputs, axis 0 (the invoke index) must match")
    return b"".join(a[i].tobytes() for i in range(n) for a in arrays), types


def _c_array(name: str, data: bytes) -> str:
    body = ",".join(str(b) for b in data) or "0"
    return f"__attribute__((aligned(16))) const uint8_t {name}[] = {{{body}}};\n"


def generate_data_source(model: bytes, inputs, reset_every: int, print_outputs: bool,
                         arena_size: int) -> str:
    """C source with the model, the inputs, the arena and the run configuration."""
    data, types = input_bytes(inputs)
    return (
        "/* Generated by keras_events/micro/firmware.py; do not edit. */\n"
        "#include <stddef.h>\n#include <stdint.h>\n"
        + _c_array("ke_model_data", model)
        + f"const size_t ke_model_size = {len(model)};\n"
        + _c_array("ke_input_data", data)
        + f"const size_t ke_input_size = {len(data)};\n"
        + f"const int ke_input_types[] = {{{','.join(map(str, types))}}};\n"
        + f"const size_t ke_num_input_types = {len(types)};\n"
        + f"const size_t ke_reset_every = {int(reset_every)};\n"
        + f"const size_t ke_print_outputs = {int(bool(print_outputs))};\n"
        + f"__attribute__((aligned(16))) uint8_t ke_arena[{int(arena_size)}];\n"
        + f"const size_t ke_arena_size = {int(arena_size)};\n")


def generate_ops_source(ops_calls: list[str]) -> str:
    """C++ source of ke_add_model_ops(): the resolver with exactly the model's ops."""
    adds = "\n".join(f"  if ({c} != kTfLiteOk) {{ MicroPrintf(\"cannot add op {i}\"); "
                     f"return false; }}" for i, c in enumerate(ops_calls))
    return ("// Generated by keras_events/micro/firmware.py; do not edit.\n"
            '#include "ke_firmware_data.h"\n#include "micro/tflm/ke_project_ops.h"\n'
            '#include "tensorflow/lite/micro/micro_log.h"\n'
            f"bool ke_add_model_ops(KeOpResolver& resolver) {{\n{adds}\n  return true;\n}}\n")


def build_firmware(model: bytes, inputs, out_dir: pathlib.Path | None = None,
                   arena_size: int = DEFAULT_ARENA, reset_every: int = 0,
                   print_outputs: bool = True, tflm_dir: pathlib.Path | None = None,
                   ops: list | None = None) -> Firmware:
    """Compile and link a firmware ELF that runs ``model`` on ``inputs``.

    Args:
      model: ``.tflite`` bytes.
      inputs: numpy array (or list, one per model input) of the model's input dtype.
      arena_size: TFLM tensor arena bytes (static array in RAM).
      reset_every: streaming: reset the model state every N invokes (0: never).
      print_outputs: print every output tensor (False for instruction-count benchmarks).
      ops: operator names to register instead of reading them from the model (tests feed
        corrupt models this way; the firmware must reject them itself).
    """
    if arena_size <= 0 or arena_size > 3 * 1024 * 1024:
        raise ValueError(f"arena_size={arena_size}; must be in (0, 3 MiB] (the board has 4 MiB RAM)")
    tflm_dir = tflm_dir or tflm_build.tflm_dir_from_env()
    variant = tflm_build.VARIANTS["m4"]
    ops = list(ops) if ops is not None else tflite_file.op_names(bytes(model))
    calls = model_ops.resolver_calls(ops, tflm_dir / variant.tree)
    lib = tflm_build.build_library("m4", tflm_dir)
    out_dir = pathlib.Path(out_dir or tempfile.mkdtemp(prefix="ke_fw_"))
    out_dir.mkdir(parents=True, exist_ok=True)

    data_src = out_dir / "ke_firmware_data.c"
    data_src.write_text(generate_data_source(bytes(model), inputs, reset_every, print_outputs,
                                             arena_size))
    # The resolver source depends only on the op list: generate it under a content-hashed
    # name in the object cache, so its (slow, template-heavy) compile happens once per list.
    ops_text = generate_ops_source(calls)
    gen_dir = tflm_build.CACHE_ROOT.parent / "objects" / "generated"
    gen_dir.mkdir(parents=True, exist_ok=True)
    ops_src = gen_dir / f"ke_ops_{hashlib.sha256(ops_text.encode()).hexdigest()[:16]}.cc"
    if not ops_src.exists():
        tmp = ops_src.with_suffix(f".tmp{os.getpid()}")
        tmp.write_text(ops_text)
        tmp.replace(ops_src)
    objs = [compile_object(s, variant, tflm_dir) for s in HARNESS_SOURCES]
    for op in ops:
        objs += [compile_object(s, variant, tflm_dir) for s in CUSTOM_OP_SOURCES.get(op, [])]
    objs.append(compile_object(HARNESS / "main.cc", variant, tflm_dir))
    objs.append(compile_object(ops_src, variant, tflm_dir))
    objs.append(compile_object(data_src, variant, tflm_dir, cache=False, out_dir=out_dir))

    elf = out_dir / "firmware.elf"
    cmd = [variant.cxx, *tflm_build.M4_ARCH, "-nostartfiles", "--specs=nano.specs",
           "--specs=nosys.specs", f"-T{LINKER_SCRIPT}", "-Wl,--gc-sections",
           f"-Wl,-Map={out_dir / 'firmware.map'}", *map(str, objs), str(lib), "-lm",
           "-o", str(elf)]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"linking firmware failed:\n{shlex.join(cmd)}\n{r.stderr[-6000:]}")
    data, _ = input_bytes(inputs)
    return Firmware(elf, len(model), len(data), arena_size, ops)


def symbol_address(elf: pathlib.Path, name: str) -> int:
    out = subprocess.run(["arm-none-eabi-nm", str(elf)], capture_output=True, text=True,
                         check=True).stdout
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[2] == name:
            return int(parts[0], 16) & ~1
    raise RuntimeError(f"symbol {name} not found in {elf}")


def memory_report(fw: Firmware) -> dict:
    """Flash = text + data (code, read-only data, the model, the embedded inputs); RAM =
    data + bss (includes the tensor arena) — from ``arm-none-eabi-size``."""
    out = subprocess.run(["arm-none-eabi-size", "-A", str(fw.elf)], capture_output=True,
                         text=True, check=True).stdout
    sizes = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0].startswith(".") and parts[1].isdigit():
            sizes[parts[0]] = int(parts[1])
    flash = sum(sizes.get(s, 0) for s in (".text", ".ARM.exidx", ".ARM.extab", ".data"))
    ram = sizes.get(".data", 0) + sizes.get(".bss", 0)
    return {"flash_bytes": flash, "flash_model_bytes": fw.model_bytes,
            "flash_code_bytes": flash - fw.model_bytes - fw.input_bytes,
            "static_ram_bytes": ram, "arena_size": fw.arena_size}

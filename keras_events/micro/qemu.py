"""Run firmware on QEMU (``mps2-an386``, ``microbit``) with the instruction-count plugin and
parse the result.

The firmware prints ``KE_*`` lines over semihosting (see micro/harness/main.cc); the plugin
(micro/qemu_plugin/insn_count.c) writes one ``KE_COUNT <i> <n>`` line per Invoke to a file.
Counts are guest *instructions* executed inside ``MicroInterpreter::Invoke``, exact and
identical across runs, with a ``KE_CLASSES`` line per Invoke: the same instructions by class
and a Cortex-M4 cycle estimate (QEMU models no timing; see ``CYCLE_MODEL``).
"""
from __future__ import annotations

import pathlib
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field

import numpy as np

from keras_events._native import progress
from keras_events._native.board import build_qemu_plugin as build_plugin  # noqa: F401
from keras_events.micro import firmware as fw_mod

MACHINE = "mps2-an386"

CLASSES = ("load_store", "multiply", "branch", "divide", "other")
# Pipeline refill of a taken branch on the Cortex-M4: 1..3 cycles (TRM table 3-1, "P").
REFILL_CYCLES = (1, 2, 3)
CYCLE_MODEL = (
    "Cortex-M4 TRM (DDI 0439) table 3-1 timings, zero-wait-state memory: ALU and every "
    "multiply/MAC 1 cycle, SDIV/UDIV 12 (worst case of 2-12), single loads 2 (1 when pipelined "
    "behind a single load, address dependencies not checked), single stores 1, LDRD/STRD 3, "
    "LDM/STM/PUSH/POP 1+N, TBB/TBH 2, FPU VMLA/VFMA 3, VDIV/VSQRT 14, other FPU 1; each taken "
    "branch adds a pipeline refill P = 2 cycles (range P = 1..3 in est_cycles_min/max)")


def instruction_classes(counts: list[int]) -> dict:
    """A plugin ``KE_CLASSES`` record (load_store multiply branch divide other taken cycles)
    as a dict with the cycle estimate (P = 2) and its range over P = 1..3."""
    if len(counts) != len(CLASSES) + 2:
        raise ValueError(f"KE_CLASSES needs {len(CLASSES) + 2} counts, got {len(counts)}")
    d = dict(zip(CLASSES, counts))
    taken, base = counts[len(CLASSES)], counts[len(CLASSES) + 1]
    lo, mid, hi = (base + p * taken for p in REFILL_CYCLES)
    d.update(taken_branches=taken, base_cycles=base, est_cycles=mid, est_cycles_min=lo,
             est_cycles_max=hi)
    return d


class FirmwareError(RuntimeError):
    """The firmware reported an error or exited non-zero; ``result`` has the details."""

    def __init__(self, message: str, result: "RunResult"):
        super().__init__(message)
        self.result = result


@dataclass
class RunResult:
    exit_code: int
    outputs: list = field(default_factory=list)        # per invoke: list of np arrays
    instructions: list = field(default_factory=list)   # per invoke
    classes: list = field(default_factory=list)        # per invoke: instruction_classes() dict
    arena_used_bytes: int | None = None
    stack_used_bytes: int | None = None                 # microbit: deepest stack use
    errors: list = field(default_factory=list)
    log: list = field(default_factory=list)             # non-KE lines (TFLM messages)
    done: bool = False
    timed_out: bool = False

    @property
    def ok(self) -> bool:
        return self.exit_code == 0 and self.done and not self.errors

    def reason(self) -> str:
        parts = self.errors + [l for l in self.log if l.strip()]
        if self.timed_out:
            parts.append("timed out")
        return "; ".join(parts) or f"exit code {self.exit_code}"


def _decode(type_code: int, values: list[str]) -> np.ndarray:
    dtype = fw_mod.NUMPY_TYPE.get(type_code, np.dtype(np.float32))
    if dtype == np.float32:
        return np.array([int(v, 16) for v in values], dtype=np.uint32).view(np.float32)
    return np.array([int(v) for v in values], dtype=dtype)


def parse_output(stdout: str, counts_text: str, exit_code: int) -> RunResult:
    res = RunResult(exit_code=exit_code)
    for line in stdout.splitlines():
        parts = line.split()
        if not parts:
            continue
        tag = parts[0]
        if tag == "KE_OUT":
            i, k, t, shape = int(parts[1]), int(parts[2]), int(parts[3]), parts[4]
            arr = _decode(t, parts[5:])
            dims = [] if shape == "-" else [int(d) for d in shape.split("x")]
            if int(np.prod(dims)) == arr.size:
                arr = arr.reshape(dims)
            while len(res.outputs) <= i:
                res.outputs.append([])
            res.outputs[i].append(arr)
        elif tag == "KE_ARENA_USED":
            res.arena_used_bytes = int(parts[1])
        elif tag == "KE_STACK_USED":
            res.stack_used_bytes = int(parts[1])
        elif tag == "KE_DONE":
            res.done = True
        elif tag == "KE_ERROR":
            res.errors.append(line[len("KE_ERROR "):].strip())
        elif tag in ("KE_INPUTS", "KE_INVOKE"):
            pass
        else:
            res.log.append(line.strip())
    for line in counts_text.splitlines():
        parts = line.split()
        if parts and parts[0] == "KE_COUNT":
            res.instructions.append(int(parts[2]))
        elif parts and parts[0] == "KE_CLASSES":
            res.classes.append(instruction_classes([int(v) for v in parts[2:]]))
        elif parts and parts[0] == "KE_COUNT_ERROR":
            res.errors.append(line)
    return res


def run_firmware(elf: pathlib.Path, timeout: float = 120.0, count: bool = True,
                 check: bool = True, machine: str = MACHINE) -> RunResult:
    """Run ``elf`` on QEMU ``machine`` (a board's, ``keras_events._native.board.BOARDS``);
    raise FirmwareError (with the firmware's reason) on failure unless ``check`` is False."""
    if shutil.which("qemu-system-arm") is None:
        raise RuntimeError("qemu-system-arm not found; run `make micro-toolchain`")
    with tempfile.TemporaryDirectory(prefix="ke_qemu_") as td:
        counts = pathlib.Path(td) / "counts.txt"
        cmd = ["qemu-system-arm", "-M", machine, "-nographic", "-monitor", "none",
               "-semihosting-config", "enable=on,target=native", "-kernel", str(elf)]
        if count:
            begin = fw_mod.symbol_address(elf, "ke_count_begin")
            end = fw_mod.symbol_address(elf, "ke_count_end")
            cmd += ["-plugin", f"{build_plugin()},begin={begin:#x},end={end:#x},out={counts}"]
        start = time.monotonic()
        try:
            r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
            stdout, code, timed_out = r.stdout + r.stderr, r.returncode, False
        except subprocess.TimeoutExpired as e:
            stdout = (e.stdout or b"").decode(errors="replace") if isinstance(e.stdout, bytes) \
                else (e.stdout or "")
            code, timed_out = -1, True
        counts_text = counts.read_text() if counts.exists() else ""
    res = parse_output(stdout, counts_text, code)
    res.timed_out = timed_out
    progress.say(f"QEMU {machine}: {max(len(res.outputs), len(res.instructions))} invokes, "
                 f"exit {code}{' (timed out)' if timed_out else ''} "
                 f"({progress.elapsed(time.monotonic() - start)})")
    if check and not res.ok:
        raise FirmwareError(f"firmware failed (exit {code}): {res.reason()}", res)
    return res


def run_model(model: bytes, inputs, arena_size: int | None = fw_mod.DEFAULT_ARENA,
              reset_every: int = 0, print_outputs: bool = True, timeout: float = 120.0,
              check: bool = True, out_dir=None, ops=None, board: str = MACHINE
              ) -> tuple[RunResult, dict]:
    """Build the firmware for ``model`` + ``inputs`` on ``board``, run it, return (result,
    memory report); ``arena_size`` None: the board's default."""
    with tempfile.TemporaryDirectory(prefix="ke_fw_") as td:
        fw = fw_mod.build_firmware(model, inputs, out_dir=out_dir or td, arena_size=arena_size,
                                   reset_every=reset_every, print_outputs=print_outputs, ops=ops,
                                   board=board)
        mem = fw_mod.memory_report(fw)
        res = run_firmware(fw.elf, timeout=timeout, check=check,
                           machine=fw_mod.board_spec(board).machine)
    if res.arena_used_bytes is not None:
        mem["arena_used_bytes"] = res.arena_used_bytes
    if res.stack_used_bytes is not None:
        mem["stack_used_bytes"] = res.stack_used_bytes
    if res.arena_used_bytes is not None and "stack_bytes" in mem:
        # what the run needed: static data without the unused arena, plus the deepest stack
        mem["ram_used_bytes"] = (mem["static_ram_bytes"] - fw.arena_size + res.arena_used_bytes
                                 + (res.stack_used_bytes or mem["stack_bytes"]))
    return res, mem

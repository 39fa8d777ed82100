"""The project's dense int8 GRU kernel with SMLAD dual MACs (``custom_ops/core/ke_dense_smlad.c``)
run on the emulated Cortex-M4 (QEMU mps2-an386): the honest "dense recurrent kernel" row of
``benchmarks/micro_bench.py`` and of the recipe's cost table (issues 17 and 18).

The firmware (``benchmarks/micro/dense_smlad_main.c``) runs ``steps`` steps of the kernel
between the instruction-count markers (kernel only: no TFLM invoke overhead, no classifier
head), then checks its outputs bit for bit against the event kernel ``ke_egru_i8_step``
storing every weight, and fails on a difference. Weights and inputs come from a fixed LCG:
the kernel does the same work whatever the values (every weight, every unit, every step).
"""
import pathlib
import tempfile

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]
MAIN = REPO_ROOT / "benchmarks" / "micro" / "dense_smlad_main.c"
UNIT_WORDS = 7  # KE_EGRU_UNIT_WORDS: int32 constants per unit


def _pad4(n):
    return (n + 3) & ~3


def elf(units, features, steps, out_dir):
    """Builds the firmware for ``units`` x ``features`` and ``steps`` steps; returns the ELF."""
    from keras_events._native import board
    from keras_events._native.paths import CORE

    out_dir = pathlib.Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    inc = [CORE, board.HARNESS]
    defs = (f"-DKE_UNITS={units}", f"-DKE_FEATURES={features}", f"-DKE_STEPS={steps}")
    objs = [board.compile_m4_c(MAIN, inc, cache=False, out_dir=out_dir, extra=defs)]
    objs += [board.compile_m4_c(CORE / f, inc) for f in (
        "ke_dense_smlad.c", "ke_egru.c", "ke_sparse.c", "ke_fixed.c", "ke_lut_tables.c")]
    objs += [board.compile_m4_c(board.HARNESS / f, inc)
             for f in ("startup.c", "semihost.c", "ke_counters.c")]
    return board.link_firmware(objs, out_dir, name="dense_smlad.elf", linker="arm-none-eabi-gcc")


def memory(units, features):
    """What a deployment of the kernel holds (bytes; code not included): flash = the int8
    weights, one row of 4-padded inputs per gate column, + the int32 biases and per-unit
    constants; RAM = the state (c_hat int16, y int8, active list int16) + the int16 and
    int32 scratch of ``ke_dense_i8_step``."""
    g = 3 * units
    flash = g * (_pad4(features) + _pad4(units)) + 2 * g * 4 + units * UNIT_WORDS * 4
    ram = units * (2 + 1 + 2) + 2 * _pad4(max(features, units)) + 6 * units * 4
    return {"flash_bytes": flash, "ram_bytes": ram}


def measure(units, features, steps, timeout=900):
    """{instructions, est_cycles (whole run of ``steps`` steps), per-step values, instruction
    classes per step, flash/RAM (``memory``)}; raises FirmwareError when the kernel's outputs
    differ from the event kernel's."""
    from keras_events.micro import qemu

    with tempfile.TemporaryDirectory(prefix="ke_dense_smlad_") as td:
        res = qemu.run_firmware(elf(units, features, steps, td), timeout=timeout)
    c = res.classes[0]
    return {"instructions": int(res.instructions[0]), "est_cycles": float(c["est_cycles"]),
            "instructions_per_step": res.instructions[0] / steps,
            "est_cycles_per_step": c["est_cycles"] / steps,
            "est_cycles_range_per_step": [c["est_cycles_min"] / steps,
                                          c["est_cycles_max"] / steps],
            "classes_per_step": {k: c[k] / steps for k in (*qemu.CLASSES, "taken_branches")},
            "steps": steps, **memory(units, features)}

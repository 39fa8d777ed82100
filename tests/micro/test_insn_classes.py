"""Instruction classes and the Cortex-M4 cycle estimate of the QEMU plugin
(micro/qemu_plugin/thumb_class.h), checked on a hand-written image with a known mix."""
import pathlib
import subprocess

import numpy as np
import pytest

from keras_events.micro import qemu

MIX = pathlib.Path(__file__).parent / "data" / "insn_mix.S"


def _need_toolchain():
    from prereq import require_tools
    require_tools("arm-none-eabi-gcc", "qemu-system-arm", fix="make micro-toolchain")


def _mix_image(tmp_path, loops):
    elf = tmp_path / f"mix{loops}.elf"
    subprocess.run(["arm-none-eabi-gcc", "-mcpu=cortex-m4", "-mthumb", "-nostdlib",
                    "-nostartfiles", f"-DLOOPS={loops}", "-x", "assembler-with-cpp", str(MIX),
                    "-Wl,-ereset", "-Wl,--section-start=.vectors=0", "-Wl,-Ttext=0x100",
                    "-Wl,-Tbss=0x20000000", "-o", str(elf)], check=True)
    return elf


@pytest.mark.qemu
@pytest.mark.parametrize("loops", [1, 37, 200])
def test_known_mix_gives_exact_classes_and_cycles(tmp_path, loops):
    _need_toolchain()
    res = qemu.run_firmware(_mix_image(tmp_path, loops), timeout=60, check=False)
    assert res.exit_code == 0 and len(res.instructions) == len(res.classes) == 1
    c = res.classes[0]
    # Region: the loop, the BL to the end marker and one marker's BX LR (see insn_count.c).
    n = loops
    assert res.instructions[0] == 8 * n + 2
    assert {k: c[k] for k in qemu.CLASSES} == {
        "load_store": 3 * n, "multiply": 2 * n, "branch": n + 2, "divide": n, "other": n}
    assert sum(c[k] for k in qemu.CLASSES) == res.instructions[0]
    # taken: BNE n-1 times, the return from the begin marker, the BL to the end marker
    assert c["taken_branches"] == n + 1
    # per iteration 1 + 1 + 2 + 1 (pipelined load) + 1 (store) + 12 + 1 + 1; + BL + BX
    assert c["base_cycles"] == 20 * n + 2
    assert (c["est_cycles_min"], c["est_cycles"], c["est_cycles_max"]) == \
        tuple(20 * n + 2 + p * (n + 1) for p in (1, 2, 3))


def test_parse_classes_line():
    res = qemu.parse_output("KE_DONE\n", "KE_COUNT 0 20\nKE_CLASSES 0 5 4 3 2 6 3 30\n", 0)
    assert res.instructions == [20]
    assert res.classes[0]["multiply"] == 4 and res.classes[0]["est_cycles"] == 36
    with pytest.raises(ValueError, match="KE_CLASSES"):
        qemu.instruction_classes([1, 2])


@pytest.mark.tflm
@pytest.mark.qemu
def test_tflm_invoke_classes_sum_to_instructions(tflm_m4, fc_int8):
    from keras_events.micro import run
    model, x, _ = fc_int8
    r = run(model, x[:2], arena_size=16 * 1024)
    assert len(r.instruction_classes) == len(r.instructions) == 2
    for n, c in zip(r.instructions, r.instruction_classes):
        assert sum(c[k] for k in qemu.CLASSES) == n
        assert c["multiply"] > 0 and c["load_store"] > 0 and c["taken_branches"] > 0
        assert n < c["est_cycles_min"] <= c["est_cycles"] <= c["est_cycles_max"]
    assert r.est_cycles == [c["est_cycles"] for c in r.instruction_classes]
    assert np.all(np.array(r.instructions) > 1000)

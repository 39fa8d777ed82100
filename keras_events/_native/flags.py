"""Compiler flags of every native build, defined once.

Cortex-M4F (``M4_ARCH``, ``M4_DEFS``) is used for the TFLM library, the firmware, the
log-mel front end on the board and the Arduino-library compile test; Cortex-M0
(``M0_ARCH``, ``M0_DEFS``) for the ARMv6-M TFLM library and the ``microbit`` firmware; the
host flags for the op libraries, the C unit tests and the host TFLM library.
"""
from __future__ import annotations

# --- Cortex-M4F (QEMU mps2-an386) -------------------------------------------------------
M4_ARCH = ["-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=hard", "-mfpu=fpv4-sp-d16"]
M4_DEFS = ["-DCMSIS_NN", "-DTF_LITE_MCU_DEBUG_LOG", "-DARM_NN_ENABLE_F16=0",
           "-DARM_NN_ENABLE_F32=0", "-DCPU_M4=1", "-DARMCM4",
           '-DCMSIS_DEVICE_ARM_CORTEX_M_XX_HEADER_FILE="ARMCM4.h"', "-funsigned-char"]
M4_OPT = ["-O2", "-ffunction-sections", "-fdata-sections"]
# Linking a bare-metal image: newlib-nano, no start files (micro/harness/startup.c).
M4_LINK = [*M4_ARCH, "-nostartfiles", "--specs=nano.specs", "--specs=nosys.specs",
           "-Wl,--gc-sections"]

# --- Cortex-M0 (QEMU microbit: nRF51822, ARMv6-M, no FPU, no DSP) -----------------------
M0_ARCH = ["-mcpu=cortex-m0", "-mthumb", "-mfloat-abi=soft"]
# TFLM's reference kernels (the ref/ tree: CMSIS-NN's fast paths need the DSP extension the
# M0 lacks); the same log sink as the M4 firmware.
M0_DEFS = ["-DTF_LITE_MCU_DEBUG_LOG", "-funsigned-char"]
M0_OPT = M4_OPT

# --- TFLM (every target) ------------------------------------------------------------------
TFLM_DEFS = ["-DTF_LITE_STATIC_MEMORY"]
TFLM_CXX = ["-std=c++17", "-fno-rtti", "-fno-exceptions", "-fno-threadsafe-statics"]
TFLM_C = ["-std=c17"]

# --- host (x86-64) ------------------------------------------------------------------------
# -fno-trapping-math: lets gcc if-convert (vectorize) the float gate loop; values unchanged.
HOST_C = ["-std=c99", "-O3", "-fno-trapping-math", "-Wall", "-Wextra", "-fPIC"]
HOST_CXX = ["-std=c++17", "-O3", "-Wall", "-Wextra", "-fPIC", "-fvisibility=hidden"]
TEST_C = ["-std=c99", "-O2", "-Wall", "-Wextra"]
SANITIZE = ["-fsanitize=address,undefined", "-fno-omit-frame-pointer",
            "-fno-sanitize-recover=undefined"]
SANITIZE_OPT = ["-O1", "-g"]

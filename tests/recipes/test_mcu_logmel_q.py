"""The fixed-point front end on the emulated Cortex-M4 is bit-exact with the same C file
on the host (the DSP-extension instructions vs their C twins in ke_dsp16.h).

Missing toolchain: skipped on a developer machine, a failure under CI (``CI`` set), so a
CI image without arm-none-eabi-gcc/QEMU cannot pass silently.
"""

import os

import numpy as np
import pytest

from recipes.kws import mcu_frontend
from recipes.kws.logmel_q import CLogMelQ
from test_logmel_q import speech_like_clip  # same folder (pytest rootdir-relative import)


def _require_board():
    ok, why = mcu_frontend.available("q15")
    if not ok:
        if os.environ.get("CI"):
            pytest.fail(f"CI needs the M4 toolchain for the front-end check: {why}")
        pytest.skip(why)


def test_board_is_bit_exact_with_host(tmp_path):
    _require_board()
    rng = np.random.default_rng(5)
    # Speech-like, then a quiet stretch (small block exponent), then full-scale noise with
    # -32768 (the largest exponent and the SSUB16/SEL |x| edge case).
    clip = np.concatenate([
        speech_like_clip(),
        np.round(speech_like_clip(seed=3) * 0.003).astype(np.int16)[:4000],
        np.clip(rng.standard_normal(4000) * 20000, -32768, 32767).astype(np.int16),
    ])
    clip[-100] = -32768
    board = mcu_frontend.run_on_board(clip, build_dir=str(tmp_path), frontend="q15")
    host = CLogMelQ(build_dir=str(tmp_path)).clip(clip)
    assert board.features.dtype == np.int16
    assert board.features.shape == host.shape
    assert np.array_equal(board.features, host)
    hops = len(clip) // mcu_frontend.HOP
    assert len(board.hop_instructions) == hops
    assert board.state_bytes == CLogMelQ.state_size(build_dir=str(tmp_path))
    print(f"M4 q15 front end: {board.instructions_per_frame:.0f} instructions/frame, "
          f"init {board.init_instructions}, state {board.state_bytes} B, "
          f"flash {board.flash_bytes} B")

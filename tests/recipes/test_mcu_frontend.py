"""The C front end on the emulated Cortex-M4 computes the features the model was trained on.

Measured: board vs host C max abs diff ~5e-7 (newlib vs glibc logf), board vs
librosa ~2e-5; ~57k guest instructions per 10 ms frame, ~3.1M once for init.
"""

import numpy as np
import pytest

from recipes.kws import features, mcu_frontend
from recipes.kws.logmel_c import CLogMel


@pytest.fixture(autouse=True)
def _toolchain():
    """Only a missing tool skips (fails in CI, tests/prereq.py): a missing source file or
    a broken import is a regression and fails in the test below."""
    from prereq import require_tools
    require_tools("arm-none-eabi-gcc", "qemu-system-arm", "arm-none-eabi-nm", fix="make micro-toolchain")


def test_available_when_the_tools_are():
    assert mcu_frontend.available() == (True, "")


def _speech_like_clip():
    """A deterministic 1 s test signal: a gliding harmonic tone in noise, int16."""
    rng = np.random.default_rng(0)
    t = np.arange(16000) / 16000
    f0 = 120 + 80 * t
    voiced = sum(np.sin(2 * np.pi * h * np.cumsum(f0) / 16000) / h for h in range(1, 8))
    envelope = np.exp(-((t - 0.5) / 0.15) ** 2)
    audio = 0.4 * envelope * voiced + 0.01 * rng.standard_normal(16000)
    return np.round(np.clip(audio, -1, 1) * 32767).astype(np.int16)


def test_board_features_match_host_and_librosa(tmp_path):
    clip = _speech_like_clip()
    mean, std = -4.24, 4.27
    board = mcu_frontend.run_on_board(clip, norm_mean=mean, norm_scale=1.0 / std,
                                      build_dir=str(tmp_path))
    host = CLogMel(norm_mean=mean, norm_scale=1.0 / std, build_dir=str(tmp_path)).clip(clip)
    python = features.standardize(features.log_mel(clip / 32768.0), mean, std)
    frames = features.num_frames(len(clip))
    assert board.features.shape == (frames, features.N_MELS)
    assert np.abs(board.features - host).max() <= 1e-5
    assert np.abs(board.features - python).max() <= 1e-3
    scale, zero_point = 0.05, 0
    q_board = features.quantize_int8(board.features, scale, zero_point)
    assert np.mean(q_board == features.quantize_int8(python, scale, zero_point)) >= 0.99

    # One call per hop: the first (window - hop) / hop calls only fill the window, then
    # one frame per call at a fixed cost (the same FFT and filterbank every frame).
    hops = len(clip) // mcu_frontend.HOP
    filling = hops - frames
    assert len(board.hop_instructions) == hops
    assert filling == (features.WINDOW - mcu_frontend.HOP) // mcu_frontend.HOP
    assert max(board.hop_instructions[:filling]) < 0.05 * board.instructions_per_frame
    producing = np.asarray(board.hop_instructions[filling:])
    assert producing.max() <= 1.05 * producing.min()
    assert board.state_bytes == CLogMel.state_size(build_dir=str(tmp_path))
    print(f"M4: {board.instructions_per_frame:.0f} instructions/frame, init "
          f"{board.init_instructions}, state {board.state_bytes} B, flash {board.flash_bytes} B")

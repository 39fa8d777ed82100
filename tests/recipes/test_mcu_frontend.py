"""The C front end on the emulated Cortex-M4 computes the features the model was trained on.

Measured: board vs host C max abs diff ~5e-7 (newlib vs glibc logf), board vs
librosa ~2e-5; ~57k guest instructions per 10 ms frame, ~3.1M once for init.
"""

import numpy as np
import pytest

from recipes.kws import features, mcu_frontend
from recipes.kws.logmel_c import CLogMel

OK, WHY = mcu_frontend.available()
pytestmark = pytest.mark.skipif(not OK, reason=WHY)


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
    assert board.features.shape == (98, 40)
    assert np.abs(board.features - host).max() <= 1e-5
    assert np.abs(board.features - python).max() <= 1e-3
    scale, zero_point = 0.05, 0
    q_board = features.quantize_int8(board.features, scale, zero_point)
    assert np.mean(q_board == features.quantize_int8(python, scale, zero_point)) >= 0.99

    # Two window-filling calls, then one frame per hop at a fixed cost.
    assert len(board.hop_instructions) == 100
    assert max(board.hop_instructions[:2]) < 0.05 * board.instructions_per_frame
    assert 0 < board.instructions_per_frame < 200_000
    assert board.state_bytes == CLogMel.state_size(build_dir=str(tmp_path))
    print(f"M4: {board.instructions_per_frame:.0f} instructions/frame, init "
          f"{board.init_instructions}, state {board.state_bytes} B, flash {board.flash_bytes} B")

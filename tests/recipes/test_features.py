"""The log-mel front end: librosa (training) and C (board) agree.

Measured on the tiny generated dataset (speech + noise), background noise and
silence: max |C - Python| on log-mel is ~1.2e-4 (asserted <= 1e-3), and the
int8-quantised features are equal on >= 99.9 % of bins (asserted >= 99 %).

A noiseless full-scale pure tone is the worst case: bands far from the tone hold
only ~1e-6 of power, where the float32 FFT's rounding (~1e-7 of the frame's total
magnitude) shows in the log: ~1.2e-3 there (asserted <= 5e-3, separately).
"""

import os
import subprocess

import numpy as np
import pytest
import soundfile

from keras_events.micro.tflm_build import M4_ARCH
from recipes.kws import features
from recipes.kws.logmel_c import SOURCE, CLogMel

ARM_FLAGS = [*M4_ARCH, "-std=c99", "-Wall", "-Wextra", "-Werror", "-O2", "-c"]


@pytest.fixture(scope="module")
def frontend(tmp_path_factory):
    from prereq import require_tools
    require_tools(os.environ.get("CC", "gcc"), fix="a host C compiler")
    return CLogMel(build_dir=str(tmp_path_factory.mktemp("logmel_build")))


def _clips(root):
    """int16 test signals: every generated wav, noise windows, silence, a loud tone."""
    clips = []
    for dirpath, _, names in sorted(os.walk(root)):
        for name in sorted(names):
            if name.endswith(".wav"):
                audio, _ = soundfile.read(os.path.join(dirpath, name), dtype="int16")
                clips.append(audio[:32000])  # noise files: 2 s (97 + 100 frames)
    clips.append(np.zeros(16000, np.int16))
    return clips


def _full_scale_tone():
    t = np.arange(16000) / 16000
    return np.round(32767 * np.sin(2 * np.pi * 1000 * t)).astype(np.int16)


def test_python_front_end_shape_and_definition():
    rng = np.random.default_rng(0)
    audio = rng.uniform(-0.5, 0.5, 16000).astype(np.float32)
    feats = features.log_mel(audio)
    assert feats.shape == (98, 40) and feats.dtype == np.float32
    assert features.log_mel(np.stack([audio, audio])).shape == (2, 98, 40)
    # Definition: Hann(480) frames at hop 160, |rfft_512|^2, HTK mel, log(. + eps).
    window = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(480) / 480)
    frames = np.stack([audio[160 * t:160 * t + 480] * window for t in range(98)])
    power = np.abs(np.fft.rfft(frames, 512)) ** 2
    reference = np.log(power @ features.mel_filterbank().T.astype(np.float64) + 1e-6)
    np.testing.assert_allclose(feats, reference, atol=1e-4)
    assert features.num_frames(16000) == 98 and features.num_frames(479) == 0


def test_c_matches_python(frontend, tiny_dataset):
    max_diff, equal, total = 0.0, 0, 0
    for clip in _clips(tiny_dataset):
        c = frontend.clip(clip)
        py = features.log_mel(clip.astype(np.float32) / 32768.0)
        assert c.shape == py.shape
        max_diff = max(max_diff, float(np.abs(c - py).max()))
        qc = frontend.quantize(c, features.INT8_SCALE, features.INT8_ZERO_POINT)
        np.testing.assert_array_equal(
            frontend.quantize(py, features.INT8_SCALE, features.INT8_ZERO_POINT),
            features.quantize_int8(py))  # the two quantisers are the same function
        equal += int((qc == features.quantize_int8(py)).sum())
        total += qc.size
    print(f"C vs librosa: max abs diff {max_diff:.2e}, int8 equal {equal / total:.5%}")
    assert max_diff <= 1e-3
    assert equal / total >= 0.99


def test_c_matches_python_on_full_scale_tone(frontend):
    tone = _full_scale_tone()
    c, py = frontend.clip(tone), features.log_mel(tone / 32768.0)
    assert np.abs(c - py).max() <= 5e-3
    assert c.max() < (127 - features.INT8_ZERO_POINT) * features.INT8_SCALE  # no saturation
    assert np.mean(frontend.quantize(c, features.INT8_SCALE, features.INT8_ZERO_POINT)
                   == features.quantize_int8(py)) >= 0.99


def test_c_standardisation_matches_python(frontend, tmp_path):
    mean, std = -4.24, 4.27
    normed = CLogMel(norm_mean=mean, norm_scale=1.0 / std, build_dir=str(tmp_path))
    rng = np.random.default_rng(2)
    clip = (rng.standard_normal(16000) * 3000).astype(np.int16)
    expected = features.standardize(frontend.clip(clip), mean, std)
    np.testing.assert_allclose(normed.clip(clip), expected, atol=1e-5)
    with pytest.raises(ValueError, match="invalid config"):
        CLogMel(norm_scale=0.0, build_dir=str(tmp_path))


def test_streaming_equals_whole_clip(frontend):
    rng = np.random.default_rng(1)
    clip = rng.integers(-20000, 20000, 16000).astype(np.int16)
    frontend.reset()
    streamed = [frontend.frame(clip[i:i + 160]) for i in range(0, 16000, 160)]
    assert streamed[0] is None and streamed[1] is None and streamed[2] is not None
    np.testing.assert_array_equal(np.stack(streamed[2:]), frontend.clip(clip))


def test_bad_arguments_are_errors_not_crashes(frontend, tmp_path):
    with pytest.raises(ValueError, match="invalid config"):
        CLogMel(fmax_hz=9000.0, build_dir=str(tmp_path))
    with pytest.raises(ValueError, match="invalid config"):
        CLogMel(num_mels=0, build_dir=str(tmp_path))
    with pytest.raises(ValueError, match="invalid quantization"):
        frontend.quantize(np.zeros(3, np.float32), 0.0, 0)
    with pytest.raises(ValueError, match="invalid quantization"):
        frontend.quantize(np.zeros(3, np.float32), 0.1, 200)
    assert frontend.clip(np.zeros(100, np.int16)).shape == (0, 40)
    q = frontend.quantize(np.array([np.nan, 1e30, -1e30], np.float32), 0.1, 0)
    assert q.tolist() == [-128, 127, -128]


def test_compiles_for_cortex_m4(tmp_path):
    from prereq import require_tools
    require_tools("arm-none-eabi-gcc", fix="make micro-toolchain")
    subprocess.run(["arm-none-eabi-gcc", *ARM_FLAGS, SOURCE, "-o", str(tmp_path / "m4.o")],
                   check=True)

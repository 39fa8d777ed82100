"""Log-mel front end, identical to the C front end in custom_ops/core/ke_logmel.c.

Definition (both implementations):

* input 16 kHz audio, float = int16 / 32768;
* frames of 480 samples (30 ms) every 160 samples (10 ms), no centering, so a 1 s
  clip gives 1 + (16000 - 480) // 160 = 98 frames;
* periodic Hann window of length 480 (``0.5 - 0.5 cos(2 pi n / 480)``), frame
  zero-padded to a 512-point FFT, power spectrum ``|X_k|^2``, k = 0..256;
* 40 triangular mel filters on the HTK mel scale ``mel = 2595 log10(1 + f / 700)``,
  band edges equally spaced in mel between ``FMIN`` = 20 Hz and ``FMAX`` = 8000 Hz,
  unnormalised (peak 1; ``librosa.filters.mel(htk=True, norm=None)``);
* ``log(mel + EPS)`` with the natural log and ``EPS`` = 1e-6;
* optionally standardised, ``(x - mean) * scale`` with ``scale = 1 / std`` in
  float32 (:func:`standardize`; C: ``norm_mean``, ``norm_scale``).

librosa frames a signal in windows of ``n_fft`` = 512 with the 480-point window
centred in it, so we pad the clip by 16 zeros on each side: frame t then windows
exactly the samples [160 t, 160 t + 480) of the clip, which is what the C code does.

Optional int8 output: ``q = clamp(round(x / scale) + zero_point, -128, 127)`` (round
half away from zero, as C's ``roundf``).
"""

import numpy as np

SAMPLE_RATE = 16000
WINDOW = 480
HOP = 160
N_FFT = 512
N_MELS = 40
FMIN = 20.0
FMAX = 8000.0
EPS = 1e-6
# Default int8 quantisation of log-mel values: covers [log(EPS), 10.2] = [-13.8, 10.2]
# (a full-scale tone reaches ~10).
INT8_SCALE = 24.0 / 255.0
INT8_ZERO_POINT = 19


def num_frames(num_samples):
    """Frames produced from ``num_samples`` samples (0 if shorter than one window)."""
    return 0 if num_samples < WINDOW else 1 + (num_samples - WINDOW) // HOP


def mel_filterbank():
    """The (40, 257) float32 mel weight matrix used by both front ends."""
    import librosa

    return librosa.filters.mel(sr=SAMPLE_RATE, n_fft=N_FFT, n_mels=N_MELS, fmin=FMIN,
                               fmax=FMAX, htk=True, norm=None)


def log_mel(audio):
    """Log-mel features of float audio.

    Args:
      audio: (..., T) float array at 16 kHz in [-1, 1] (int16 / 32768).

    Returns:
      (..., num_frames(T), 40) float32.
    """
    import librosa

    audio = np.asarray(audio, np.float32)
    if audio.shape[-1] < WINDOW:
        raise ValueError(f"audio has {audio.shape[-1]} samples, need at least {WINDOW}.")
    pad = (N_FFT - WINDOW) // 2
    padded = np.pad(audio, [(0, 0)] * (audio.ndim - 1) + [(pad, pad)])
    mel = librosa.feature.melspectrogram(
        y=padded, sr=SAMPLE_RATE, n_fft=N_FFT, hop_length=HOP, win_length=WINDOW,
        window="hann", center=False, power=2.0, n_mels=N_MELS, fmin=FMIN, fmax=FMAX,
        htk=True, norm=None)
    features = np.log(mel + EPS).astype(np.float32)
    return np.swapaxes(features, -1, -2)


def quantize_int8(features, scale=INT8_SCALE, zero_point=INT8_ZERO_POINT):
    """int8 quantisation matching ``ke_logmel_quantize`` in C."""
    if not scale > 0:
        raise ValueError(f"scale={scale} must be > 0.")
    x = np.asarray(features, np.float32) / np.float32(scale)
    q = np.sign(x) * np.floor(np.abs(x) + 0.5) + zero_point  # roundf: half away from zero
    return np.clip(q, -128, 127).astype(np.int8)


def standardize(features, mean, std):
    """``(features - mean) * (1 / std)`` in float32, as the C front end computes it."""
    if not std > 0:
        raise ValueError(f"std={std} must be > 0.")
    return ((np.asarray(features, np.float32) - np.float32(mean))
            * np.float32(1.0 / std)).astype(np.float32)


def log_mel_batched(audio, batch_size=256):
    """``log_mel`` over a large (N, T) array in batches (bounded memory)."""
    audio = np.asarray(audio, np.float32)
    out = np.empty((audio.shape[0], num_frames(audio.shape[1]), N_MELS), np.float32)
    for i in range(0, audio.shape[0], batch_size):
        out[i:i + batch_size] = log_mel(audio[i:i + batch_size])
    return out

"""Offline acoustic-event dataset in the ESC-50 layout, synthesized procedurally.

Layout (as Piczak's ESC-50, "ESC: Dataset for Environmental Sound Classification",
ACM MM 2015): ``meta/esc50.csv`` with the columns ``filename, fold, target, category,
esc10, src_file, take`` and ``audio/<fold>-<src_file>-<take>-<target>.wav``, 5 s mono
16-bit clips, 5 folds with every class balanced across them. Two differences, both
said here and in the README: the clips are written at 16 kHz by default (the recipe's
front end rate; ``--sample-rate 44100`` writes ESC-50's rate and the loader resamples
either), and ``meta/events.csv`` (``filename, onset, offset`` in seconds) records where
the event sits in its clip, which real ESC-50 does not give (the detection stage then
takes the whole clip as the event).

Ten classes, each a small sound model with random pitch, timing and level:

  siren        a tone swept up and down (two-tone or wailing), 1.5-3.5 s
  beep_alarm   on/off square-ish beeps at a fixed pitch, 1-3 s
  door_knock   2-5 damped low resonances 0.12-0.3 s apart
  dog_bark     1-3 harmonic bursts through two formant resonances (bark-like)
  glass_break  a broadband crack, then many decaying high partials (shards)
  engine_hum   a low harmonic drone with amplitude modulation, 2.5-4.5 s
  rain         band-passed noise plus random drop clicks, 2-4.5 s
  cough        1-3 noise bursts with a sharp attack, band 300-3000 Hz
  clapping     6-15 short broadband bursts at a near-constant rate
  footsteps    4-9 low thuds at a walking rate (1.5-2.5 steps per second)

Each clip is the event at a random level (-26 to -6 dBFS RMS) mixed into background
noise (white, pink or brown, sometimes with mains hum) at a random SNR (3-25 dB).
Deterministic for a seed: every clip draws from its own stream seeded by (seed, class,
clip index); wavs are written with the stdlib ``wave`` module (no timestamps).

Run: ``python -m recipes.aed.generate OUT_DIR [--clips-per-class 40] [--seed 0]``.
"""

import argparse
import csv
import json
import os
import sys
import time
import wave

import numpy as np

CLASSES = ("siren", "beep_alarm", "door_knock", "dog_bark", "glass_break", "engine_hum",
           "rain", "cough", "clapping", "footsteps")
# The classes marked esc10=True (so that --subset esc10 has something to select here).
ESC10 = ("siren", "dog_bark", "engine_hum", "rain", "cough")
CLIP_SECONDS = 5.0
SAMPLE_RATE = 16000
FOLDS = 5
COLUMNS = ("filename", "fold", "target", "category", "esc10", "src_file", "take")


# -- building blocks -----------------------------------------------------------------------


def _envelope(n, sr, attack, decay):
    """Exponential attack/decay envelope of n samples (times in seconds)."""
    t = np.arange(n) / sr
    return (1 - np.exp(-t / max(attack, 1e-4))) * np.exp(-t / max(decay, 1e-4))


def _resonance(x, sr, freq, q):
    """Two-pole resonator (a band-pass of centre ``freq`` and quality ``q``) on ``x``."""
    from scipy.signal import lfilter

    r = np.exp(-np.pi * freq / (q * sr))
    a = [1.0, -2 * r * np.cos(2 * np.pi * freq / sr), r * r]
    return lfilter([1 - r], a, x)


def _band(x, sr, low, high):
    from scipy.signal import butter, sosfilt

    high = min(high, 0.45 * sr)
    return sosfilt(butter(4, [low, high], btype="band", fs=sr, output="sos"), x)


def _colored_noise(rng, n, kind):
    """White, pink (1/f) or brown (1/f^2) noise of unit RMS."""
    spectrum = np.fft.rfft(rng.standard_normal(n))
    f = np.maximum(np.arange(len(spectrum)), 1.0)
    spectrum *= {"white": 1.0, "pink": f ** -0.5, "brown": 1.0 / f}[kind]
    x = np.fft.irfft(spectrum, n)
    return x / (np.sqrt(np.mean(x ** 2)) + 1e-12)


def _place(out, sound, start):
    end = min(len(out), start + len(sound))
    if end > start:
        out[start:end] += sound[:end - start]


# -- the classes: each returns (event signal of up to max_len samples, its duration) --------


def siren(rng, sr, pitch):
    dur = rng.uniform(1.5, 3.5)
    t = np.arange(int(dur * sr)) / sr
    low, high = 600 * pitch, 1400 * pitch
    if rng.random() < 0.5:  # two-tone
        freq = np.where((t * rng.uniform(1.5, 3.0)) % 1 < 0.5, low, high)
    else:  # wail
        freq = low + (high - low) * 0.5 * (1 - np.cos(2 * np.pi * rng.uniform(0.4, 1.2) * t))
    phase = 2 * np.pi * np.cumsum(freq) / sr
    return np.sin(phase) + 0.3 * np.sin(3 * phase), dur


def beep_alarm(rng, sr, pitch):
    dur = rng.uniform(1.0, 3.0)
    t = np.arange(int(dur * sr)) / sr
    gate = ((t * rng.uniform(2.0, 5.0)) % 1) < rng.uniform(0.3, 0.6)
    f = rng.uniform(2000, 3200) * pitch
    return np.tanh(3 * np.sin(2 * np.pi * f * t)) * gate, dur


def door_knock(rng, sr, pitch):
    knocks = rng.integers(2, 6)
    gap = rng.uniform(0.12, 0.3)
    n = int((knocks * gap + 0.3) * sr)
    out = np.zeros(n)
    for k in range(knocks):
        hit = rng.standard_normal(int(0.004 * sr)) * _envelope(int(0.004 * sr), sr, 1e-4, 0.001)
        ring = np.zeros(int(0.25 * sr))
        ring[:len(hit)] = hit
        body = _resonance(ring, sr, rng.uniform(150, 300) * pitch, 8) + 0.5 * _resonance(
            ring, sr, rng.uniform(600, 1000) * pitch, 12)
        _place(out, body * rng.uniform(0.7, 1.0), int(k * gap * (1 + rng.uniform(-0.1, 0.1)) * sr))
    return out, n / sr


def dog_bark(rng, sr, pitch):
    barks = rng.integers(1, 4)
    out = np.zeros(int(1.6 * sr))
    start = 0
    for _ in range(barks):
        d = rng.uniform(0.1, 0.25)
        t = np.arange(int(d * sr)) / sr
        f0 = rng.uniform(300, 600) * pitch * (1 + 0.3 * np.sin(np.pi * t / d))
        phase = 2 * np.pi * np.cumsum(f0) / sr
        source = sum(np.sin(h * phase) / h for h in range(1, 12)) + 0.3 * rng.standard_normal(len(t))
        voiced = _resonance(source, sr, rng.uniform(700, 1000) * pitch, 5) + _resonance(
            source, sr, rng.uniform(1600, 2200) * pitch, 6)
        _place(out, voiced * _envelope(len(t), sr, 0.01, d / 2), start)
        start += int((d + rng.uniform(0.15, 0.35)) * sr)
    return out[:start + 1], start / sr


def glass_break(rng, sr, pitch):
    dur = rng.uniform(0.8, 1.6)
    n = int(dur * sr)
    out = rng.standard_normal(n) * _envelope(n, sr, 1e-4, 0.02)
    t = np.arange(n) / sr
    for _ in range(rng.integers(15, 40)):
        onset = rng.uniform(0, 0.6 * dur)
        f = rng.uniform(2500, 7000) * pitch
        shard = np.sin(2 * np.pi * f * (t - onset)) * np.exp(-(t - onset) / rng.uniform(0.02, 0.15))
        out += rng.uniform(0.1, 0.5) * np.where(t >= onset, shard, 0)
    return out, dur


def engine_hum(rng, sr, pitch):
    dur = rng.uniform(2.5, 4.5)
    t = np.arange(int(dur * sr)) / sr
    f0 = rng.uniform(35, 80) * pitch * (1 + 0.05 * np.sin(2 * np.pi * rng.uniform(0.1, 0.5) * t))
    phase = 2 * np.pi * np.cumsum(f0) / sr
    tone = sum(np.sin(h * phase) * rng.uniform(0.3, 1.0) / h for h in range(1, 9))
    am = 1 + 0.4 * np.sin(2 * np.pi * rng.uniform(4, 12) * t)
    rumble = _band(rng.standard_normal(len(t)), sr, 60, 400)
    fade = np.minimum(1, np.minimum(t, dur - t) / 0.3)
    return (tone * am + 0.5 * rumble / (np.std(rumble) + 1e-9)) * fade, dur


def rain(rng, sr, pitch):
    dur = rng.uniform(2.0, 4.5)
    n = int(dur * sr)
    t = np.arange(n) / sr
    hiss = _band(rng.standard_normal(n), sr, 1000 * pitch, 7000)
    hiss /= np.std(hiss) + 1e-9
    drops = np.zeros(n)
    for _ in range(int(dur * rng.uniform(20, 60))):
        drops[rng.integers(0, n - 1)] = rng.uniform(2, 6) * rng.choice([-1, 1])
    drops = _resonance(drops, sr, rng.uniform(2000, 4000), 4)
    fade = np.minimum(1, np.minimum(t, dur - t) / 0.3)
    return (hiss + drops) * fade, dur


def cough(rng, sr, pitch):
    coughs = rng.integers(1, 4)
    out = np.zeros(int(1.6 * sr))
    start = 0
    for _ in range(coughs):
        d = rng.uniform(0.2, 0.35)
        m = int(d * sr)
        burst = _band(rng.standard_normal(m), sr, 300 * pitch, 3000 * pitch)
        burst = _resonance(burst, sr, rng.uniform(400, 900) * pitch, 3) + 0.5 * burst
        _place(out, burst * _envelope(m, sr, 0.005, d / 3), start)
        start += int((d + rng.uniform(0.1, 0.3)) * sr)
    return out[:start + 1], start / sr


def clapping(rng, sr, pitch):
    claps = rng.integers(6, 16)
    period = rng.uniform(0.18, 0.35)
    n = int((claps * period + 0.1) * sr)
    out = np.zeros(n)
    for k in range(claps):
        m = int(0.03 * sr)
        clap = _band(rng.standard_normal(m), sr, 800 * pitch, 6000) * _envelope(m, sr, 5e-4, 0.006)
        _place(out, clap, int((k * period + rng.normal(0, 0.01)) * sr) if k else 0)
    return out, n / sr


def footsteps(rng, sr, pitch):
    steps = rng.integers(4, 10)
    period = 1.0 / rng.uniform(1.5, 2.5)
    n = int((steps * period + 0.2) * sr)
    out = np.zeros(n)
    for k in range(steps):
        m = int(0.12 * sr)
        thud = _band(rng.standard_normal(m), sr, 60 * pitch, 500 * pitch)
        scuff = 0.2 * _band(rng.standard_normal(m), sr, 1500, 4000)
        _place(out, (thud + scuff) * _envelope(m, sr, 0.004, 0.03),
               int((k * period + rng.normal(0, 0.02)) * sr) if k else 0)
    return out, n / sr


SOUNDS = {name: globals()[name] for name in CLASSES}


def synthesize(category, rng, sr=SAMPLE_RATE, seconds=CLIP_SECONDS):
    """One clip of ``category``: (float audio in [-1, 1), onset, offset in seconds)."""
    n = int(seconds * sr)
    event, dur = SOUNDS[category](rng, sr, rng.uniform(0.8, 1.25))
    event = event[:int((seconds - 0.2) * sr)]  # the event ends inside the clip
    dur = min(dur, len(event) / sr)
    onset = rng.uniform(0.1, max(0.1, seconds - dur - 0.1))
    rms = np.sqrt(np.mean(event ** 2)) + 1e-12
    event = event / rms * 10 ** (rng.uniform(-26, -6) / 20)
    clip = np.zeros(n)
    _place(clip, event, int(onset * sr))
    noise = _colored_noise(rng, n, rng.choice(["white", "pink", "brown"]))
    if rng.random() < 0.3:  # mains hum
        noise += 0.5 * np.sin(2 * np.pi * rng.choice([50, 60]) * np.arange(n) / sr)
    noise_rms = 10 ** (rng.uniform(-26, -6) / 20) / 10 ** (rng.uniform(3, 25) / 20)
    clip += noise / np.sqrt(np.mean(noise ** 2)) * noise_rms
    peak = np.abs(clip).max()
    if peak > 0.99:
        clip *= 0.99 / peak
    return clip, float(onset), float(onset + dur)


def write_wav(path, audio, sr):
    """16-bit mono wav of float ``audio`` in [-1, 1)."""
    pcm = np.round(np.clip(audio, -1, 32767 / 32768) * 32768).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(sr)
        w.writeframes(pcm.tobytes())


def generate(out_dir, clips_per_class=40, seed=0, sample_rate=SAMPLE_RATE,
             seconds=CLIP_SECONDS, classes=CLASSES, progress=True):
    """Writes the dataset to ``out_dir``; returns the path of ``meta/esc50.csv``."""
    if clips_per_class < FOLDS or clips_per_class % FOLDS:
        raise ValueError(f"--clips-per-class must be a positive multiple of {FOLDS} (balanced "
                         f"folds), got {clips_per_class}.")
    unknown = set(classes) - set(CLASSES)
    if unknown:
        raise ValueError(f"unknown classes {sorted(unknown)}; choose from {', '.join(CLASSES)}.")
    audio_dir, meta_dir = os.path.join(out_dir, "audio"), os.path.join(out_dir, "meta")
    os.makedirs(audio_dir, exist_ok=True)
    os.makedirs(meta_dir, exist_ok=True)
    rows, events = [], []
    total = len(classes) * clips_per_class
    bar = _progress(total) if progress else None
    started = time.perf_counter()
    for target, category in enumerate(classes):
        for i in range(clips_per_class):
            rng = np.random.default_rng([seed, CLASSES.index(category), i])
            clip, onset, offset = synthesize(category, rng, sample_rate, seconds)
            fold, src, take = 1 + i % FOLDS, 100000 + 1000 * target + i, "A"
            name = f"{fold}-{src}-{take}-{target}.wav"
            write_wav(os.path.join(audio_dir, name), clip, sample_rate)
            rows.append((name, fold, target, category, category in ESC10, src, take))
            events.append((name, round(onset, 4), round(offset, 4)))
            if bar is not None:
                bar.add(1)
    csv_path = os.path.join(meta_dir, "esc50.csv")
    with open(csv_path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(COLUMNS)
        w.writerows(sorted(rows, key=lambda r: (r[1], r[0])))
    with open(os.path.join(meta_dir, "events.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(("filename", "onset", "offset"))
        w.writerows(sorted(events))
    with open(os.path.join(out_dir, "generator.json"), "w") as f:
        json.dump({"seed": seed, "clips_per_class": clips_per_class, "sample_rate": sample_rate,
                   "seconds": seconds, "classes": list(classes),
                   "seconds_taken": round(time.perf_counter() - started, 1)}, f, indent=1)
    return csv_path


def _progress(total):
    import keras

    return keras.utils.Progbar(total, unit_name="clip", verbose=1 if sys.stderr.isatty() else 2)


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m recipes.aed.generate",
                                description="Synthesize an acoustic-event dataset (ESC-50 layout).")
    p.add_argument("out_dir")
    p.add_argument("--clips-per-class", type=int, default=40, help="a multiple of 5 (default 40)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--sample-rate", type=int, default=SAMPLE_RATE,
                   help="16000 (default) or e.g. 44100 as real ESC-50")
    args = p.parse_args(argv)
    try:
        path = generate(args.out_dir, args.clips_per_class, args.seed, args.sample_rate)
    except ValueError as err:
        p.error(str(err))
    print(path)


if __name__ == "__main__":
    main()

"""Offline keyword dataset in the Speech Commands layout, spoken by espeak-ng.

Each "speaker" is an espeak-ng voice plus a variant (``en-us+f3``). Every
training speaker says every keyword ``repeats`` times and ``unknown_per_speaker``
words from :data:`UNKNOWN_WORDS`; validation and testing speakers say more
(``heldout_repeats``, ``heldout_unknown_per_speaker``) so the held-out splits are
large enough to resolve a 1-point accuracy difference. Each rendition has a random
speed, pitch, gain, time offset and additive noise (white/pink/brown/hum at a
random SNR). Audio is
resampled from espeak's 22.05 kHz to 16 kHz mono 16-bit. ``_background_noise_/``
holds generated noise recordings. Speakers, not clips, are split into
training/validation/testing, as in Speech Commands, so the test set measures
generalisation to unseen voices.

Deterministic given ``seed``: every clip draws from its own random stream seeded by
(seed, speaker, word, repeat), so the worker pool's scheduling cannot change the
output; wavs are written with the stdlib ``wave`` module (no timestamps).

Run: ``python -m recipes.kws.generate OUT_DIR [--seed 0]``.
"""

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
import wave
from concurrent.futures import ProcessPoolExecutor

import numpy as np
from scipy.signal import resample_poly

from recipes.kws.data import (BACKGROUND_DIR, CLIP_SAMPLES, KEYWORDS, SAMPLE_RATE,
                              TESTING_LIST, VALIDATION_LIST)

# espeak-ng's English voices of the built-in (non-mbrola) family.
VOICES = ("en-us", "en-gb", "en-gb-scotland", "en-gb-x-rp", "en-gb-x-gbclan",
          "en-gb-x-gbcwmd", "en-029", "en-us-nyc")
# Variants that still sound like speech (no whisper/croak novelty voices).
VARIANTS = ("m1", "m2", "m3", "m4", "m5", "m6", "m7", "f1", "f2", "f3", "f4", "f5")
# Non-keywords from the Speech Commands vocabulary, for the _unknown_ class.
UNKNOWN_WORDS = ("bed", "bird", "cat", "dog", "happy", "house", "marvin", "sheila",
                 "tree", "wow")
# Twenty auxiliary words (the ten above + the Speech Commands digits) for the harder
# protocols' _unknown_ class (recipes/kws/protocols.py); "nine"/"no", "two"/"go" are close.
AUX_WORDS = UNKNOWN_WORDS + ("zero", "one", "two", "three", "four", "five", "six", "seven",
                             "eight", "nine")
NOISE_KINDS = ("white", "pink", "brown", "hum50", "hum60")

ESPEAK_RATE = 22050  # espeak-ng's native output rate
SPEED_RANGE = (110, 200)  # words per minute
PITCH_RANGE = (20, 80)  # espeak-ng -p, 0..99
SNR_DB_RANGE = (10.0, 40.0)
PEAK_RANGE = (0.25, 0.9)
BACKGROUND_SECONDS = 30


def speakers():
    """All speakers as "voice+variant" strings, in a fixed order."""
    return [f"{v}+{w}" for v in VOICES for w in VARIANTS]


def speaker_id(speaker):
    """Speech Commands style 8-hex-digit speaker id (stable across runs)."""
    return hashlib.sha1(speaker.encode()).hexdigest()[:8]


def _stream(seed, *keys):
    """A random generator seeded by ``seed`` and string keys (order-independent of the pool)."""
    digest = hashlib.sha256("\x00".join(map(str, keys)).encode()).digest()
    return np.random.default_rng([seed, int.from_bytes(digest[:8], "little")])


def noise(kind, n, rng):
    """``n`` samples of unit-RMS noise of ``kind`` (one of :data:`NOISE_KINDS`)."""
    if kind == "white":
        x = rng.standard_normal(n)
    elif kind in ("pink", "brown"):
        # Shape white noise in frequency: power ∝ 1/f (pink) or 1/f² (brown).
        spectrum = np.fft.rfft(rng.standard_normal(n))
        f = np.fft.rfftfreq(n, 1.0 / SAMPLE_RATE)
        f[0] = f[1]
        spectrum /= np.sqrt(f) if kind == "pink" else f
        x = np.fft.irfft(spectrum, n)
    elif kind in ("hum50", "hum60"):
        base = 50.0 if kind == "hum50" else 60.0
        t = np.arange(n) / SAMPLE_RATE
        x = sum(np.sin(2 * np.pi * base * h * t + rng.uniform(0, 2 * np.pi)) / h
                for h in (1, 2, 3, 5))
        x = x + 0.05 * rng.standard_normal(n)
    else:
        raise ValueError(f"noise kind {kind!r} must be one of {NOISE_KINDS}.")
    return x / (np.sqrt(np.mean(x ** 2)) + 1e-12)


def _espeak(word, voice, speed, pitch):
    """Runs espeak-ng and returns its audio as float64 at ESPEAK_RATE."""
    proc = subprocess.run(
        ["espeak-ng", "-v", voice, "-s", str(speed), "-p", str(pitch), "--stdout", word],
        check=True, capture_output=True,
    )
    data = proc.stdout
    # With --stdout the RIFF sizes are placeholders, so locate the data chunk ourselves.
    start = data.find(b"data")
    if data[:4] != b"RIFF" or start < 0:
        raise RuntimeError(f"espeak-ng -v {voice} produced no wav output for {word!r}")
    body = data[start + 8:]
    pcm = np.frombuffer(body[:len(body) // 2 * 2], "<i2")
    return pcm.astype(np.float64) / 32768.0


def synthesize(word, speaker, repeat, seed):
    """One 1 s, 16 kHz clip of ``speaker`` saying ``word`` as int16."""
    rng = _stream(seed, speaker, word, repeat)
    speed = int(rng.integers(*SPEED_RANGE, endpoint=True))
    pitch = int(rng.integers(*PITCH_RANGE, endpoint=True))
    audio = _espeak(word, speaker, speed, pitch)
    active = np.flatnonzero(np.abs(audio) > 1e-3)  # trim espeak's leading/trailing silence
    if active.size:
        audio = audio[active[0]:active[-1] + 1]
    audio = resample_poly(audio, SAMPLE_RATE, ESPEAK_RATE)[:CLIP_SAMPLES]
    audio *= rng.uniform(*PEAK_RANGE) / (np.max(np.abs(audio)) + 1e-12)
    clip = np.zeros(CLIP_SAMPLES)
    offset = int(rng.integers(0, CLIP_SAMPLES - audio.shape[0] + 1))
    clip[offset:offset + audio.shape[0]] = audio
    speech_rms = np.sqrt(np.mean(audio ** 2))
    snr_db = rng.uniform(*SNR_DB_RANGE)
    kind = NOISE_KINDS[int(rng.integers(len(NOISE_KINDS)))]
    clip += noise(kind, CLIP_SAMPLES, rng) * speech_rms * 10 ** (-snr_db / 20)
    return np.clip(np.round(clip * 32767), -32768, 32767).astype(np.int16)


def write_wav(path, samples):
    """Writes int16 mono samples at 16 kHz with the stdlib (byte-for-byte reproducible)."""
    with wave.open(path, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(SAMPLE_RATE)
        w.writeframes(np.asarray(samples, "<i2").tobytes())


def _job(args):
    rel, word, speaker, repeat, seed, out_dir = args
    write_wav(os.path.join(out_dir, rel), synthesize(word, speaker, repeat, seed))
    return rel


def plan(seed=0, n_speakers=None, repeats=2, unknown_per_speaker=3, heldout_repeats=8,
         heldout_unknown_per_speaker=12, unknown_words=UNKNOWN_WORDS):
    """The clips to synthesise and the speaker split, without running espeak-ng.

    Training speakers say each keyword ``repeats`` times and ``unknown_per_speaker``
    unknown words; validation/testing speakers ``heldout_repeats`` and
    ``heldout_unknown_per_speaker`` (the split stays by speaker), drawn from
    ``unknown_words`` (default :data:`UNKNOWN_WORDS`). A clip's audio
    depends only on (seed, speaker, word, repeat), so the held-out sizes do not
    change the training clips.

    Returns:
      (jobs, split) where jobs is a list of (relative_path, word, speaker, repeat)
      and split maps speaker -> "training" | "validation" | "testing".
    """
    for name, value, low in (("repeats", repeats, 1), ("heldout_repeats", heldout_repeats, 1),
                             ("unknown_per_speaker", unknown_per_speaker, 0),
                             ("heldout_unknown_per_speaker", heldout_unknown_per_speaker, 0)):
        if value < low:
            raise ValueError(f"{name}={value} must be >= {low}.")
    everyone = speakers()
    order = _stream(seed, "speakers").permutation(len(everyone))
    chosen = [everyone[i] for i in order]
    if n_speakers is not None:
        if not 3 <= n_speakers <= len(everyone):
            raise ValueError(f"n_speakers={n_speakers} must be in [3, {len(everyone)}].")
        chosen = chosen[:n_speakers]
    # 80/10/10 by speaker, at least one speaker in each held-out split.
    n_held = max(1, int(round(0.1 * len(chosen))))
    split = {s: "validation" for s in chosen[:n_held]}
    split.update({s: "testing" for s in chosen[n_held:2 * n_held]})
    split.update({s: "training" for s in chosen[2 * n_held:]})

    jobs = []
    for speaker in sorted(chosen):
        sid = speaker_id(speaker)
        held_out = split[speaker] != "training"
        for word in KEYWORDS:
            for r in range(heldout_repeats if held_out else repeats):
                jobs.append((f"{word}/{sid}_nohash_{r}.wav", word, speaker, r))
        picks = _stream(seed, speaker, "unknown").choice(
            len(unknown_words),
            size=heldout_unknown_per_speaker if held_out else unknown_per_speaker)
        counts = {}
        for i in picks:
            word = unknown_words[i]
            r = counts[word] = counts.get(word, -1) + 1
            jobs.append((f"{word}/{sid}_nohash_{r}.wav", word, speaker, r))
    return jobs, split


def generate(out_dir, seed=0, n_speakers=None, repeats=2, unknown_per_speaker=3,
             heldout_repeats=8, heldout_unknown_per_speaker=12, workers=2, verbose=True,
             unknown_words=UNKNOWN_WORDS):
    """Writes the dataset to ``out_dir`` (created; must be empty or absent).

    Args:
      out_dir: destination folder.
      seed: everything (speaker split, speeds, noise, ...) derives from it.
      n_speakers: use only this many voice+variant speakers (default: all 96).
      repeats: renditions of each keyword per training speaker.
      unknown_per_speaker: non-keyword clips per training speaker.
      heldout_repeats, heldout_unknown_per_speaker: the same for validation and
        testing speakers (default 8 and 12: ~960 clips per held-out split instead of
        240, so one clip is 0.1 accuracy points, not 0.4).
      workers: process-pool size (espeak-ng runs as a subprocess per clip).
      unknown_words: the non-keywords spoken for ``_unknown_`` (default
        :data:`UNKNOWN_WORDS`; the harder protocols use :data:`AUX_WORDS`).

    Returns:
      A dict of statistics (clip counts, seconds taken).
    """
    if shutil.which("espeak-ng") is None:
        raise RuntimeError("espeak-ng is not installed. Fix: sudo apt-get install espeak-ng")
    if os.path.isdir(out_dir) and os.listdir(out_dir):
        raise FileExistsError(
            f"{out_dir} is not empty. Fix: choose a new --out folder or delete it first.")
    started = time.perf_counter()
    jobs, split = plan(seed, n_speakers, repeats, unknown_per_speaker, heldout_repeats,
                       heldout_unknown_per_speaker, tuple(unknown_words))
    for word in sorted({j[1] for j in jobs}):
        os.makedirs(os.path.join(out_dir, word), exist_ok=True)
    os.makedirs(os.path.join(out_dir, BACKGROUND_DIR), exist_ok=True)

    for kind in NOISE_KINDS:
        rng = _stream(seed, "background", kind)
        samples = 0.1 * noise(kind, BACKGROUND_SECONDS * SAMPLE_RATE, rng)
        write_wav(os.path.join(out_dir, BACKGROUND_DIR, f"{kind}_noise.wav"),
                  np.round(np.clip(samples, -1, 1) * 32767).astype(np.int16))

    work = [(rel, word, speaker, r, seed, out_dir) for rel, word, speaker, r in jobs]
    if workers > 1:
        with ProcessPoolExecutor(workers) as pool:
            for i, _ in enumerate(pool.map(_job, work, chunksize=16)):
                if verbose and (i + 1) % 200 == 0:
                    print(f"  generated {i + 1}/{len(work)} clips", file=sys.stderr)
    else:
        for item in work:
            _job(item)

    lists = {"validation": [], "testing": []}
    for rel, _, speaker, _ in jobs:
        if split[speaker] in lists:
            lists[split[speaker]].append(rel)
    for name, key in ((VALIDATION_LIST, "validation"), (TESTING_LIST, "testing")):
        with open(os.path.join(out_dir, name), "w", encoding="utf-8") as f:
            f.writelines(p + "\n" for p in sorted(lists[key]))
    stats = {
        "seed": seed,
        "clips": len(jobs),
        "speakers": {k: sorted(s for s, v in split.items() if v == k)
                     for k in ("training", "validation", "testing")},
        "repeats": repeats,
        "unknown_per_speaker": unknown_per_speaker,
        "heldout_repeats": heldout_repeats,
        "heldout_unknown_per_speaker": heldout_unknown_per_speaker,
        "unknown_words": list(unknown_words),
    }
    with open(os.path.join(out_dir, "generator.json"), "w", encoding="utf-8") as f:
        json.dump(stats, f, indent=1, sort_keys=True)
    stats["seconds"] = time.perf_counter() - started
    if verbose:
        print(f"generated {len(jobs)} clips in {stats['seconds']:.1f} s -> {out_dir}",
              file=sys.stderr)
    return stats


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m recipes.kws.generate",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("out_dir")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--speakers", type=int, default=None,
                        help="number of voice+variant speakers (default: all)")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--unknown-per-speaker", type=int, default=3)
    parser.add_argument("--heldout-repeats", type=int, default=8,
                        help="keyword renditions per validation/testing speaker")
    parser.add_argument("--heldout-unknown-per-speaker", type=int, default=12)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    generate(args.out_dir, args.seed, args.speakers, args.repeats,
             args.unknown_per_speaker, args.heldout_repeats, args.heldout_unknown_per_speaker,
             args.workers)


if __name__ == "__main__":
    main()

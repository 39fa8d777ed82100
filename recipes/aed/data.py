"""Loader of a dataset in the ESC-50 layout (``meta/esc50.csv`` + ``audio/*.wav``).

Checks the csv's columns, selects ``--subset esc10`` (the rows with ``esc10 == True``),
reads every wav as mono float, resamples it to the front end's 16 kHz (real ESC-50 is
44.1 kHz; ``scipy.signal.resample_poly``), pads or cuts it to the clip length, and
reports and skips files that are missing or cannot be decoded. The labels are the csv's
``target`` values renumbered 0..C-1 in target order (ESC-10's targets are not
contiguous); ``class_names`` are the matching ``category`` values.

``meta/events.csv`` (written by ``recipes.aed.generate``, absent from real ESC-50) gives
each clip's event onset/offset; without it the whole clip is the event.
"""

import csv
import dataclasses
import math
import os

import numpy as np

REQUIRED = ("filename", "fold", "target", "category", "esc10")
SUBSETS = ("esc50", "esc10")
SAMPLE_RATE = 16000


class DatasetError(ValueError):
    """A dataset that cannot be used, with what to fix."""


@dataclasses.dataclass
class Dataset:
    audio: np.ndarray  # (clips, samples) float32 at SAMPLE_RATE
    labels: np.ndarray  # (clips,) int, 0..C-1
    folds: np.ndarray  # (clips,) int, 1..5
    filenames: list
    class_names: list
    events: np.ndarray  # (clips, 2) onset, offset in seconds
    skipped: list  # (filename, reason) of files not loaded


def _truthy(text):
    return str(text).strip().lower() in ("true", "1", "yes")


def read_meta(data_dir, subset="esc50"):
    """The rows of ``meta/esc50.csv`` (dicts) of ``subset``; DatasetError on a bad csv."""
    if subset not in SUBSETS:
        raise DatasetError(f"--subset must be one of {', '.join(SUBSETS)}, got {subset!r}.")
    path = os.path.join(data_dir, "meta", "esc50.csv")
    if not os.path.isfile(path):
        raise DatasetError(f"{path} not found: --data-dir must point at an ESC-50 checkout "
                           f"(meta/esc50.csv, audio/*.wav), or drop it to generate data.")
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        missing = [c for c in REQUIRED if c not in (reader.fieldnames or ())]
        if missing:
            raise DatasetError(f"{path} lacks the columns {missing} (has {reader.fieldnames}); "
                               f"ESC-50's are filename, fold, target, category, esc10, "
                               f"src_file, take.")
        rows = list(reader)
    for i, row in enumerate(rows, start=2):
        try:
            row["fold"], row["target"] = int(row["fold"]), int(row["target"])
        except ValueError:
            raise DatasetError(f"{path} line {i}: fold and target must be integers, got "
                               f"{row['fold']!r} and {row['target']!r}.") from None
    if subset == "esc10":
        rows = [r for r in rows if _truthy(r["esc10"])]
    if not rows:
        raise DatasetError(f"{path} has no {subset} rows.")
    return rows


def read_events(data_dir):
    """filename -> (onset, offset) from ``meta/events.csv``, {} when absent."""
    path = os.path.join(data_dir, "meta", "events.csv")
    if not os.path.isfile(path):
        return {}
    with open(path, newline="", encoding="utf-8") as f:
        return {r["filename"]: (float(r["onset"]), float(r["offset"])) for r in csv.DictReader(f)}


def read_wav(path, sample_rate=SAMPLE_RATE):
    """Mono float32 audio of ``path`` at ``sample_rate`` (resampled; channels averaged)."""
    import soundfile
    from scipy.signal import resample_poly

    audio, rate = soundfile.read(path, dtype="float32", always_2d=True)
    if audio.shape[0] == 0:
        raise ValueError("no samples")
    audio = audio.mean(axis=1)
    if rate != sample_rate:
        g = math.gcd(int(rate), sample_rate)
        audio = resample_poly(audio, sample_rate // g, int(rate) // g).astype(np.float32)
    return audio


def fit_length(audio, samples):
    """``audio`` cut or zero-padded to ``samples``."""
    out = np.zeros(samples, np.float32)
    out[:min(samples, len(audio))] = audio[:samples]
    return out


def load(data_dir, subset="esc50", seconds=5.0, log=print, progress=None):
    """Reads the dataset (see the module docstring); ``progress(n)`` is called per file."""
    import soundfile

    rows = read_meta(data_dir, subset)
    targets = sorted({r["target"] for r in rows})
    names = {}
    for r in rows:
        names.setdefault(r["target"], r["category"])
    index = {t: i for i, t in enumerate(targets)}
    events = read_events(data_dir)
    samples = int(round(seconds * SAMPLE_RATE))
    audio, labels, folds, files, spans, skipped = [], [], [], [], [], []
    for r in rows:
        path = os.path.join(data_dir, "audio", r["filename"])
        try:
            if not os.path.isfile(path):
                raise FileNotFoundError("missing")
            clip = read_wav(path)
        except (FileNotFoundError, RuntimeError, ValueError, EOFError,
                soundfile.LibsndfileError) as err:
            skipped.append((r["filename"], str(err).splitlines()[0][:120] or type(err).__name__))
        else:
            audio.append(fit_length(clip, samples))
            labels.append(index[r["target"]])
            folds.append(r["fold"])
            files.append(r["filename"])
            spans.append(events.get(r["filename"], (0.0, seconds)))
        if progress is not None:
            progress(1)
    for name, reason in skipped:
        log(f"skipped {name}: {reason}")
    if not audio:
        raise DatasetError(f"no readable wav under {os.path.join(data_dir, 'audio')} "
                           f"({len(skipped)} skipped).")
    return Dataset(np.stack(audio), np.asarray(labels), np.asarray(folds), files,
                   [names[t] for t in targets], np.asarray(spans, np.float32), skipped)

"""Reader for the Google Speech Commands layout, with the usual 12-class task.

Layout (Warden 2018, "Speech Commands: A Dataset for Limited-Vocabulary Speech
Recognition", arXiv:1804.03209)::

    root/
      yes/0a7c2a8d_nohash_0.wav ...     one folder per word, 16 kHz mono 1 s wavs
      _background_noise_/*.wav           long noise recordings
      validation_list.txt                 paths relative to root, "word/file.wav"
      testing_list.txt

Every clip not listed in one of the two lists belongs to the training split.
The 12 classes are ``_silence_``, ``_unknown_`` and the 10 keywords (the order used
by TensorFlow's speech_commands example). ``_unknown_`` clips are drawn from all
the other word folders and ``_silence_`` clips are cut from the background noise;
each is ``silence_fraction`` / ``unknown_fraction`` of the split's keyword clips.

Bad input raises :class:`DatasetError` naming the file and the fix. A corrupt
(unreadable) wav is reported with a :class:`CorruptWavWarning` and skipped, so one
bad file does not stop a run over a large dataset; a wav in the wrong format
(sample rate, channels) is an error, because it means the whole dataset needs
converting.
"""

import os
import warnings
from dataclasses import dataclass

import numpy as np
import soundfile

KEYWORDS = ("yes", "no", "up", "down", "left", "right", "on", "off", "stop", "go")
SILENCE_LABEL = "_silence_"
UNKNOWN_LABEL = "_unknown_"
BACKGROUND_DIR = "_background_noise_"
VALIDATION_LIST = "validation_list.txt"
TESTING_LIST = "testing_list.txt"
SAMPLE_RATE = 16000
CLIP_SAMPLES = SAMPLE_RATE  # every clip is padded / cropped to 1 s
SPLITS = ("training", "validation", "testing")

_CONVERT_HINT = "convert it with: sox IN.wav -r 16000 -c 1 -b 16 OUT.wav"


class DatasetError(ValueError):
    """The dataset directory or one of its files cannot be used as given."""


class CorruptWavWarning(UserWarning):
    """A wav file could not be decoded and was skipped."""


class CorruptWavError(DatasetError):
    """A wav file could not be decoded (raised by :func:`read_wav`)."""


def read_wav(path, sample_rate=SAMPLE_RATE):
    """Reads a mono wav at ``sample_rate`` as float32 in [-1, 1].

    Raises:
      CorruptWavError: the file is empty or not a decodable audio file.
      DatasetError: wrong sample rate or more than one channel.
    """
    try:
        info = soundfile.info(path)
        audio, _ = soundfile.read(path, dtype="float32", always_2d=True)
    except (RuntimeError, soundfile.LibsndfileError, EOFError) as err:
        raise CorruptWavError(
            f"{path}: not a readable wav file ({err}). Fix: delete it or re-record it."
        ) from None
    if info.samplerate != sample_rate:
        raise DatasetError(
            f"{path}: sample rate is {info.samplerate} Hz, expected {sample_rate} Hz. "
            f"Fix: resample the dataset, e.g. {_CONVERT_HINT}"
        )
    if info.channels != 1:
        raise DatasetError(
            f"{path}: has {info.channels} channels, expected mono. Fix: {_CONVERT_HINT}"
        )
    if audio.shape[0] == 0:
        raise CorruptWavError(f"{path}: contains no samples. Fix: delete it or re-record it.")
    return audio[:, 0]


def fit_to_clip(audio, length=CLIP_SAMPLES):
    """Zero-pads at the end or crops to ``length`` samples (the Speech Commands convention)."""
    if audio.shape[0] >= length:
        return audio[:length]
    return np.pad(audio, (0, length - audio.shape[0]))


@dataclass
class Split:
    """One split as arrays: ``audio`` (N, 16000) float32, ``labels`` (N,) int32.

    ``paths`` names the source of each clip ("word/file.wav", or
    "_background_noise_/file.wav@offset" for silence clips).
    """

    audio: np.ndarray
    labels: np.ndarray
    paths: list


class SpeechCommands:
    """The Speech Commands layout under ``root`` as a 12-class keyword task.

    Args:
      root: dataset directory (see module docstring).
      keywords: the words to recognise; every other word folder is ``_unknown_``.
      silence_fraction: ``_silence_`` clips per split, as a fraction of its keyword clips.
      unknown_fraction: ``_unknown_`` clips per split, as a fraction of its keyword clips.
      seed: seeds the choice of unknown clips and the silence windows.

    Example:
      >>> ds = SpeechCommands("~/speech_commands")           # doctest: +SKIP
      >>> train = ds.load("training")                         # doctest: +SKIP
      >>> ds.class_names[train.labels[0]]                      # doctest: +SKIP
    """

    def __init__(self, root, keywords=KEYWORDS, silence_fraction=0.1,
                 unknown_fraction=0.1, seed=0):
        root = os.path.expanduser(os.fspath(root))
        if not os.path.isdir(root):
            raise DatasetError(
                f"data dir {root!r} does not exist. Fix: pass --data-dir pointing at a "
                "Speech Commands folder, or omit --data-dir to generate data offline."
            )
        keywords = tuple(keywords)
        if not keywords or len(set(keywords)) != len(keywords):
            raise DatasetError(f"keywords {keywords!r} must be a non-empty list of distinct words.")
        for name, value in (("silence_fraction", silence_fraction),
                            ("unknown_fraction", unknown_fraction)):
            if not 0.0 <= value <= 10.0:
                raise DatasetError(f"{name}={value} must be in [0, 10].")
        self.root = root
        self.keywords = keywords
        self.silence_fraction = float(silence_fraction)
        self.unknown_fraction = float(unknown_fraction)
        self.seed = int(seed)
        self.class_names = (SILENCE_LABEL, UNKNOWN_LABEL) + keywords

        self.words = sorted(
            d for d in os.listdir(root)
            if os.path.isdir(os.path.join(root, d)) and not d.startswith("_")
        )
        if not self.words:
            raise DatasetError(
                f"data dir {root!r} has no word folders (expected e.g. yes/, no/ with .wav "
                "files). Fix: point --data-dir at the dataset root, or omit it to generate data."
            )
        missing = [k for k in keywords if k not in self.words]
        if missing:
            raise DatasetError(
                f"keywords {missing} have no folder in {root!r} (found: {self.words}). "
                "Fix: choose keywords from the folders present, or add the missing folders."
            )
        self._split_of = self._read_split_lists()

    # -- indexing -----------------------------------------------------------------

    def _read_list(self, name):
        path = os.path.join(self.root, name)
        if not os.path.isfile(path):
            raise DatasetError(
                f"{path} is missing. Fix: add it (one 'word/file.wav' per line; an empty "
                "file puts no clip in that split) or regenerate the dataset."
            )
        with open(path, encoding="utf-8") as f:
            return {line.strip().replace("\\", "/") for line in f if line.strip()}

    def _read_split_lists(self):
        validation = self._read_list(VALIDATION_LIST)
        testing = self._read_list(TESTING_LIST)
        both = validation & testing
        if both:
            raise DatasetError(
                f"{len(both)} clips (e.g. {sorted(both)[0]}) are in both {VALIDATION_LIST} "
                f"and {TESTING_LIST}. Fix: list each clip in at most one of them."
            )
        split_of = {p: "validation" for p in validation}
        split_of.update({p: "testing" for p in testing})
        return split_of

    def files(self, split):
        """Relative paths of all word clips in ``split``, sorted, as {word: [paths]}."""
        _check_split(split)
        out = {}
        for word in self.words:
            names = sorted(n for n in os.listdir(os.path.join(self.root, word))
                           if n.lower().endswith(".wav"))
            rel = [f"{word}/{n}" for n in names]
            out[word] = [p for p in rel if self._split_of.get(p, "training") == split]
        return out

    # -- loading ------------------------------------------------------------------

    def _load_clips(self, rel_paths):
        """Reads clips, skipping (with a warning) the corrupt ones."""
        audio, kept = [], []
        for rel in rel_paths:
            path = os.path.join(self.root, rel)
            try:
                audio.append(fit_to_clip(read_wav(path)))
            except CorruptWavError as err:
                warnings.warn(f"skipping corrupt wav: {err}", CorruptWavWarning, stacklevel=3)
                continue
            kept.append(rel)
        return audio, kept

    def background_noise(self):
        """The background-noise recordings as a list of float32 arrays (may be empty)."""
        if hasattr(self, "_background"):
            return self._background
        folder = os.path.join(self.root, BACKGROUND_DIR)
        self._background, self._background_names = [], []
        if os.path.isdir(folder):
            for name in sorted(os.listdir(folder)):
                if not name.lower().endswith(".wav"):
                    continue
                path = os.path.join(folder, name)
                try:
                    noise = read_wav(path)
                except CorruptWavError as err:
                    warnings.warn(f"skipping corrupt wav: {err}", CorruptWavWarning, stacklevel=2)
                    continue
                if noise.shape[0] < CLIP_SAMPLES:
                    warnings.warn(f"skipping {path}: shorter than 1 s", CorruptWavWarning,
                                  stacklevel=2)
                    continue
                self._background.append(noise)
                self._background_names.append(name)
        if not self._background:
            warnings.warn(
                f"no usable background noise in {folder}: silence clips will be digital "
                "silence and noise mixing is off. Fix: add long 16 kHz mono noise wavs there.",
                stacklevel=2,
            )
        return self._background

    def load(self, split):
        """Loads ``split`` ("training", "validation" or "testing") as a :class:`Split`."""
        files = self.files(split)
        # Each split gets its own stream, so loading order does not change the data.
        rng = np.random.default_rng([self.seed, SPLITS.index(split)])
        audio, labels, paths = [], [], []
        for index, word in enumerate(self.keywords):
            clips, kept = self._load_clips(files[word])
            audio += clips
            paths += kept
            labels += [index + 2] * len(kept)
        n_keyword = len(labels)
        if n_keyword == 0:
            raise DatasetError(
                f"the {split} split of {self.root!r} has no keyword clips. Fix: check "
                f"{VALIDATION_LIST}/{TESTING_LIST} leave clips for every split."
            )

        pool = sorted(p for w in self.words if w not in self.keywords for p in files[w])
        n_unknown = min(len(pool), int(round(self.unknown_fraction * n_keyword)))
        chosen = sorted(rng.choice(len(pool), size=n_unknown, replace=False)) if n_unknown else []
        clips, kept = self._load_clips([pool[i] for i in chosen])
        audio += clips
        paths += kept
        labels += [1] * len(kept)

        n_silence = int(round(self.silence_fraction * n_keyword))
        clips, names = self._silence_clips(n_silence, rng)
        audio += clips
        paths += names
        labels += [0] * len(clips)
        return Split(np.stack(audio).astype(np.float32), np.asarray(labels, np.int32), paths)

    def _silence_clips(self, count, rng):
        """``count`` 1 s windows of background noise at a random gain in [0, 1]."""
        noise = self.background_noise()
        if not noise:
            return [np.zeros(CLIP_SAMPLES, np.float32)] * count, ["<zeros>"] * count
        clips, names = [], []
        for _ in range(count):
            i = int(rng.integers(len(noise)))
            start = int(rng.integers(noise[i].shape[0] - CLIP_SAMPLES + 1))
            gain = rng.uniform(0.0, 1.0)
            clips.append((gain * noise[i][start:start + CLIP_SAMPLES]).astype(np.float32))
            names.append(f"{BACKGROUND_DIR}/{self._background_names[i]}@{start}")
        return clips, names


def _check_split(split):
    if split not in SPLITS:
        raise ValueError(f"split={split!r} must be one of {SPLITS}.")


def augment(audio, background, rng, max_shift=1600, background_prob=0.8,
            background_volume=0.1):
    """Training augmentation: random time shift and background-noise mixing.

    As in TensorFlow's speech_commands example: each clip is shifted by a uniform
    integer in [-max_shift, max_shift] samples (±100 ms at 16 kHz, zero fill), then
    with probability ``background_prob`` a random 1 s window of a random
    background recording is added at a volume uniform in [0, background_volume].

    Args:
      audio: (N, T) float32 clips.
      background: list of 1-D float32 noise arrays (from ``background_noise()``);
        may be empty (no mixing).
      rng: a ``numpy.random.Generator``.

    Returns:
      New (N, T) float32 array clipped to [-1, 1].
    """
    audio = np.asarray(audio, np.float32)
    if audio.ndim != 2:
        raise ValueError(f"audio must be (N, T), got shape {audio.shape}.")
    n, length = audio.shape
    out = np.zeros_like(audio)
    shifts = rng.integers(-max_shift, max_shift + 1, size=n)
    for i, s in enumerate(shifts):
        if s >= 0:
            out[i, s:] = audio[i, :length - s]
        else:
            out[i, :length + s] = audio[i, -s:]
    if background:
        for i in range(n):
            if rng.uniform() >= background_prob:
                continue
            noise = background[int(rng.integers(len(background)))]
            start = int(rng.integers(noise.shape[0] - length + 1))
            out[i] += rng.uniform(0.0, background_volume) * noise[start:start + length]
    return np.clip(out, -1.0, 1.0)


def first_keyword_clip(labels):
    """Index of the first clip of a keyword (labels >= 2: not silence or unknown), else 0:
    the clip the recipe runs on the board and plots."""
    return int(np.flatnonzero(labels >= 2)[0]) if np.any(labels >= 2) else 0

"""The Speech Commands reader: splits, classes, augmentation and bad input."""

import os
import shutil

import numpy as np
import pytest
import soundfile

from recipes.kws import data
from recipes.kws.data import (CorruptWavWarning, DatasetError, SpeechCommands, augment,
                              read_wav)


@pytest.fixture
def dataset_copy(tiny_dataset, tmp_path):
    """A writable copy of the tiny dataset (tests may corrupt it)."""
    root = tmp_path / "data"
    shutil.copytree(tiny_dataset, root)
    return root


def _planned(jobs, split, split_name, words):
    """Clips the generator planned for ``split_name`` among ``words``."""
    return sum(1 for _, word, speaker, _ in jobs if split[speaker] == split_name and word in words)


def test_splits_and_classes(tiny_dataset, tiny_plan):
    _, jobs, split = tiny_plan
    ds = SpeechCommands(tiny_dataset, silence_fraction=0.2, unknown_fraction=0.1)
    assert ds.class_names == ("_silence_", "_unknown_") + data.KEYWORDS
    train, val = ds.load("training"), ds.load("validation")
    assert train.audio.shape == (len(train.labels), data.CLIP_SAMPLES)
    assert train.audio.dtype == np.float32
    # Keyword clips per class as planned; silence and unknown as fractions of their sum.
    counts = np.bincount(train.labels, minlength=len(ds.class_names))
    keywords = [_planned(jobs, split, "training", {k}) for k in data.KEYWORDS]
    assert list(counts[2:]) == keywords and min(keywords) > 0
    unknown_pool = sum(1 for _, w, s, _ in jobs if split[s] == "training" and w not in data.KEYWORDS)
    assert counts[1] == min(unknown_pool, round(0.1 * sum(keywords)))
    assert counts[0] == round(0.2 * sum(keywords))
    assert np.bincount(val.labels, minlength=12)[2:].tolist() == [
        _planned(jobs, split, "validation", {k}) for k in data.KEYWORDS]
    assert not set(train.paths) & set(val.paths)
    again = SpeechCommands(tiny_dataset, silence_fraction=0.2).load("training")
    np.testing.assert_array_equal(again.audio, train.audio)  # same seed, same data


def test_corrupt_wav_is_skipped_with_warning(dataset_copy):
    bad = dataset_copy / "yes" / sorted(os.listdir(dataset_copy / "yes"))[0]
    split_name = SpeechCommands(dataset_copy)._split_of.get(f"yes/{bad.name}", "training")
    before = SpeechCommands(dataset_copy).load(split_name)
    bad.write_bytes(b"RIFF\x00\x00\x00\x00garbage")
    with pytest.warns(CorruptWavWarning, match=f"yes.{bad.name}"):
        split = SpeechCommands(dataset_copy).load(split_name)
    # Exactly the corrupt clip is missing from the keyword clips.
    keyword_paths = [p for p, label in zip(split.paths, split.labels) if label >= 2]
    assert keyword_paths == [p for p, label in zip(before.paths, before.labels)
                             if label >= 2 and p != f"yes/{bad.name}"]


def test_wrong_sample_rate_is_an_error(dataset_copy):
    path = dataset_copy / "no" / sorted(os.listdir(dataset_copy / "no"))[0]
    soundfile.write(path, np.zeros(8000, np.int16), 8000)
    with pytest.raises(DatasetError, match=r"8000 Hz, expected 16000 Hz.*sox"):
        read_wav(str(path))


def test_stereo_is_an_error(tmp_path):
    path = tmp_path / "stereo.wav"
    soundfile.write(path, np.zeros((16000, 2), np.int16), 16000)
    with pytest.raises(DatasetError, match="2 channels, expected mono"):
        read_wav(str(path))


def test_empty_file_is_corrupt(tmp_path):
    path = tmp_path / "empty.wav"
    path.write_bytes(b"")
    with pytest.raises(data.CorruptWavError, match="empty.wav"):
        read_wav(str(path))


def test_missing_and_empty_dirs(tmp_path):
    with pytest.raises(DatasetError, match="does not exist.*--data-dir"):
        SpeechCommands(tmp_path / "nope")
    with pytest.raises(DatasetError, match="no word folders"):
        SpeechCommands(tmp_path)


def test_unknown_keyword_is_an_error(tiny_dataset):
    with pytest.raises(DatasetError, match=r"\['banana'\] have no folder"):
        SpeechCommands(tiny_dataset, keywords=("yes", "banana"))


def test_missing_split_list(dataset_copy):
    os.remove(dataset_copy / "testing_list.txt")
    with pytest.raises(DatasetError, match="testing_list.txt is missing"):
        SpeechCommands(dataset_copy)


def test_fit_to_clip():
    assert data.fit_to_clip(np.ones(100, np.float32)).shape == (16000,)
    assert data.fit_to_clip(np.arange(20000.0))[-1] == 15999.0


def test_augment_shift_and_noise():
    rng = np.random.default_rng(0)
    clip = np.zeros((1, 16000), np.float32)
    clip[0, 8000] = 1.0
    shifted = augment(clip, [], rng, max_shift=1600)
    (where,) = np.flatnonzero(shifted[0])
    assert abs(where - 8000) <= 1600
    noise = [np.ones(32000, np.float32)]
    mixed = augment(np.zeros((50, 16000), np.float32), noise, rng, background_prob=1.0,
                    background_volume=0.1)
    level = mixed[:, 0]
    assert np.all(mixed == level[:, None]) and 0 < level.max() <= 0.1

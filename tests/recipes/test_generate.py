"""The offline generator: layout, speaker split, determinism."""

import hashlib
import inspect
import os

import numpy as np
import pytest

from recipes.kws import generate as gen
from recipes.kws.data import KEYWORDS, read_wav


def _digest(root):
    """sha1 of every file under root, by relative path."""
    out = {}
    for dirpath, _, names in os.walk(root):
        for name in names:
            path = os.path.join(dirpath, name)
            with open(path, "rb") as f:
                out[os.path.relpath(path, root)] = hashlib.sha1(f.read()).hexdigest()
    return out


def test_layout_and_split(tiny_dataset, tiny_plan):
    root = str(tiny_dataset)
    params, jobs, _ = tiny_plan
    for word in KEYWORDS:
        assert len(os.listdir(os.path.join(root, word))) == sum(1 for j in jobs if j[1] == word)
    noise = os.listdir(os.path.join(root, "_background_noise_"))
    assert sorted(noise) == sorted(f"{k}_noise.wav" for k in gen.NOISE_KINDS)
    # A written clip is the synthesised one (its audio depends only on seed, speaker,
    # word and repeat), scaled from int16.
    rel, word, speaker, repeat = next(j for j in jobs if j[1] == "yes")
    audio = read_wav(os.path.join(root, rel))
    expected = gen.synthesize(word, speaker, repeat, seed=params["seed"]) / 32768.0
    np.testing.assert_array_equal(audio, expected.astype(audio.dtype))

    def speakers_in(name):
        with open(os.path.join(root, name)) as f:
            return {line.split("/")[1].split("_")[0] for line in f if line.strip()}

    validation, testing = speakers_in("validation_list.txt"), speakers_in("testing_list.txt")
    held_out = max(1, round(0.1 * params["n_speakers"]))  # 10 % of the speakers each, at least one
    assert len(validation) == len(testing) == held_out and not validation & testing


def test_same_seed_same_files(tiny_dataset, tiny_plan, tmp_path):
    # The fixture used workers=1; a pool of 2 must give the identical bytes.
    gen.generate(str(tmp_path / "again"), workers=2, verbose=False, **tiny_plan[0])
    assert _digest(tmp_path / "again") == _digest(tiny_dataset)


def test_held_out_speakers_say_more_and_stay_disjoint():
    jobs, split = gen.plan(seed=0)  # the default size
    defaults = {k: p.default for k, p in inspect.signature(gen.plan).parameters.items()}
    by_split = {}
    for rel, word, speaker, repeat in jobs:
        by_split.setdefault(split[speaker], []).append((rel, speaker))
    speakers = {k: {s for _, s in v} for k, v in by_split.items()}
    everyone = len(gen.speakers())
    assert everyone == len(gen.VOICES) * len(gen.VARIANTS)
    held = max(1, round(0.1 * everyone))
    assert [len(speakers[k]) for k in ("training", "validation", "testing")] == [
        everyone - 2 * held, held, held]
    assert not (speakers["validation"] & speakers["testing"]
                or speakers["training"] & (speakers["validation"] | speakers["testing"]))
    # Each keyword `heldout_repeats` times + `heldout_unknown_per_speaker` unknown words per
    # held-out speaker; `repeats` and `unknown_per_speaker` per training speaker.
    per_train = len(KEYWORDS) * defaults["repeats"] + defaults["unknown_per_speaker"]
    per_held = len(KEYWORDS) * defaults["heldout_repeats"] + defaults["heldout_unknown_per_speaker"]
    assert [len(by_split[k]) for k in ("training", "validation", "testing")] == [
        (everyone - 2 * held) * per_train, held * per_held, held * per_held]
    # A clip's file name carries its speaker id, so the lists stay speaker-disjoint.
    ids = {k: {rel.split("/")[1].split("_")[0] for rel, _ in v} for k, v in by_split.items()}
    assert not ids["training"] & ids["testing"] and not ids["validation"] & ids["testing"]
    # Larger held-out splits leave the training clips unchanged.
    small, _ = gen.plan(seed=0, heldout_repeats=2, heldout_unknown_per_speaker=3)
    train = {j for j in jobs if split[j[2]] == "training"}
    assert train == {j for j in small if split[j[2]] == "training"}


def test_other_seed_other_data():
    jobs0, split0 = gen.plan(seed=0, n_speakers=6)
    jobs1, split1 = gen.plan(seed=1, n_speakers=6)
    assert split0 != split1
    a = gen.synthesize("yes", "en-us+m1", 0, seed=0)
    b = gen.synthesize("yes", "en-us+m1", 0, seed=1)
    assert a.dtype == np.int16 and a.shape == (gen.CLIP_SAMPLES,) and not np.array_equal(a, b)


def test_refuses_non_empty_out(tmp_path):
    (tmp_path / "x").write_text("keep me")
    with pytest.raises(FileExistsError, match="not empty"):
        gen.generate(str(tmp_path), n_speakers=3, repeats=1, verbose=False)


def test_bad_arguments():
    with pytest.raises(ValueError, match="n_speakers"):
        gen.plan(n_speakers=2)
    with pytest.raises(ValueError, match="repeats"):
        gen.plan(repeats=0)
    with pytest.raises(ValueError, match="heldout_repeats"):
        gen.plan(heldout_repeats=0)
    with pytest.raises(ValueError, match="noise kind"):
        gen.noise("purple", 10, np.random.default_rng(0))

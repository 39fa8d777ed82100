"""recipes/kws/protocols.py: voice-disjoint splits, unseen unknown words, small training
sets, on a pool of silent placeholder wavs in the generator's layout (no espeak-ng)."""

import json
import os

import numpy as np
import pytest

from recipes.kws import data as kws_data
from recipes.kws import generate, protocols


@pytest.fixture(scope="module")
def pool(tmp_path_factory):
    """The generator's plan for all 96 speakers (2 keyword repeats, 12 auxiliary words
    each), written as 1-sample wavs: the protocols only look at names."""
    root = tmp_path_factory.mktemp("pool")
    jobs, split = generate.plan(0, unknown_words=generate.AUX_WORDS, **{
        k: v for k, v in protocols.POOL_SIZE.items()})
    for rel, *_ in jobs:
        os.makedirs(root / os.path.dirname(rel), exist_ok=True)
        generate.write_wav(str(root / rel), np.zeros(16000, np.int16))
    os.makedirs(root / kws_data.BACKGROUND_DIR)
    generate.write_wav(str(root / kws_data.BACKGROUND_DIR / "n.wav"), np.ones(32000, np.int16))
    speakers = {k: sorted(s for s, v in split.items() if v == k) for k in kws_data.SPLITS}
    (root / "generator.json").write_text(json.dumps({"speakers": speakers}))
    return str(root)


def _speakers_by_split(view):
    with open(os.path.join(view, "protocol.json")) as f:
        return json.load(f)["speakers"]


def _words(view, split):
    ds = kws_data.SpeechCommands(view)
    return {w for w, files in ds.files(split).items() if files}


def test_voices_protocol_is_voice_disjoint_and_turns_with_the_seed(pool, tmp_path):
    tested = []
    for seed in range(4):
        view = protocols.build(protocols.get("voices"), pool, str(tmp_path / f"v{seed}"), seed)
        by = _speakers_by_split(view)
        family = {k: {s.split("+")[0] for s in v} for k, v in by.items()}
        assert len(family["testing"]) == 2 and len(family["validation"]) == 1
        assert not family["training"] & (family["testing"] | family["validation"])
        assert len(family["training"]) == 5
        tested.append(frozenset(family["testing"]))
    assert len(set(tested)) == 4  # four folds cover all eight families
    assert set().union(*tested) == {v for v in generate.VOICES}


def test_unknown_protocol_tests_on_words_never_heard_in_training(pool, tmp_path):
    view = protocols.build(protocols.get("unknown"), pool, str(tmp_path / "u"), 0)
    aux = set(generate.AUX_WORDS)
    train, test = _words(view, "training") & aux, _words(view, "testing") & aux
    assert len(train) == 10 and len(test) == 10 and not train & test
    ds = kws_data.SpeechCommands(view)
    speakers = _speakers_by_split(view)
    assert not set(speakers["training"]) & set(speakers["testing"])
    assert ds.files("training")  # loads as any Speech Commands folder


def test_small_protocol_has_about_100_training_clips_per_keyword(pool, tmp_path):
    view = protocols.build(protocols.get("small"), pool, str(tmp_path / "s"), 1)
    files = kws_data.SpeechCommands(view).files("training")
    per_word = [len(files[w]) for w in kws_data.KEYWORDS]
    assert per_word == [100] * len(kws_data.KEYWORDS)  # 50 speakers x 2 repeats


def test_same_seed_same_split_other_seed_other_split(pool, tmp_path):
    hard = protocols.get("hard")
    a = _speakers_by_split(protocols.build(hard, pool, str(tmp_path / "a"), 2))
    b = _speakers_by_split(protocols.build(hard, pool, str(tmp_path / "b"), 2))
    c = _speakers_by_split(protocols.build(hard, pool, str(tmp_path / "c"), 3))
    assert a == b and a != c


def test_unknown_protocol_name_is_a_clear_error():
    with pytest.raises(ValueError, match="--protocol 'nope' unknown; choose from default"):
        protocols.get("nope")


def test_cli_protocol_seeds_and_training_knobs():
    from recipes.kws.__main__ import parse_args

    cfg = parse_args(["--protocol", "hard", "--seeds", "0,1,2", "--activity-adapt", "0.2",
                      "--distill", "0.5", "--tune", "--tune-trials", "3", "--egru-epochs", "8",
                      "--threshold-init", "0.1", "--surrogate-width", "2",
                      "--activity-warmup", "0.2"])
    assert (cfg.protocol, cfg.seeds, cfg.activity_adapt, cfg.distill) == ("hard", (0, 1, 2), 0.2, 0.5)
    assert (cfg.tune, cfg.tune_trials, cfg.tune_epochs) == (True, 3, 4)
    assert (cfg.threshold_init, cfg.surrogate_width, cfg.activity_warmup) == (0.1, 2.0, 0.2)
    for bad in (["--protocol", "nope"], ["--seeds", "1,1"], ["--seeds", "a"],
                ["--distill", "0.5", "--models", "egru"], ["--protocol", "hard", "--data-dir", "x"],
                ["--threshold-init", "1.5"], ["--activity-adapt", "-1"],
                ["--activity-warmup", "1"]):
        with pytest.raises(SystemExit):
            parse_args(bad)

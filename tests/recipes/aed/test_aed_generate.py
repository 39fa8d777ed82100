"""The generator writes the ESC-50 layout: csv columns, balanced folds, file names,
5 s 16-bit wavs, event spans inside the clip; same seed, same bytes."""

import csv
import hashlib
import wave

import numpy as np
import pytest

from recipes.aed import generate


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    root = tmp_path_factory.mktemp("aed") / "data"
    generate.generate(str(root), clips_per_class=5, seed=1, progress=False)
    return root


def _rows(root):
    with open(root / "meta" / "esc50.csv", newline="") as f:
        reader = csv.DictReader(f)
        return reader.fieldnames, list(reader)


def test_layout(generated):
    columns, rows = _rows(generated)
    assert tuple(columns) == generate.COLUMNS
    assert len(rows) == 5 * len(generate.CLASSES)
    # Every class once in every fold (balanced), targets 0..9 named by category.
    pairs = {(int(r["fold"]), int(r["target"])) for r in rows}
    assert pairs == {(f, t) for f in range(1, 6) for t in range(len(generate.CLASSES))}
    assert {r["category"] for r in rows} == set(generate.CLASSES)
    assert {r["category"] for r in rows if r["esc10"] == "True"} == set(generate.ESC10)
    for r in rows:
        assert r["filename"] == f"{r['fold']}-{r['src_file']}-{r['take']}-{r['target']}.wav"
        with wave.open(str(generated / "audio" / r["filename"])) as w:
            assert (w.getnchannels(), w.getsampwidth(), w.getframerate(), w.getnframes()) == (
                1, 2, 16000, 80000)
    with open(generated / "meta" / "events.csv", newline="") as f:
        spans = {r["filename"]: (float(r["onset"]), float(r["offset"])) for r in csv.DictReader(f)}
    assert set(spans) == {r["filename"] for r in rows}
    assert all(0 < on < off <= 5.0 for on, off in spans.values())


def test_event_louder_than_background(generated):
    """The event span carries more energy than the rest of the clip (the SNR is >= 3 dB)."""
    from recipes.aed import data

    ds = data.load(str(generated), log=lambda _: None)
    louder = []
    for clip, (on, off) in zip(ds.audio, ds.events):
        a, b = int(on * 16000), int(off * 16000)
        rest = np.concatenate([clip[:a], clip[b:]])
        louder.append(np.mean(clip[a:b] ** 2) > np.mean(rest ** 2))
    assert np.mean(louder) > 0.9


def test_deterministic_for_a_seed(tmp_path):
    def digest(root):
        h = hashlib.sha256()
        for p in sorted((root / "audio").iterdir()):
            h.update(p.read_bytes())
        h.update((root / "meta" / "esc50.csv").read_bytes())
        return h.hexdigest()

    kw = dict(clips_per_class=5, classes=("siren", "cough"), progress=False)
    generate.generate(str(tmp_path / "a"), seed=4, **kw)
    generate.generate(str(tmp_path / "b"), seed=4, **kw)
    generate.generate(str(tmp_path / "c"), seed=5, **kw)
    assert digest(tmp_path / "a") == digest(tmp_path / "b") != digest(tmp_path / "c")


def test_bad_arguments():
    with pytest.raises(ValueError, match="--clips-per-class"):
        generate.generate("/nonexistent", clips_per_class=7)
    with pytest.raises(ValueError, match="unknown classes"):
        generate.generate("/nonexistent", clips_per_class=5, classes=("kazoo",))

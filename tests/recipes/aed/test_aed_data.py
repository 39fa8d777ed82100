"""The ESC-50 csv loader on a tiny hand-made fixture: a good 44.1 kHz wav (resampled), a
stereo wav, a corrupt wav and a missing file (reported and skipped), the csv checks and
the ESC-10 subset with its non-contiguous targets."""

import csv

import numpy as np
import pytest

from recipes.aed import data
from recipes.aed.generate import write_wav

COLUMNS = ("filename", "fold", "target", "category", "esc10", "src_file", "take")


def _write_csv(root, rows, columns=COLUMNS):
    (root / "meta").mkdir(parents=True, exist_ok=True)
    with open(root / "meta" / "esc50.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(columns)
        w.writerows(rows)


@pytest.fixture
def fixture_dir(tmp_path):
    audio = tmp_path / "audio"
    audio.mkdir()
    t = np.arange(44100) / 44100.0  # 1 s of a 440 Hz tone at 44.1 kHz
    write_wav(audio / "1-1-A-0.wav", 0.5 * np.sin(2 * np.pi * 440 * t), 44100)
    import soundfile

    soundfile.write(audio / "2-2-A-12.wav", np.stack([0.2 * np.ones(16000), np.zeros(16000)], 1),
                    16000, subtype="PCM_16")  # stereo: the loader averages the channels
    (audio / "3-3-A-0.wav").write_bytes(b"RIFF\x10\x00\x00\x00WAVEjunkjunkjunk")  # corrupt
    _write_csv(tmp_path, [
        ("1-1-A-0.wav", 1, 0, "dog", "True", 1, "A"),
        ("2-2-A-12.wav", 2, 12, "crackling_fire", "True", 2, "A"),
        ("3-3-A-0.wav", 3, 0, "dog", "True", 3, "A"),
        ("4-4-A-5.wav", 4, 5, "cat", "False", 4, "A"),  # missing file
    ])
    return tmp_path


def test_loader_resamples_and_skips_bad_files(fixture_dir):
    logged = []
    ds = data.load(str(fixture_dir), seconds=2.0, log=logged.append)
    assert ds.filenames == ["1-1-A-0.wav", "2-2-A-12.wav"]
    assert sorted(name for name, _ in ds.skipped) == ["3-3-A-0.wav", "4-4-A-5.wav"]
    assert len(logged) == 2 and all(line.startswith("skipped") for line in logged)
    assert ds.audio.shape == (2, 32000)  # padded to 2 s at 16 kHz
    # Resampled 44.1 -> 16 kHz: 1 s of audio is 16000 samples, the tone still at 440 Hz.
    tone = ds.audio[0, :16000]
    assert np.all(ds.audio[0, 16100:] == 0)
    spectrum = np.abs(np.fft.rfft(tone))
    assert abs(np.argmax(spectrum) - 440) <= 1
    assert np.allclose(ds.audio[1, 1000:15000], 0.1, atol=1e-3)  # mean of the two channels
    # Targets 0, 5, 12 renumbered in order; the class names follow.
    assert ds.class_names == ["dog", "cat", "crackling_fire"]
    assert ds.labels.tolist() == [0, 2] and ds.folds.tolist() == [1, 2]
    assert ds.events.tolist() == [[0.0, 2.0], [0.0, 2.0]]  # no events.csv: whole clip


def test_esc10_subset(fixture_dir):
    ds = data.load(str(fixture_dir), subset="esc10", seconds=1.0, log=lambda _: None)
    assert ds.class_names == ["dog", "crackling_fire"]  # cat is not an ESC-10 row
    assert [name for name, _ in ds.skipped] == ["3-3-A-0.wav"]


def test_csv_errors_name_the_fix(tmp_path):
    with pytest.raises(data.DatasetError, match="--data-dir"):
        data.read_meta(str(tmp_path))
    _write_csv(tmp_path, [("a.wav", 1, 0)], columns=("filename", "fold", "target"))
    with pytest.raises(data.DatasetError, match="lacks the columns"):
        data.read_meta(str(tmp_path))
    _write_csv(tmp_path, [("a.wav", "one", 0, "dog", "True", 1, "A")])
    with pytest.raises(data.DatasetError, match="integers"):
        data.read_meta(str(tmp_path))
    with pytest.raises(data.DatasetError, match="--subset"):
        data.read_meta(str(tmp_path), subset="esc20")
    _write_csv(tmp_path, [("a.wav", 1, 0, "dog", "True", 1, "A")])
    with pytest.raises(data.DatasetError, match="no readable wav"):
        data.load(str(tmp_path), log=lambda _: None)

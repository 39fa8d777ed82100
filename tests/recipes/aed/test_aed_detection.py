"""Streaming detection against hand-computed cases: window scores, events from frame
labels, onset-collar matching, the stream's reference times, the energy gate and its tuning."""

import numpy as np
import pytest

from recipes.aed import detection


def test_scores_are_windowed_mean_softmax():
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(20, 3))
    s = detection.scores(logits, 4)
    for t in (0, 2, 3, 19):
        mean = logits[max(0, t - 3):t + 1].mean(axis=0)
        expect = np.exp(mean) / np.exp(mean).sum()
        assert np.allclose(s[t], expect)


def test_detect_runs_threshold_and_min_length():
    s = np.full((12, 2), 0.5)
    s[1:5] = [0.9, 0.1]  # class 0 for 4 frames
    s[6:7] = [0.1, 0.9]  # class 1 for 1 frame: shorter than min_seconds
    s[8:12] = [0.4, 0.6]  # class 1 at 0.6, below the 0.7 threshold
    events = detection.detect(s, 0.1, threshold=0.7, min_seconds=0.2)
    assert events == [(pytest.approx(0.1), pytest.approx(0.5), 0)]
    events = detection.detect(s, 0.1, threshold=0.55, min_seconds=0.2)
    # class 1 at frame 6 and frames 8-11, one frame apart: merged into one event from 0.6 s
    assert events == [(pytest.approx(0.1), pytest.approx(0.5), 0),
                      (pytest.approx(0.6), pytest.approx(1.2), 1)]
    s[3] = [0.5, 0.5]  # a one-frame dip inside the class-0 run: one event, not two
    events = detection.detect(s, 0.1, threshold=0.7, min_seconds=0.2)
    assert events == [(pytest.approx(0.1), pytest.approx(0.5), 0)]
    s[2] = [0.5, 0.5]  # two frames (0.2 s) apart: two runs of 0.1 s, too short to keep
    assert detection.detect(s, 0.1, threshold=0.7, min_seconds=0.2) == []


def test_match_onset_collar_one_to_one():
    reference = [(1.0, 2.0, 0), (5.0, 6.0, 1), (9.0, 9.5, 0)]
    detected = [(1.4, 2.0, 0),   # TP (0.4 s late)
                (1.6, 2.2, 0),   # duplicate of the same reference: FP
                (5.2, 6.0, 0),   # wrong class: FP
                (10.5, 11.0, 0)]  # onset 1.5 s late: FP
    m = detection.match(detected, reference, tolerance=1.0)
    assert m["true_positives"] == 1
    assert m["precision"] == pytest.approx(1 / 4) and m["recall"] == pytest.approx(1 / 3)
    assert m["f1"] == pytest.approx(2 * (1 / 4) * (1 / 3) / (1 / 4 + 1 / 3))
    assert detection.match([], reference, 1.0)["f1"] == 0.0


def test_stream_reference_times():
    rng = np.random.default_rng(1)
    audio = np.ones((3, 16000), np.float32)
    spans = np.array([[0.2, 0.5], [0.0, 1.0], [0.5, 0.9]])
    stream, ref = detection.build_stream(audio, [2, 0, 1], spans, 1.0, (0.5, 0.5), rng)
    assert len(stream) == 3 * 16000 + 3 * 8000
    assert ref == [(pytest.approx(0.7), pytest.approx(1.0), 2),
                   (pytest.approx(2.0), pytest.approx(3.0), 0),
                   (pytest.approx(4.0), pytest.approx(4.4), 1)]
    for start in (0.5, 2.0, 3.5):  # each clip (all ones) starts after its 0.5 s gap
        i = int(round(start * 16000))
        assert stream[i] == 1.0 and abs(stream[i - 1]) < 0.1


def test_energy_gate_removes_detections_in_quiet_frames():
    s = np.zeros((20, 2))
    s[:, 0] = 1.0  # class 0 everywhere: one event over the whole stream
    active = np.zeros(20, bool)
    active[3:8] = active[12:18] = True  # two loud stretches
    assert detection.detect(s, 0.1, 0.5, 0.2) == [(0.0, pytest.approx(2.0), 0)]
    assert detection.detect(s, 0.1, 0.5, 0.2, active) == [
        (pytest.approx(0.3), pytest.approx(0.8), 0), (pytest.approx(1.2), pytest.approx(1.8), 0)]


def test_tune_gate_finds_the_gate_between_events_and_gaps():
    from types import SimpleNamespace

    cfg = SimpleNamespace(score_window=0.1, detection_threshold=0.5, min_event=0.2,
                          onset_tolerance=0.25)
    # 0.1 s frames: gaps (energy -2) of 1 s around two 1 s events (energy +1) of classes
    # 0 and 1; the logits stay on the last class through the gap after it.
    energy = np.full(50, -2.0)
    logits = np.zeros((50, 2))
    energy[10:20] = energy[30:40] = 1.0
    logits[:30, 0] = logits[30:, 1] = 5.0
    reference = [(1.0, 2.0, 0), (3.0, 4.0, 1)]
    # ungated: one class-0 run from 0 s (onset 1 s early) and one class-1 run from 3 s
    assert detection.evaluate_stream(logits, reference, 0.1, cfg)[2]["f1"] == pytest.approx(0.5)
    best = detection.tune_gate(logits, energy, reference, 0.1, cfg)
    assert best["f1"] == 1.0 and -2.0 < best["gate"] <= 1.0
    detected = detection.evaluate_stream(logits, reference, 0.1, cfg, energy, best["gate"])[1]
    assert detected == [(pytest.approx(1.0), pytest.approx(2.0), 0),
                        (pytest.approx(3.0), pytest.approx(4.0), 1)]

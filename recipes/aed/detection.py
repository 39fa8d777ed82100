"""Streaming acoustic-event detection, as a device runs it, and its event-level scores.

The stream: test clips concatenated with gaps of quiet background noise between them
(``build_stream``). A model runs over it once, frame by frame, its state carried across
clips and gaps (``frame_logits``: the recurrent layer returns every step and the trained
head is applied per frame). The score of frame t is the softmax of the per-frame logits
averaged over the last ``--score-window`` seconds: for the models that average their
outputs over time (EGRU, Delta-GRU, eGRU) this is the trained clip classifier applied to
the window (mean_t Dense(y_t) = Dense(mean_t y_t)); for the GRU, which reads its last
step, it smooths the per-step logits. A frame is labelled with its top class when that
class's score reaches ``--detection-threshold``; runs of one label less than
``--min-event`` apart are merged, runs shorter than ``--min-event`` are then dropped,
and each remaining run is a detected event.

No model has a "no event" class, so in the quiet gaps the window keeps the last clip's
label. Two gates reject background, both tuned per model on a stream of the fold's
validation clips (``tune_gate``, never on the test stream): an energy gate (a frame
whose mean standardised log-mel is below the gate gets no label, the wake-on-energy of
always-on detectors) and the score threshold itself.

Event-based metrics with an onset collar (Mesaros, Heittola & Virtanen, "Metrics for
Polyphonic Sound Event Detection", Applied Sciences 2016, sec. 4.2): a detection is a
true positive when it has the reference event's class and its onset is within
``--onset-tolerance`` seconds of the reference onset; each reference matches at most one
detection. Precision = TP / detections, recall = TP / references, F1 their harmonic mean.
"""

import numpy as np


def build_stream(audio, labels, spans, seconds, gap_seconds, rng, sample_rate=16000):
    """Concatenates clips with background gaps.

    Args:
      audio: (clips, samples) float audio; labels: (clips,) ints; spans: (clips, 2) event
        onset/offset within each clip (seconds).
      gap_seconds: (low, high): each gap's length is uniform in it.
      rng: a numpy Generator (gap lengths, noise).
    Returns: (stream audio, reference events [(onset s, offset s, label)]).
    """
    pieces, events, t = [], [], 0.0
    for clip, label, (onset, offset) in zip(audio, labels, spans):
        gap = int(rng.uniform(*gap_seconds) * sample_rate)
        level = 10 ** (rng.uniform(-50, -40) / 20)
        pieces.append((level * rng.standard_normal(gap)).astype(np.float32))
        t += gap / sample_rate
        pieces.append(np.asarray(clip, np.float32))
        events.append((t + float(onset), t + float(offset), int(label)))
        t += len(clip) / sample_rate
    return np.concatenate(pieces), events


def frame_model(model):
    """A Keras model giving ``model``'s per-frame logits [B, T, classes]: the same layers
    with the recurrent layer returning every step, no time pooling, a linear head."""
    import keras

    layers = [keras.Input((None, model.inputs[0].shape[-1]))]  # any stream length
    for layer in model.layers:
        if isinstance(layer, keras.layers.GlobalAveragePooling1D):
            continue
        config = layer.get_config()
        if isinstance(layer, keras.layers.RNN):  # GRU is an RNN subclass
            config["return_sequences"] = True
        if isinstance(layer, keras.layers.Dense):
            config["activation"] = "linear"
        clone = type(layer).from_config(config)
        layers.append(clone)
    out = keras.Sequential(layers, name=f"{model.name}_frames")
    for src, dst in zip([l for l in model.layers if not isinstance(l, keras.layers.GlobalAveragePooling1D)],
                        out.layers):
        dst.set_weights(src.get_weights())
    return out


def frame_logits(model, x):
    """Per-frame logits [T, classes] of ``model`` over one stream x [T, features]."""
    return np.asarray(frame_model(model).predict(x[None], verbose=0))[0]


def scores(logits, window):
    """Softmax of the per-frame logits averaged over the last ``window`` frames."""
    c = np.cumsum(np.concatenate([np.zeros((1, logits.shape[1])), logits]), axis=0)
    t = np.arange(1, len(logits) + 1)
    start = np.maximum(0, t - window)
    mean = (c[t] - c[start]) / (t - start)[:, None]
    e = np.exp(mean - mean.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def detect(frame_scores, frame_seconds, threshold, min_seconds, active=None):
    """Detected events [(onset s, offset s, label)] from per-frame scores [T, classes];
    frames where the boolean mask ``active`` [T] is False get no label (energy gate)."""
    top, best = frame_scores.argmax(axis=1), frame_scores.max(axis=1)
    labels = np.where(best >= threshold, top, -1)
    if active is not None:
        labels = np.where(active, labels, -1)
    runs, start = [], 0
    for t in range(1, len(labels) + 1):
        if t == len(labels) or labels[t] != labels[start]:
            if labels[start] >= 0:
                if runs and runs[-1][2] == labels[start] and start - runs[-1][1] < min_seconds / frame_seconds:
                    runs[-1][1] = t  # a short dip inside one event: merge
                else:
                    runs.append([start, t, int(labels[start])])
            start = t
    return [(a * frame_seconds, b * frame_seconds, label) for a, b, label in runs
            if (b - a) * frame_seconds >= min_seconds - 1e-9]


def match(detected, reference, tolerance):
    """Event-based precision, recall, F1 with an onset collar (module docstring)."""
    used = set()
    tp = 0
    for onset, _, label in detected:
        candidates = [(abs(onset - r[0]), i) for i, r in enumerate(reference)
                      if i not in used and r[2] == label and abs(onset - r[0]) <= tolerance]
        if candidates:
            used.add(min(candidates)[1])
            tp += 1
    precision = tp / len(detected) if detected else 0.0
    recall = tp / len(reference) if reference else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "true_positives": tp,
            "detections": len(detected), "references": len(reference)}


def frame_energy(x):
    """The energy-gate statistic of stream features x [T, bands]: the mean over bands of
    the standardised log-mel (a monotone function of the frame's log energy)."""
    return np.asarray(x).mean(axis=1)


def evaluate_stream(logits, reference, frame_seconds, cfg, energy=None, gate=None,
                    threshold=None):
    """Scores, detections and metrics of one model's per-frame logits on the stream;
    with an ``energy`` [T] and a ``gate`` only frames with energy >= gate are labelled;
    ``threshold`` overrides ``cfg.detection_threshold``."""
    window = max(1, int(round(cfg.score_window / frame_seconds)))
    s = scores(logits, window)
    active = None if gate is None else np.asarray(energy) >= gate
    threshold = cfg.detection_threshold if threshold is None else threshold
    detected = detect(s, frame_seconds, threshold, cfg.min_event, active)
    return s, detected, match(detected, reference, cfg.onset_tolerance)


GATE_QUANTILES = tuple(q / 100 for q in range(5, 80, 5))  # of the stream's frame energies
THRESHOLDS = (0.5, 0.6, 0.7, 0.8, 0.9)


def tune_gate(logits, energy, reference, frame_seconds, cfg):
    """The energy gate and score threshold with the best F1 on a (validation) stream:
    every gate at ``GATE_QUANTILES`` of its frame energies (and no gate) times every
    score threshold in ``THRESHOLDS`` (and ``cfg.detection_threshold``); ties keep the
    first (no gate, lowest threshold). Returns {"gate", "threshold", "f1"}."""
    gates = [None] + [float(np.quantile(energy, q)) for q in GATE_QUANTILES]
    thresholds = sorted({*THRESHOLDS, cfg.detection_threshold})
    best = None
    for gate in gates:
        for threshold in thresholds:
            f1 = evaluate_stream(logits, reference, frame_seconds, cfg, energy, gate,
                                 threshold)[2]["f1"]
            if best is None or f1 > best["f1"]:
                best = {"gate": gate, "threshold": threshold, "f1": f1}
    return best

"""The streaming-detection stage: the fold-1 test clips as one stream with gaps, every
recurrent model run over it frame by frame, event-level P/R/F1 (``detection``) in its
results row (``detection_precision``, ``detection_recall``, ``detection_f1``). The
DS-CNN classifies whole clips and is not run as a stream.

With ``cfg.gate`` (default; ``--no-gate``) each model's energy gate and score threshold
are tuned on a second stream built the same way from the fold's validation clips
(``detection.tune_gate``) and applied to the test stream; the ungated numbers stay in the
row (``detection_*_ungated``)."""

import numpy as np

from recipes.aed import detection
from recipes.aed.config import log
from recipes.aed.prepare import pooled_log_mel
from recipes.kws import features as kws_features

STREAM_MODELS = ("gru", "egru", "delta_gru", "embedded_gru")


def _stream(cfg, state, split, seed):
    """(standardised features [T, 40], reference events, seconds) of a stream of up to
    ``cfg.stream_clips`` clips of ``split``."""
    ds = state["dataset"]
    rng = np.random.default_rng([cfg.seed, seed])
    pick = rng.permutation(state["index"][split])[:cfg.stream_clips]
    audio, reference = detection.build_stream(ds.audio[pick], ds.labels[pick], ds.events[pick],
                                              cfg.seconds, cfg.gap_seconds, rng)
    norm = state["feature_norm"]
    x = kws_features.standardize(pooled_log_mel(audio, cfg.pool)[0], norm["mean"], norm["std"])
    return x, reference, len(audio) / 16000.0


def stage_detect(cfg, state):
    x, reference, seconds = _stream(cfg, state, "testing", 31)
    frame_seconds = cfg.frame_ms / 1000.0
    energy = detection.frame_energy(x)
    if cfg.gate:
        x_val, ref_val, _ = _stream(cfg, state, "validation", 37)
        energy_val = detection.frame_energy(x_val)
    out = {"seconds": seconds, "frames": int(len(x)), "frame_seconds": frame_seconds,
           "reference": reference, "models": {}}
    for name in STREAM_MODELS:
        if name not in state.get("models", {}):
            continue
        logits = detection.frame_logits(state["models"][name], x)
        _, _, plain = detection.evaluate_stream(logits, reference, frame_seconds, cfg)
        row = {f"detection_{k}_ungated": plain[k] for k in ("precision", "recall", "f1")}
        tuned = {"gate": None, "threshold": cfg.detection_threshold}
        if cfg.gate:
            tuned = detection.tune_gate(detection.frame_logits(state["models"][name], x_val),
                                        energy_val, ref_val, frame_seconds, cfg)
            row.update(detection_gate=tuned["gate"], detection_threshold=tuned["threshold"],
                       detection_validation_f1=tuned["f1"])
        scores, detected, metrics = detection.evaluate_stream(
            logits, reference, frame_seconds, cfg, energy, tuned["gate"], tuned["threshold"])
        out["models"][name] = {"scores": scores, "detected": detected, **metrics,
                               "gate": tuned["gate"], "threshold": tuned["threshold"],
                               "ungated": plain}
        row.update({f"detection_{k}": metrics[k] for k in ("precision", "recall", "f1")})
        state["results"][name].update(row)
        gate = "" if not cfg.gate else (
            f" (gate {'none' if tuned['gate'] is None else format(tuned['gate'], '.2f')}, "
            f"threshold {tuned['threshold']:.2f}; ungated F1 {plain['f1']:.3f})")
        log(f"{name} stream ({out['seconds']:.0f} s, {len(reference)} events): P "
            f"{metrics['precision']:.3f} R {metrics['recall']:.3f} F1 {metrics['f1']:.3f}{gate}")
    if "egru" in state.get("models", {}):
        out["egru_events"] = _events(state["models"]["egru"], x)
    out["features"] = x
    state["stream"] = out
    return state


def _events(model, x):
    """The EGRU layer's events (y != 0) over the stream [T, units]."""
    import keras

    frames = detection.frame_model(model)
    rnn = [l for l in frames.layers if isinstance(l, keras.layers.RNN)][0]
    probe = keras.Model(frames.inputs, rnn.output)
    return np.asarray(probe.predict(x[None], verbose=0))[0] != 0


def summary(stream):
    """The JSON-able part of ``state["stream"]`` (no per-frame arrays)."""
    if not stream:
        return None
    return {"seconds": stream["seconds"], "frames": stream["frames"],
            "references": len(stream["reference"]),
            "models": {n: {k: v for k, v in m.items() if k not in ("scores", "detected")}
                       for n, m in stream["models"].items()}}

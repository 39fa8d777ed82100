"""The streaming-detection stage: the fold-1 test clips as one stream with gaps, every
recurrent model run over it frame by frame, event-level P/R/F1 (``detection``) in its
results row (``detection_precision``, ``detection_recall``, ``detection_f1``). The
DS-CNN classifies whole clips and is not run as a stream."""

import numpy as np

from recipes.aed import detection
from recipes.aed.config import log
from recipes.aed.prepare import pooled_log_mel
from recipes.kws import features as kws_features

STREAM_MODELS = ("gru", "egru", "delta_gru", "embedded_gru")


def stage_detect(cfg, state):
    ds, test = state["dataset"], state["index"]["testing"]
    rng = np.random.default_rng([cfg.seed, 31])
    pick = rng.permutation(test)[:cfg.stream_clips]
    audio, reference = detection.build_stream(ds.audio[pick], ds.labels[pick], ds.events[pick],
                                              cfg.seconds, cfg.gap_seconds, rng)
    norm = state["feature_norm"]
    x = kws_features.standardize(pooled_log_mel(audio, cfg.pool)[0], norm["mean"], norm["std"])
    frame_seconds = cfg.frame_ms / 1000.0
    out = {"seconds": len(audio) / 16000.0, "frames": int(len(x)), "frame_seconds": frame_seconds,
           "reference": reference, "models": {}}
    for name in STREAM_MODELS:
        if name not in state.get("models", {}):
            continue
        logits = detection.frame_logits(state["models"][name], x)
        scores, detected, metrics = detection.evaluate_stream(logits, reference, frame_seconds, cfg)
        out["models"][name] = {"scores": scores, "detected": detected, **metrics}
        state["results"][name].update({f"detection_{k}": metrics[k]
                                       for k in ("precision", "recall", "f1")})
        log(f"{name} stream ({out['seconds']:.0f} s, {len(reference)} events): P "
            f"{metrics['precision']:.3f} R {metrics['recall']:.3f} F1 {metrics['f1']:.3f}")
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

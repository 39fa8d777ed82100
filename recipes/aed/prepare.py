"""Data and feature stages of the acoustic-event recipe, and the fold splits.

Features: the shared log-mel front end (``recipes.kws.features``: 40 HTK mels, 30 ms
window every 10 ms, 16 kHz) with ``cfg.pool`` consecutive frames averaged into one
(``--frame-ms``), standardised with the training folds' mean and std (one scalar pair,
as the C front end applies it).
"""

import os

import numpy as np

from recipes.aed import data as aed_data
from recipes.aed.config import log
from recipes.kws import features as kws_features


def pooled_log_mel(audio, pool):
    """(N, T) 16 kHz audio -> (N, frames // pool, 40) log-mel, ``pool`` frames averaged."""
    lm = kws_features.log_mel_batched(np.atleast_2d(audio), batch_size=64)
    frames = lm.shape[1] // pool
    return lm[:, :frames * pool].reshape(lm.shape[0], frames, pool, -1).mean(axis=2)


def stage_data(cfg, state):
    """Loads ``cfg.data_dir`` (ESC-50 layout) or generates a dataset into ``<out>/data``
    first (``recipes.aed.generate``; reused when its settings match)."""
    data_dir = cfg.data_dir
    if data_dir is None:
        data_dir = os.path.join(cfg.out, "data")
        if not _generated_matches(data_dir, cfg):
            from recipes.aed import generate

            log(f"generating {cfg.clips_per_class} clips per class into {data_dir}")
            generate.generate(data_dir, cfg.clips_per_class, cfg.seed, seconds=cfg.seconds)
    bar = _progress(len(aed_data.read_meta(data_dir, cfg.subset)), "clip")
    ds = aed_data.load(data_dir, cfg.subset, cfg.seconds, log=log, progress=bar.add)
    log(f"loaded {len(ds.labels)} clips, {len(ds.class_names)} classes, folds "
        f"{sorted(set(ds.folds.tolist()))} ({len(ds.skipped)} skipped)")
    state.update(dataset=ds, data_dir=data_dir, class_names=list(ds.class_names))
    return state


def _generated_matches(data_dir, cfg):
    import json

    path = os.path.join(data_dir, "generator.json")
    if not os.path.isfile(path):
        return False
    with open(path) as f:
        meta = json.load(f)
    return (meta.get("seed") == cfg.seed and meta.get("clips_per_class") == cfg.clips_per_class
            and meta.get("seconds") == cfg.seconds)


def _progress(total, unit):
    import sys

    import keras

    return keras.utils.Progbar(total, unit_name=unit, verbose=1 if sys.stderr.isatty() else 2)


def stage_features(cfg, state):
    """Log-mel features of every clip (``pooled_log_mel``), [clips, frames, 40]."""
    ds = state["dataset"]
    state["features"] = pooled_log_mel(ds.audio, cfg.pool)
    log(f"features {state['features'].shape} ({cfg.frame_ms} ms frames)")
    return state


def augment(x, copies, seed):
    """``copies`` augmented copies of standardised features x [N, T, F] stacked after x:
    a random circular time shift and a level change (+-0.5 std of the log-mel, i.e. a
    gain of a few dB) per clip."""
    rng = np.random.default_rng([seed, 23])
    out = [x]
    for _ in range(copies):
        shifts = rng.integers(0, x.shape[1], len(x))
        gains = rng.uniform(-0.5, 0.5, (len(x), 1, 1)).astype(np.float32)
        out.append(np.stack([np.roll(c, s, axis=0) for c, s in zip(x, shifts)]) + gains)
    return np.concatenate(out)


def fold_split(cfg, state, test_fold):
    """The state of one fold: test = ``test_fold``; training = the other folds minus a
    stratified 10 % validation part (best-epoch choice), with ``cfg.augment_copies``
    augmented copies stacked after it; standardised by the training mean/std."""
    ds, x = state["dataset"], state["features"]
    test = np.flatnonzero(ds.folds == test_fold)
    rest = np.flatnonzero(ds.folds != test_fold)
    if len(test) == 0 or len(rest) == 0:
        raise aed_data.DatasetError(f"fold {test_fold} leaves an empty training or test set "
                                    f"(folds present: {sorted(set(ds.folds.tolist()))}).")
    rng = np.random.default_rng([cfg.seed, test_fold])
    validation = np.concatenate([
        rng.permutation(rest[ds.labels[rest] == c])[:max(1, int(round(0.1 * np.sum(ds.labels[rest] == c))))]
        for c in np.unique(ds.labels[rest])])
    training = np.setdiff1d(rest, validation)
    mean, std = float(x[training].mean()), float(x[training].std())

    def norm(i):
        return kws_features.standardize(x[i], mean, std)

    return {
        "test_fold": test_fold, "data_dir": state["data_dir"], "class_names": state["class_names"],
        "dataset": ds, "feature_norm": {"mean": mean, "std": std},
        "index": {"training": training, "validation": validation, "testing": test},
        "x_training": augment(norm(training), cfg.augment_copies, cfg.seed),
        "y_training": np.tile(ds.labels[training], cfg.augment_copies + 1),
        "augment_copies": cfg.augment_copies,
        "x_validation": norm(validation), "y_validation": ds.labels[validation],
        "x_testing": norm(test), "y_testing": ds.labels[test],
    }

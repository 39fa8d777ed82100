"""The keyword recipe's first two stages: data (load or generate the Speech Commands
layout) and features (log-mel, augmented copies, cached, standardised)."""

import hashlib
import os
import time

import numpy as np

from recipes.kws import batches
from recipes.kws import data as kws_data
from recipes.kws import features as kws_features
from recipes.kws import generate as kws_generate
from recipes.kws import protocols
from recipes.kws.config import log


def pool_dir(cfg):
    """Where the protocols' clip pool lives: ``--pool-dir``, else ``<out>/pool``."""
    return cfg.pool_dir or os.path.join(cfg.out, "pool-quick" if cfg.quick else "pool")


def _protocol_dir(cfg):
    """The protocol's view of the shared pool (``protocols.py``), built for ``cfg.seed``."""
    pool = protocols.ensure_pool(pool_dir(cfg), quick=cfg.quick, log=log)
    return protocols.build(protocols.get(cfg.protocol), pool,
                           os.path.join(cfg.out, f"{cfg.protocol}-data"), cfg.seed)


def stage_data(cfg, state):
    """Loads the three splits (generating the dataset first if no --data-dir; with a
    ``--protocol`` other than default, the protocol's split of the generated pool)."""
    data_dir = cfg.data_dir
    fractions = {}
    if data_dir is None and cfg.protocol != "default":
        protocol = protocols.get(cfg.protocol)
        data_dir = _protocol_dir(cfg)
        fractions = dict(unknown_fraction=protocol.unknown_fraction,
                         silence_fraction=protocol.silence_fraction)
    if data_dir is None:
        data_dir = os.path.join(cfg.out, "data-quick" if cfg.quick else "data")
        if not os.path.exists(os.path.join(data_dir, "generator.json")):
            if os.path.isdir(data_dir):  # an interrupted earlier run: start over
                import shutil

                shutil.rmtree(data_dir)
            log(f"no --data-dir: generating the offline dataset into {data_dir}")
            size = dict(n_speakers=10, repeats=1, unknown_per_speaker=1, heldout_repeats=1,
                        heldout_unknown_per_speaker=1) if cfg.quick else {}
            kws_generate.generate(data_dir, seed=cfg.seed, **size)
    dataset = kws_data.SpeechCommands(data_dir, keywords=cfg.keywords, seed=cfg.seed, **fractions)
    splits = {name: dataset.load(name) for name in kws_data.SPLITS}
    for name, split in splits.items():
        log(f"{name}: {len(split.labels)} clips")
    state.update(data_dir=os.path.abspath(data_dir), dataset=dataset, splits=splits,
                 class_names=list(dataset.class_names))
    return state


def _cache_key(cfg, state):
    """Changes whenever the clips, the augmentation or the front end change."""
    h = hashlib.sha1()
    for name in kws_data.SPLITS:
        h.update("\n".join(state["splits"][name].paths).encode())
    h.update(repr((state["data_dir"], cfg.seed, state["augment_copies"], kws_features.N_MELS,
                   kws_features.FMIN, kws_features.FMAX, kws_features.EPS)).encode())
    if cfg.frontend != "float":  # keeps the float path's existing cache keys
        from keras_events._native import host

        h.update(cfg.frontend.encode())
        sources, headers = host.FRONT_ENDS["logmel_q"]
        for path in (*sources, *headers):  # the C code is the front end
            h.update(path.read_bytes())
    return h.hexdigest()[:12]


def _log_mel(cfg, audio):
    """(N, frames, 40) float32 log-mel of float audio by the configured front end; q15
    reads the clips as the board does (int16) and returns its Q10 output / 1024."""
    if cfg.frontend == "q15":
        from recipes.kws.deploy import _int16
        from recipes.kws.logmel_q import CLogMelQ

        return CLogMelQ().clips(_int16(audio))
    return kws_features.log_mel_batched(audio)


def stage_features(cfg, state):
    """Log-mel features (98, 40) per clip from ``--frontend`` (float or q15), cached as
    .npy under ``<out>/features/``.

    The training clips are stored clean and as ``augment_copies`` augmented copies
    (time shift ±100 ms and background noise, see ``data.augment``), stacked; each
    training epoch reads the clean set and one of the copies (``batches.py``).
    Features are then standardised by one global mean/std from the training set;
    these two numbers are stored (``feature_norm``) and given to the C front end as
    ``norm_mean`` and ``norm_scale = 1 / std``, so the board computes the model's
    input directly.
    """
    clips = len(state["splits"]["training"].labels)
    copies = cfg.augment_copies
    state["augment_copies"] = batches.default_copies(clips) if copies is None else copies
    cache = os.path.join(cfg.out, "features", _cache_key(cfg, state))
    names = [f"{kind}_{split}" for split in kws_data.SPLITS for kind in ("x", "y")]
    if all(os.path.exists(os.path.join(cache, f"{n}.npy")) for n in names):
        log(f"features: cached in {cache}")
        arrays = {n: np.load(os.path.join(cache, f"{n}.npy")) for n in names}
    else:
        started = time.perf_counter()
        arrays = {}
        rng = np.random.default_rng([cfg.seed, 7])
        background = state["dataset"].background_noise()
        for split_name in kws_data.SPLITS:
            split = state["splits"][split_name]
            audio, labels = [split.audio], [split.labels]
            if split_name == "training":
                for _ in range(state["augment_copies"]):
                    audio.append(kws_data.augment(split.audio, background, rng))
                    labels.append(split.labels)
            arrays[f"x_{split_name}"] = _log_mel(cfg, np.concatenate(audio))
            arrays[f"y_{split_name}"] = np.concatenate(labels)
        os.makedirs(cache, exist_ok=True)
        for n, a in arrays.items():
            np.save(os.path.join(cache, f"{n}.npy"), a)
        log(f"features: computed in {time.perf_counter() - started:.1f} s -> {cache}")
    mean = float(arrays["x_training"].mean())
    std = float(arrays["x_training"].std())
    for split_name in kws_data.SPLITS:
        arrays[f"x_{split_name}"] = kws_features.standardize(arrays[f"x_{split_name}"], mean, std)
    state.update(arrays)
    state["feature_norm"] = {"mean": mean, "std": std}
    return state

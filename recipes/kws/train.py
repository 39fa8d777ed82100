"""The keyword-spotting recipe as stages: data -> features -> train -> prune ->
export -> run on host/MCU -> report.

Each stage is a function ``stage_x(cfg, state)`` that reads what earlier stages put
in the ``state`` dict and adds its own results, so a stage can be replaced or
extended on its own. Stages not built yet (pruning with ``keras_events.sparsity``,
export with ``keras_events.export.to_tflite``, the MCU run with
``keras_events.micro``) record ``"n/a"`` with the reason, and the report marks them.

Models (DESIGN.md, "What is already known"):
  * ``gru``:  Input(98, 40) -> keras.layers.GRU(units) -> Dense(12, softmax)
  * ``egru``: Input(98, 40) -> EGRU(units, return_sequences=True) (an
    ``RNN(EGRUCell)`` with an event-rate penalty) -> GlobalAveragePooling1D ->
    Dense(12, softmax). The classifier reads the mean of y over time: the last
    step's y is usually 0 and training would stay at chance.
Both use Adam(1e-3, clipnorm=1.0): without clipping EGRU plateaus far lower.
"""

import dataclasses
import hashlib
import json
import os
import sys
import time

import numpy as np

from recipes.kws import data as kws_data
from recipes.kws import features as kws_features
from recipes.kws import generate as kws_generate

NOT_BUILT = "n/a"


@dataclasses.dataclass
class Config:
    """Recipe settings (see ``python -m recipes.kws --help``)."""

    data_dir: str = None
    out: str = "build/kws"
    epochs: int = 20
    egru_epochs: int = None  # default: 2 x epochs (EGRU needs 2-3x more, DESIGN.md)
    units: int = 64
    target_sparsity: float = 0.8
    activity_reg: float = 0.3
    target_event_rate: float = 0.0
    batch_size: int = 32
    augment_copies: int = 1
    seed: int = 0
    quick: bool = False
    models: tuple = ("gru", "egru")
    keywords: tuple = kws_data.KEYWORDS
    plots: bool = True

    def __post_init__(self):
        if self.quick:  # smoke test: tiny data, tiny models, one epoch
            self.epochs, self.egru_epochs, self.units = 1, 1, 16
        if self.egru_epochs is None:
            self.egru_epochs = 2 * self.epochs
        for name in ("epochs", "egru_epochs", "units", "batch_size"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"--{name.replace('_', '-')} must be >= 1, got {getattr(self, name)}.")
        if self.augment_copies < 0:
            raise ValueError(f"--augment-copies must be >= 0, got {self.augment_copies}.")
        if not 0.0 <= self.target_sparsity < 1.0:
            raise ValueError(f"--target-sparsity must be in [0, 1), got {self.target_sparsity}.")
        if self.activity_reg < 0:
            raise ValueError(f"--activity-reg must be >= 0, got {self.activity_reg}.")
        unknown = set(self.models) - {"gru", "egru"}
        if unknown:
            raise ValueError(f"--models {sorted(unknown)} unknown; choose from gru, egru.")


def _log(message):
    print(f"[kws] {message}", file=sys.stderr, flush=True)


# -- stage 1: data ------------------------------------------------------------------


def stage_data(cfg, state):
    """Loads the three splits (generating the dataset first if no --data-dir)."""
    data_dir = cfg.data_dir
    if data_dir is None:
        data_dir = os.path.join(cfg.out, "data-quick" if cfg.quick else "data")
        if not os.path.exists(os.path.join(data_dir, "generator.json")):
            if os.path.isdir(data_dir):  # an interrupted earlier run: start over
                import shutil

                shutil.rmtree(data_dir)
            _log(f"no --data-dir: generating the offline dataset into {data_dir}")
            size = dict(n_speakers=10, repeats=1, unknown_per_speaker=1) if cfg.quick else {}
            kws_generate.generate(data_dir, seed=cfg.seed, **size)
    dataset = kws_data.SpeechCommands(data_dir, keywords=cfg.keywords, seed=cfg.seed)
    splits = {name: dataset.load(name) for name in kws_data.SPLITS}
    for name, split in splits.items():
        _log(f"{name}: {len(split.labels)} clips")
    state.update(data_dir=os.path.abspath(data_dir), dataset=dataset, splits=splits,
                 class_names=list(dataset.class_names))
    return state


# -- stage 2: features ------------------------------------------------------------------


def _cache_key(cfg, state):
    """Changes whenever the clips, the augmentation or the front end change."""
    h = hashlib.sha1()
    for name in kws_data.SPLITS:
        h.update("\n".join(state["splits"][name].paths).encode())
    h.update(repr((state["data_dir"], cfg.seed, cfg.augment_copies, kws_features.N_MELS,
                   kws_features.FMIN, kws_features.FMAX, kws_features.EPS)).encode())
    return h.hexdigest()[:12]


def stage_features(cfg, state):
    """Log-mel features (98, 40) per clip, cached as .npy under ``<out>/features/``.

    Training clips are used clean plus ``augment_copies`` augmented copies (time
    shift ±100 ms and background noise, see ``data.augment``). Features are then
    standardised by one global mean/std from the training set; these two numbers
    are stored (``feature_norm``) and given to the C front end as ``norm_mean`` and
    ``norm_scale = 1 / std``, so the board computes the model's input directly.
    """
    cache = os.path.join(cfg.out, "features", _cache_key(cfg, state))
    names = [f"{kind}_{split}" for split in kws_data.SPLITS for kind in ("x", "y")]
    if all(os.path.exists(os.path.join(cache, f"{n}.npy")) for n in names):
        _log(f"features: cached in {cache}")
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
                for _ in range(cfg.augment_copies):
                    audio.append(kws_data.augment(split.audio, background, rng))
                    labels.append(split.labels)
            arrays[f"x_{split_name}"] = kws_features.log_mel_batched(np.concatenate(audio))
            arrays[f"y_{split_name}"] = np.concatenate(labels)
        os.makedirs(cache, exist_ok=True)
        for n, a in arrays.items():
            np.save(os.path.join(cache, f"{n}.npy"), a)
        _log(f"features: computed in {time.perf_counter() - started:.1f} s -> {cache}")
    mean = float(arrays["x_training"].mean())
    std = float(arrays["x_training"].std())
    for split_name in kws_data.SPLITS:
        arrays[f"x_{split_name}"] = kws_features.standardize(arrays[f"x_{split_name}"], mean, std)
    state.update(arrays)
    state["feature_norm"] = {"mean": mean, "std": std}
    return state


# -- stage 3: train ---------------------------------------------------------------------


def build_gru(cfg, frames=98, mels=40, classes=12):
    """The dense baseline: keras.layers.GRU reading the last step."""
    import keras

    return keras.Sequential([
        keras.Input((frames, mels)),
        keras.layers.GRU(cfg.units),
        keras.layers.Dense(classes, activation="softmax"),
    ], name="gru")


def build_egru(cfg, frames=98, mels=40, classes=12):
    """The event model: EGRU over all steps, mean of y over time, softmax."""
    import keras
    from keras_events import EGRU

    return keras.Sequential([
        keras.Input((frames, mels)),
        EGRU(cfg.units, return_sequences=True, activity_regularization=cfg.activity_reg,
             target_event_rate=cfg.target_event_rate, seed=cfg.seed, name="egru"),
        keras.layers.GlobalAveragePooling1D(),
        keras.layers.Dense(classes, activation="softmax"),
    ], name="egru")


BUILDERS = {"gru": build_gru, "egru": build_egru}


def _compile(model):
    import keras

    model.compile(optimizer=keras.optimizers.Adam(1e-3, clipnorm=1.0),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def stage_train(cfg, state):
    """Trains every model in ``cfg.models`` with Keras progress bars; saves ``<name>.keras``."""
    import keras

    state.setdefault("models", {})
    state.setdefault("results", {})
    for name in cfg.models:
        keras.utils.set_random_seed(cfg.seed)
        model = _compile(BUILDERS[name](cfg, classes=len(state["class_names"])))
        epochs = cfg.egru_epochs if name == "egru" else cfg.epochs
        _log(f"training {name} ({model.count_params()} parameters, {epochs} epochs)")
        started = time.perf_counter()
        best = keras.callbacks.ModelCheckpoint(
            os.path.join(cfg.out, f"{name}.keras"), monitor="val_accuracy",
            save_best_only=True)
        history = model.fit(
            state["x_training"], state["y_training"], batch_size=cfg.batch_size,
            epochs=epochs, validation_data=(state["x_validation"], state["y_validation"]),
            callbacks=[best], verbose=1)
        seconds = time.perf_counter() - started
        model = keras.saving.load_model(os.path.join(cfg.out, f"{name}.keras"))
        _, test_acc = model.evaluate(state["x_testing"], state["y_testing"], verbose=0)
        state["models"][name] = model
        state["results"][name] = {
            "parameters": int(model.count_params()),
            "epochs": epochs,
            "train_seconds": round(seconds, 1),
            "best_val_accuracy": float(max(history.history["val_accuracy"])),
            "test_accuracy": float(test_acc),
            "history": {k: [float(v) for v in vals] for k, vals in history.history.items()},
        }
        _log(f"{name}: test accuracy {test_acc:.4f} ({seconds:.0f} s)")
    if "egru" in state["models"]:
        from keras_events import activity_report

        report = activity_report(state["models"]["egru"], state["x_testing"][:256],
                                 print_table=False)
        stats = next(iter(report.values()))
        steps = state["x_testing"].shape[1]
        state["results"]["egru"].update(
            event_rate=stats["event_rate"],
            silent_units=stats["silent_units"],
            weight_sparsity=stats["weight_sparsity"],
            # activity_report counts MACs per step of the recurrent layer.
            effective_macs_per_frame=stats["effective_macs"],
            dense_macs_per_frame=stats["dense_macs"],
            frames=steps,
        )
    return state


# -- stages 4-6: not built yet (other helpers) -----------------------------------------


def stage_prune(cfg, state):
    """Gradual magnitude pruning of the EGRU to ``cfg.target_sparsity`` (keras_events.sparsity).

    TODO(lead): prune during training with a polynomial schedule (one-shot 80 %
    pruning lost ~30 points, DESIGN.md); record weight_sparsity and accuracy.
    """
    state.setdefault("stages", {})["prune"] = f"{NOT_BUILT}: keras_events.sparsity not wired in"
    return state


def stage_export(cfg, state):
    """``.tflite`` export with the KE_EGRU custom op (keras_events.export.to_tflite).

    TODO(lead): int8 export with ``representative_data=state["x_training"][:200]``;
    the features are standardised by ``state["feature_norm"]`` first.
    """
    state.setdefault("stages", {})["export"] = f"{NOT_BUILT}: keras_events.export.to_tflite not wired in"
    return state


def stage_run(cfg, state):
    """Runs the ``.tflite`` in the host interpreter and on emulated Cortex-M4 (keras_events.micro).

    Already here: the C front end streams one test clip on the emulated board and
    its features are compared with the training features (``results["front_end"]``).
    TODO(lead): the model itself: host-vs-MCU agreement, instructions per
    inference, flash/RAM.
    """
    state.setdefault("stages", {})["run"] = f"{NOT_BUILT}: keras_events.micro not wired in"
    state["front_end_board"] = _front_end_on_board(state)
    return state


def _front_end_on_board(state):
    """Features of one test clip computed on the emulated Cortex-M4 vs librosa."""
    from recipes.kws import mcu_frontend

    ok, why = mcu_frontend.available()
    if not ok:
        return {"status": f"{NOT_BUILT}: {why}"}
    split = state["splits"]["testing"]
    index = int(np.flatnonzero(split.labels >= 2)[0]) if np.any(split.labels >= 2) else 0
    clip = np.round(np.clip(split.audio[index], -1.0, 1.0 - 1.0 / 32768) * 32768).astype(np.int16)
    norm = state["feature_norm"]
    try:
        board = mcu_frontend.run_on_board(clip, norm["mean"], 1.0 / norm["std"])
    except Exception as err:  # the board check is informative; it must not end the recipe
        return {"status": f"failed: {err}"}
    python = kws_features.standardize(kws_features.log_mel(clip / 32768.0), norm["mean"],
                                      norm["std"])
    result = {
        "status": "ok",
        "clip": split.paths[index],
        "max_abs_diff_vs_librosa": float(np.abs(board.features - python).max()),
        "instructions_per_frame": board.instructions_per_frame,
        "init_instructions": board.init_instructions,
        "state_bytes": board.state_bytes,
    }
    _log(f"front end on Cortex-M4: {result['instructions_per_frame']:.0f} instructions/frame, "
         f"max |board - librosa| = {result['max_abs_diff_vs_librosa']:.1e}")
    return result


# -- stage 7: report -----------------------------------------------------------------

TABLE_COLUMNS = (
    ("test_accuracy", "accuracy", "{:.4f}"),
    ("event_rate", "event rate", "{:.3f}"),
    ("weight_sparsity", "w-sparsity", "{:.3f}"),
    ("effective_macs_per_frame", "eff. MAC/frame", "{:.0f}"),
    ("tflite_bytes", ".tflite B", "{:d}"),
    ("flash_bytes", "flash B", "{:d}"),
    ("ram_bytes", "RAM B", "{:d}"),
    ("mcu_instructions", "M4 instr/inf", "{:d}"),
    ("host_mcu_agreement", "host=MCU", "{:.3f}"),
)


def format_table(results):
    """The results table; "n/a" marks values of stages not built (or not applicable)."""
    head = f"{'model':<8}" + "".join(f"{label:>16}" for _, label, _ in TABLE_COLUMNS)
    rows = [head, "-" * len(head)]
    for name, r in results.items():
        cells = [fmt.format(r[key]) if r.get(key) is not None else NOT_BUILT
                 for key, _, fmt in TABLE_COLUMNS]
        rows.append(f"{name:<8}" + "".join(f"{c:>16}" for c in cells))
    return "\n".join(rows)


def plot_event_raster(cfg, state, path):
    """Event raster of one test utterance: log-mel on top, EGRU events (y != 0) below."""
    import keras
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    model = state["models"]["egru"]
    probe = keras.Model(model.inputs, model.get_layer("egru").output)
    labels = state["y_testing"]
    index = int(np.flatnonzero(labels >= 2)[0]) if np.any(labels >= 2) else 0
    x = state["x_testing"][index:index + 1]
    y = np.asarray(probe.predict(x, verbose=0))[0]  # (frames, units)
    fig, (ax0, ax1) = plt.subplots(2, 1, figsize=(8, 6), sharex=True)
    ax0.imshow(x[0].T, aspect="auto", origin="lower", cmap="magma")
    ax0.set_ylabel("mel band")
    ax0.set_title(f"'{state['class_names'][labels[index]]}': log-mel and EGRU events "
                  f"(rate {np.mean(y != 0):.3f})")
    t, u = np.nonzero(y)
    ax1.scatter(t, u, s=4, marker="|", color="k")
    ax1.set_xlim(-0.5, y.shape[0] - 0.5)
    ax1.set_ylim(-0.5, y.shape[1] - 0.5)
    ax1.set_xlabel("frame (10 ms)")
    ax1.set_ylabel("unit")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def plot_training(state, path):
    """Validation accuracy per epoch of every model."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    for name, r in state["results"].items():
        ax.plot(np.arange(1, len(r["history"]["val_accuracy"]) + 1),
                r["history"]["val_accuracy"], label=name)
    ax.set_xlabel("epoch")
    ax.set_ylabel("validation accuracy")
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def stage_report(cfg, state):
    """Prints the table, writes ``results.json`` and the PNG plots under ``cfg.out``."""
    table = format_table(state["results"])
    print(table)
    for stage, status in state.get("stages", {}).items():
        print(f"  {stage}: {status}")
    board = state.get("front_end_board", {})
    if board.get("status") == "ok":
        print(f"  front end on Cortex-M4 (QEMU): {board['instructions_per_frame']:.0f} "
              f"instructions/frame, max |board - librosa| {board['max_abs_diff_vs_librosa']:.1e}")
    elif board:
        print(f"  front end on Cortex-M4: {board['status']}")
    plots = []
    if cfg.plots:
        plot_training(state, os.path.join(cfg.out, "training.png"))
        plots.append("training.png")
        if "egru" in state["models"]:
            plot_event_raster(cfg, state, os.path.join(cfg.out, "event_raster.png"))
            plots.append("event_raster.png")
    summary = {
        "config": dataclasses.asdict(cfg),
        "data_dir": state["data_dir"],
        "class_names": state["class_names"],
        "clips": {n: int(len(state[f"y_{n}"])) for n in kws_data.SPLITS},
        "feature_norm": state["feature_norm"],
        "front_end": {"sample_rate": kws_features.SAMPLE_RATE, "window": kws_features.WINDOW,
                      "hop": kws_features.HOP, "n_fft": kws_features.N_FFT,
                      "n_mels": kws_features.N_MELS, "fmin": kws_features.FMIN,
                      "fmax": kws_features.FMAX, "log_eps": kws_features.EPS,
                      "mel": "htk, unnormalised"},
        "models": state["results"],
        "front_end_board": state.get("front_end_board", {"status": NOT_BUILT}),
        "stages": state.get("stages", {}),
        "plots": plots,
        "table": table,
    }
    with open(os.path.join(cfg.out, "results.json"), "w", encoding="utf-8") as f:
        json.dump(summary, f, indent=1)
    _log(f"wrote {os.path.join(cfg.out, 'results.json')} and {', '.join(plots) or 'no plots'}")
    state["summary"] = summary
    return state


STAGES = (stage_data, stage_features, stage_train, stage_prune, stage_export, stage_run,
          stage_report)


def run(cfg, stages=STAGES):
    """Runs ``stages`` in order on a fresh state dict; returns the state."""
    os.makedirs(cfg.out, exist_ok=True)
    state = {}
    for stage in stages:
        state = stage(cfg, state)
    return state

"""Training stage of the acoustic-event recipe: every model on every fold run.

The models are the keyword recipe's builders (``recipes.kws.models``: GRU reading the
last step; EGRU, Delta-GRU and eGRU averaging over time; ``recipes.kws.dscnn``) on this
recipe's input size, trained by ``recipes.common.training.fit`` (event-rate target,
pruning while training, Adam with clipping). The event models are pruned to
``--target-sparsity``; the GRU, eGRU (power-of-two weights) and DS-CNN are not.

Protocol (ESC-50's): for each of the first ``--folds`` folds, train on the other folds
and test on it. The fold-1 state (its models) goes on to the export, board, detection
and report stages; every model's row gets the mean and std of the test accuracy over
the folds run (``test_accuracy`` is the mean, ``fold_accuracies`` the list), and the
training cost of every fold (``fold_train_seconds`` wall, ``fold_cpu_seconds`` CPU of the
process, ``fold_epochs_run``, ``fold_best_epochs``; ``*_all_folds`` the sums). After each
fold ``<out>/folds.json`` records the folds done so far.
"""

import dataclasses
import os

import numpy as np

from recipes.aed import prepare
from recipes.aed.config import log
from recipes.common import training
from recipes.common.pruning import PruningPlan
from recipes.kws import batches
from recipes.kws.models import BUILDERS

PRUNED = ("egru", "delta_gru")


def build(cfg, name, frames, features, classes):
    """The untrained model ``name`` for [frames, features] inputs."""
    if name == "dscnn":
        from recipes.kws.dscnn import build_dscnn

        return build_dscnn(cfg, frames=frames, coeffs=features, classes=classes)
    return BUILDERS[name](cfg, frames=frames, mels=features, classes=classes)


def model_input(name, x):
    """DS-CNN reads the log-mel as an image [N, T, F, 1]; the RNNs [N, T, F]."""
    return x[..., None] if name == "dscnn" else x


def fit_one(cfg, state, name, target_sparsity=None):
    """Builds, (prunes while) trains and tests one model on ``state``'s fold."""
    target = cfg.target_sparsity if target_sparsity is None else target_sparsity
    epochs = {"egru": cfg.egru_epochs, "delta_gru": cfg.delta_epochs,
              "embedded_gru": cfg.embedded_epochs}.get(name, cfg.epochs)
    copies = state["augment_copies"]
    clips = len(state["y_training"]) // (copies + 1)
    frames, features = state["x_training"].shape[1:]
    steps = batches.steps_per_epoch(clips, copies, cfg.batch_size)
    plan = PruningPlan(target, cfg.prune_begin, cfg.prune_end) if name in PRUNED else None
    x = {s: model_input(name, state[f"x_{s}"]) for s in ("training", "validation", "testing")}
    model, results = training.fit(
        lambda: build(cfg, name, frames, features, len(state["class_names"])),
        lambda: batches.cycled_batches(x["training"], state["y_training"], copies,
                                       cfg.batch_size, cfg.seed, epochs),
        epochs=epochs, steps_per_epoch=steps,
        learning_rate=cfg.egru_learning_rate if name == "egru" else cfg.learning_rate,
        seed=cfg.seed, validation=(x["validation"], state["y_validation"]),
        test=(x["testing"], state["y_testing"]), pruning_plan=plan, name=name, log=log,
        patience=cfg.patience)
    if name == "delta_gru":
        from recipes.kws.models import delta_stats

        results.update(delta_stats(model, state["x_testing"][:256]))
    elif name in ("embedded_gru", "dscnn"):
        results.update(event_rate=1.0, weight_sparsity=training.zero_fraction(model))
    return model, results


def stage_train(cfg, state):
    """Trains ``cfg.models`` on folds 1..``cfg.folds``; returns the fold-1 state with the
    fold means in its rows (see the module docstring)."""
    folds = sorted(set(state["dataset"].folds.tolist()))[:cfg.folds]
    per_fold, first, seconds = {}, None, {}
    for fold in folds:
        log(f"fold {fold} ({folds.index(fold) + 1} of {len(folds)})")
        fold_state = prepare.fold_split(cfg, state, fold)
        # Fold 1's models are <out>/<name>.keras (exported and run); the others' go to
        # <out>/fold-<k>/.
        fold_cfg = cfg if first is None else dataclasses.replace(
            cfg, out=os.path.join(cfg.out, f"fold-{fold}"))
        os.makedirs(fold_cfg.out, exist_ok=True)
        fold_state = training.stage_train(fold_cfg, fold_state, fit_one, log=log)
        for name, row in fold_state["results"].items():
            per_fold.setdefault(name, []).append(row["test_accuracy"])
            seconds.setdefault(name, []).append(
                (row["train_seconds"], row["cpu_seconds"], row.get("epochs_run", row["epochs"]),
                 row["best_epoch"]))
        _write_progress(cfg, folds, per_fold, seconds)
        if first is None:
            first = fold_state
        else:  # keep only fold 1's models (export, board, detection)
            fold_state.clear()
    first["folds"] = folds
    for name, accs in per_fold.items():
        row = first["results"][name]
        row.update(fold_accuracies=[float(a) for a in accs], test_accuracy=float(np.mean(accs)),
                   test_accuracy_std=float(np.std(accs)), fold1_test_accuracy=float(accs[0]),
                   fold_train_seconds=[s[0] for s in seconds[name]],
                   fold_cpu_seconds=[s[1] for s in seconds[name]],
                   fold_epochs_run=[s[2] for s in seconds[name]],
                   fold_best_epochs=[s[3] for s in seconds[name]],
                   train_seconds_all_folds=round(float(sum(s[0] for s in seconds[name])), 1),
                   cpu_seconds_all_folds=round(float(sum(s[1] for s in seconds[name])), 1))
        log(f"{name}: test accuracy {row['test_accuracy']:.4f} ± {row['test_accuracy_std']:.4f} "
            f"over {len(accs)} fold(s)")
    state.update(first)
    return state


def _write_progress(cfg, folds, per_fold, seconds):
    """``<out>/folds.json`` after every fold: the test accuracies and training times so far
    (a long protocol stopped early still leaves the folds it finished)."""
    import json

    done = len(next(iter(per_fold.values()), []))
    rows = {name: {"fold_accuracies": [float(a) for a in accs],
                   "fold_train_seconds": [s[0] for s in seconds[name]],
                   "fold_cpu_seconds": [s[1] for s in seconds[name]],
                   "fold_best_epochs": [s[3] for s in seconds[name]]}
            for name, accs in per_fold.items()}
    with open(os.path.join(cfg.out, "folds.json"), "w", encoding="utf-8") as f:
        json.dump({"folds_done": folds[:done], "folds_planned": folds, "models": rows}, f, indent=1)


def stage_prune(cfg, state):
    """The shared prune stage (weight sparsity status, --sweep / --rate-sweep on fold 1)."""
    return training.stage_prune(cfg, state, fit_one, log=log)

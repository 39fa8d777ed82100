"""The keyword recipe's train and prune stages: its models and batches handed to
``recipes.common.training`` (event-rate target, pruning while training, clipping)."""

from recipes.common import training
from recipes.common.pruning import PruningPlan
from recipes.kws import batches
from recipes.kws.config import log
from recipes.kws.models import BUILDERS, delta_stats


def fit_model(cfg, state, name, target_sparsity=None):
    """Builds, (prunes while) trains and evaluates one model; returns (model, results).

    The EGRU is pruned during training when the target sparsity is > 0; the GRU baseline
    stays dense (``common.training.fit``). Each epoch reads the clean training set and
    the next augmented copy (``batches.cycled_batches``).
    """
    if name == "dscnn":  # MFCC input (recipes/kws/dscnn.py)
        from recipes.kws import dscnn

        return dscnn.fit(cfg, state, log=log)
    target = cfg.target_sparsity if target_sparsity is None else target_sparsity
    epochs = {"egru": cfg.egru_epochs, "delta_gru": cfg.delta_epochs}.get(name, cfg.epochs)
    copies = state["augment_copies"]
    clips = len(state["y_training"]) // (copies + 1)
    pruned = name in ("egru", "delta_gru") or cfg.prune_gru
    plan = PruningPlan(target, cfg.prune_begin, cfg.prune_end,
                       block=getattr(cfg, "prune_block", 1)) if pruned else None
    wrap = None
    if name == "egru" and cfg.distill is not None:
        from keras_events.training import Distiller

        teacher = state["models"]["gru"]  # trained first (Config checks --models)
        wrap = lambda student: Distiller(student, teacher, alpha=cfg.distill,  # noqa: E731
                                         temperature=cfg.distill_temperature)
    steps = batches.steps_per_epoch(clips, copies, cfg.batch_size)
    callbacks = []
    if name == "egru" and cfg.revive > 0:
        from keras_events.training import ReviveSilentUnits

        probe = state["x_training"][:clips][::max(1, clips // 256)][:256]  # clean, all classes
        callbacks.append(ReviveSilentUnits(probe,
                                           until_epoch=int(round(cfg.revive * epochs))))
    build_cfg = cfg
    if name == "egru" and cfg.activity_warmup:
        import dataclasses

        build_cfg = dataclasses.replace(cfg)  # the builder reads the warm-up in batches
        build_cfg.activity_warmup_steps = int(round(cfg.activity_warmup * epochs * steps))
    model, results = training.fit(
        lambda: BUILDERS[name](build_cfg, classes=len(state["class_names"])),
        lambda: batches.cycled_batches(state["x_training"], state["y_training"], copies,
                                       cfg.batch_size, cfg.seed, epochs),
        epochs=epochs, steps_per_epoch=steps,
        learning_rate=cfg.egru_learning_rate if name == "egru" else cfg.learning_rate,
        seed=cfg.seed, validation=(state["x_validation"], state["y_validation"]),
        test=(state["x_testing"], state["y_testing"]), pruning_plan=plan, name=name, log=log,
        wrap=wrap, callbacks=callbacks, block_layers=("egru",) if name == "egru" else ())
    if name == "delta_gru":  # its results row: delta rates, sparsity, MACs (training too)
        results.update(delta_stats(model, state["x_testing"][:256]))
    return model, results


def stage_train(cfg, state):
    """Trains every model in ``cfg.models`` with Keras progress bars; saves ``<name>.keras``."""
    return training.stage_train(cfg, state, fit_model, log=log)


def stage_prune(cfg, state):
    """Records the EGRU's weight sparsity and, with ``--sweep``, trains extra EGRUs at
    other target sparsities (accuracy-vs-sparsity plot)."""
    return training.stage_prune(cfg, state, fit_model, log=log)


def stage_tune(cfg, state):
    """``--tune``: KerasTuner random search of the EGRU knobs (``common.tuning.SPACE``),
    ``--tune-trials`` trials of ``--tune-epochs`` epochs under ``<out>/tune/``; the best
    values are written into ``cfg`` for the training stage and ``state["tuning"]``."""
    if not cfg.tune:
        return state
    import os

    from recipes.common import tuning

    best, _ = tuning.search(cfg, state, fit_model, "egru", cfg.tune_trials, cfg.tune_epochs,
                            os.path.join(cfg.out, "tune"), log=log)
    for key, value in best.items():
        setattr(cfg, key, value)
    log(f"tune: best {best}")
    state["tuning"] = best
    return state

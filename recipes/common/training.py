"""Training an event model toward an event-rate target, pruned while it trains.

What was learnt training EGRU on keywords (first experiment: 10 words, ~800 clips,
hidden 64) and applies to every recipe:
  * gradient clipping is essential: Adam with ``clipnorm=1.0`` (without it the EGRU
    plateaued at ~0.68 accuracy, with it 0.93 against 0.95 for a GRU);
  * the event rate is set by the activity penalty ``λ · max(0, mean(e) − target)``
    (``EventRateTarget``, applied by ``keras_events.EGRU``); λ ≤ 0.05 does not lower it;
  * pruning is gradual during training (``pruning.PruningPlan``), not one-shot after;
  * the classifier reads the mean of the event outputs over time, not the last step
    (the last step's output is usually 0): see ``export.logits_model``.

``fit`` builds, trains and evaluates one model; ``stage_train`` and ``stage_prune`` are
the recipe stages built on it (the recipe passes its own ``fit_one``).
"""

import dataclasses
import os
import time

import numpy as np

from recipes.common import pruning
from recipes.common.output import fit_verbosity
from recipes.common.stages import DENSE, EVENT, set_status


@dataclasses.dataclass(frozen=True)
class EventRateTarget:
    """The activity penalty of an event layer: ``weight · max(0, mean(e) − rate)``.

    ``mean(e)`` is the fraction of (unit, step) pairs with an event in a batch; the
    penalty is differentiable through the surrogate gradient. ``weight`` = 0 disables it.
    """

    weight: float = 0.0
    rate: float = 0.0
    adapt: float = 0.0  # > 0: λ adapts by dual ascent from ``weight`` (EGRU activity_adapt_rate)

    def __post_init__(self):
        if self.weight < 0:
            raise ValueError(f"EventRateTarget weight (--activity-reg) must be >= 0, got {self.weight}.")
        if not 0.0 <= self.rate < 1.0:
            raise ValueError(f"EventRateTarget rate (--target-event-rate) must be in [0, 1), got {self.rate}.")
        if self.adapt < 0:
            raise ValueError(f"EventRateTarget adapt (--activity-adapt) must be >= 0, got {self.adapt}.")

    def layer_kwargs(self):
        """Keyword arguments of ``keras_events.EGRU`` that apply this target."""
        kwargs = {"activity_regularization": self.weight, "target_event_rate": self.rate}
        if self.adapt > 0:
            kwargs["activity_adapt_rate"] = self.adapt
        return kwargs


def compile_model(model, learning_rate=1e-3, decay_steps=None, clipnorm=1.0, jit_compile=None):
    """Adam with gradient clipping (``clipnorm``), cosine-decayed to 5 % over
    ``decay_steps``, sparse categorical cross-entropy, accuracy; XLA on TensorFlow
    unless ``jit_compile`` says otherwise (tiny models compile longer than they train)."""
    import keras

    if decay_steps:
        learning_rate = keras.optimizers.schedules.CosineDecay(learning_rate, decay_steps, alpha=0.05)
    # XLA: Keras' "auto" leaves it off on CPU-only machines; on, a pruned EGRU(128)
    # trained at 7.9 s instead of 14.8 s per epoch of 3648 clips (2 idle cores). Keras
    # turns it off again (with a warning) once TensorFlow's deterministic ops are on, as
    # after `keras_events.training.set_seed` in `fit`: the recipes train without XLA.
    jit = True if keras.backend.backend() == "tensorflow" else "auto"
    jit = jit if jit_compile is None else jit_compile
    model.compile(optimizer=keras.optimizers.Adam(learning_rate, clipnorm=clipnorm),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"], jit_compile=jit)
    return model


def accuracy(model, x, y, batch_size=256):
    """Fraction of ``x`` whose argmax prediction equals ``y``."""
    probs = model.predict(x, batch_size=batch_size, verbose=0)
    return float(np.mean(probs.argmax(-1) == y))


def fit(build, train_data, *, epochs, steps_per_epoch, learning_rate, seed, validation,
        test, pruning_plan=None, name="model", log=print, jit_compile=None, wrap=None,
        callbacks=(), block_layers=(), patience=None):
    """Builds (``build()``), trains and evaluates one model; returns (model, results).

    With a ``pruning_plan`` whose target is > 0 the model is pruned while it trains
    (``pruning.PruningPlan``) and the wrappers are stripped afterwards. The weights of
    the best validation epoch are kept (for a pruned model: among the epochs after the
    final masks are reached).

    Args:
      build: zero-argument callable returning an uncompiled Keras model.
      train_data: a dataset (or a zero-argument callable returning one) that yields
        ``steps_per_epoch`` batches per epoch for ``epochs`` epochs.
      epochs, steps_per_epoch, learning_rate: training length and Adam's rate
        (cosine-decayed over all steps, ``compile_model``).
      seed: ``keras_events.training.set_seed`` before building: seeds and deterministic
        ops, so the same seed gives the same numbers on one machine.
      validation: ``(x, y)`` for the best-epoch choice; test: ``(x, y)`` for the
        reported test accuracy.
      jit_compile: as ``compile_model`` (None: XLA on TensorFlow).
      wrap: optional ``model -> trainer`` (e.g. ``keras_events.training.Distiller``
        around the (pruning-wrapped) model); the trainer is compiled and fitted, and its
        ``.student`` is what is returned.
      callbacks: extra Keras callbacks (e.g. ``keras_events.training.ReviveSilentUnits``).
      block_layers: names of the layers pruned in 1 x ``pruning_plan.block`` blocks
        (``pruning.PruningPlan.wrap``); the others element by element.
      patience: None (train every epoch) or stop once the validation accuracy has not
        improved for this many epochs (counted from the first epoch with the final
        pruning masks); the best epoch's weights are kept either way. ``epochs_run`` in
        the results says how many epochs ran.
    """
    from keras_events.training import set_seed

    set_seed(seed)
    model = build()
    callbacks, from_epoch = list(callbacks), 0
    prune = pruning_plan is not None and pruning_plan.target > 0
    if prune:
        from keras_events import sparsity

        schedule, from_epoch = pruning_plan.schedule(steps_per_epoch, epochs)
        model = pruning_plan.wrap(model, schedule, block_layers=block_layers)
        callbacks.append(sparsity.UpdatePruningStep())
    parameters = int(sum(np.prod(w.shape) for w in model.trainable_weights))
    trainer = model if wrap is None else wrap(model)
    compile_model(trainer, learning_rate, decay_steps=epochs * steps_per_epoch, jit_compile=jit_compile)
    best = pruning.best_weights_callback(from_epoch)
    if patience is not None:
        if patience < 1:
            raise ValueError(f"patience (--patience) must be >= 1 epoch or None, got {patience}.")
        import keras

        callbacks.append(keras.callbacks.EarlyStopping(
            monitor="val_accuracy", mode="max", patience=patience, start_from_epoch=from_epoch))
    log(f"training {name} ({parameters} parameters, {epochs} epochs"
        + (f", pruned to {pruning_plan.target:.0%} from epoch {from_epoch + 1})" if prune else ")"))
    started, started_cpu = time.perf_counter(), time.process_time()
    data = train_data() if callable(train_data) else train_data
    history = trainer.fit(
        data, epochs=epochs, steps_per_epoch=steps_per_epoch, shuffle=False,  # data shuffles
        validation_data=validation, callbacks=callbacks + [best], verbose=fit_verbosity())
    seconds = time.perf_counter() - started
    cpu_seconds = time.process_time() - started_cpu  # steadier than wall time on a shared machine
    if wrap is not None:
        model = trainer.student
    if prune:
        from keras_events import sparsity

        model = sparsity.strip_pruning(model)  # not compiled: saves without optimizer state
    val = history.history["val_accuracy"]
    ran = len(val)
    return model, {
        "parameters": int(model.count_params()),
        "epochs": epochs,
        "epochs_run": ran,
        "train_seconds": round(seconds, 1),
        "seconds_per_epoch": round(seconds / ran, 2),
        "cpu_seconds": round(cpu_seconds, 1),
        "cpu_seconds_per_epoch": round(cpu_seconds / ran, 2),
        "epochs_to_final": epochs_to_final(val, from_epoch),
        "best_epoch": None if best.best_epoch is None else best.best_epoch + 1,
        "best_val_accuracy": float(max(history.history["val_accuracy"][from_epoch:])),
        "test_accuracy": accuracy(model, *test),
        "target_sparsity": float(pruning_plan.target) if pruning_plan is not None else 0.0,
        "prune_block": int(pruning_plan.block) if prune and block_layers else 1,
        "history": {k: [float(v) for v in vals] for k, vals in history.history.items()},
    }


def epochs_to_final(val_accuracy, from_epoch=0, within=0.005):
    """The first epoch (1-based, at or after ``from_epoch``) whose validation accuracy is
    within ``within`` of the best one: how long the model takes to reach its final
    accuracy (the convergence comparison of GRU and EGRU)."""
    tail = val_accuracy[from_epoch:]
    if not tail:
        return None
    best = max(tail)
    return from_epoch + next(i for i, v in enumerate(tail) if v >= best - within) + 1


def zero_fraction(model):
    """Fraction of zero entries in the kernels of ``model`` (biases excluded)."""
    kernels = [np.asarray(w) for w in model.weights if "kernel" in w.path]
    return 1.0 - sum(np.count_nonzero(k) for k in kernels) / sum(k.size for k in kernels)


def dense_gru_stats(model, units, features):
    """Table values of a dense GRU baseline: every unit active, 3U(I+U) MACs per frame
    (as ``keras_events.activity_report`` counts the dense MACs of an event layer)."""
    dense = 3 * units * (features + units)
    return dict(event_rate=1.0, weight_sparsity=zero_fraction(model),
                effective_macs_per_frame=float(dense), dense_macs_per_frame=float(dense))


def event_stats(model, x):
    """Table values of an event model on inputs ``x`` (its first event layer, measured by
    ``keras_events.activity_report``; MACs are per step of the recurrent layer)."""
    from keras_events import activity_report

    stats = next(iter(activity_report(model, x, print_table=False).values()))
    return dict(event_rate=stats["event_rate"], silent_units=stats["silent_units"],
                saturated_units=stats["saturated_units"],
                weight_sparsity=stats["weight_sparsity"],
                effective_macs_per_frame=stats["effective_macs"],
                dense_macs_per_frame=stats["dense_macs"], frames=x.shape[1])


def stage_train(cfg, state, fit_one, log=print):
    """Trains every model in ``cfg.models`` with ``fit_one(cfg, state, name)`` -> (model,
    results); saves ``<out>/<name>.keras`` and adds the table values (event rate, weight
    sparsity, effective MACs per frame) to ``state["results"][name]``."""
    state.setdefault("models", {})
    state.setdefault("results", {})
    for name in cfg.models:
        model, results = fit_one(cfg, state, name)
        model.save(os.path.join(cfg.out, f"{name}.keras"))
        state["models"][name] = model
        state["results"][name] = results
        log(f"{name}: test accuracy {results['test_accuracy']:.4f} "
            f"({results['train_seconds']:.0f} s)")
    if DENSE in state["models"]:
        state["results"][DENSE].update(dense_gru_stats(
            state["models"][DENSE], cfg.units, state["x_testing"].shape[-1]))
    if EVENT in state["models"]:
        state["results"][EVENT].update(event_stats(state["models"][EVENT],
                                                   state["x_testing"][:256]))
    return state


def stage_prune(cfg, state, fit_one, log=print):
    """Records the event model's weight sparsity (pruned during training, ``fit``) and,
    with ``cfg.sweep``, trains extra event models at other target sparsities (accuracy
    vs sparsity plot): ``fit_one(cfg, state, name, target_sparsity=...)``; with
    ``cfg.rate_sweep``, event models at other target event rates (accuracy vs event rate
    plot, ``state["rate_points"]``)."""
    points = []
    for name in (DENSE, EVENT):
        if name in state["models"]:
            points.append({"model": name, "weight_sparsity": state["results"][name]["weight_sparsity"],
                           "test_accuracy": state["results"][name]["test_accuracy"]})
    if EVENT not in state["models"]:
        set_status(state, "prune", f"skipped: no {EVENT} model")
    elif cfg.target_sparsity == 0:
        set_status(state, "prune", "skipped: --target-sparsity 0")
    else:
        achieved = pruning.weight_sparsity(state["models"][EVENT], EVENT)
        set_status(state, "prune", f"ok: gradual pruning to {cfg.target_sparsity:.2f} "
                                   f"(steps {cfg.prune_begin:.0%}-{cfg.prune_end:.0%} of training), "
                                   f"{EVENT.upper()} kernels {achieved:.3f} sparse"
                                   + (f" in 1 x {cfg.prune_block} blocks"
                                      if getattr(cfg, "prune_block", 1) > 1 else ""))
    for target in cfg.sweep:
        if EVENT not in state["models"]:
            break
        model, results = fit_one(cfg, state, EVENT, target_sparsity=target)
        points.append({"model": f"{EVENT}@{target:g}",
                       "weight_sparsity": pruning.weight_sparsity(model, EVENT),
                       "test_accuracy": results["test_accuracy"]})
        log(f"sweep: target sparsity {target:g} -> accuracy {results['test_accuracy']:.4f}")
    state["sparsity_points"] = points
    rate_points = []
    for rate in getattr(cfg, "rate_sweep", ()):
        if EVENT not in state["models"]:
            break
        model, results = fit_one(dataclasses.replace(cfg, target_event_rate=rate), state, EVENT)
        stats = event_stats(model, state["x_testing"][:256])
        rate_points.append({"target_event_rate": rate, "event_rate": stats["event_rate"],
                            "weight_sparsity": stats["weight_sparsity"],
                            "test_accuracy": results["test_accuracy"]})
        log(f"rate sweep: target {rate:g} -> {stats['event_rate']:.3f} events, accuracy "
            f"{results['test_accuracy']:.4f}")
    if rate_points:
        state["rate_points"] = rate_points
    return state

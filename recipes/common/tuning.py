"""The event model's knob search through KerasTuner (``--tune``).

KerasTuner (O'Malley et al. 2019, ``keras-tuner``) is the Keras ecosystem's search
tool: its oracle proposes hyperparameters, a trial trains a model with them, and the
oracle keeps the results in ``<directory>/<project>/`` so an interrupted search resumes,
and its chief/worker mode (``KERASTUNER_TUNER_ID``, ``KERASTUNER_ORACLE_IP``,
``KERASTUNER_ORACLE_PORT``) spreads trials over machines. Each trial here is the recipe's
own training of the event model (``fit_one``: event-rate target, pruning while
training, clipping) with the trial's settings copied into the recipe config; the
objective is the best validation accuracy after the final pruning masks. The event
rate is held by the event-rate target (``--target-event-rate``; with
``--activity-adapt`` by an adapted λ), so the search trades nothing against activity
that the user did not choose.

The search space (``SPACE``) covers the knobs of the study in
``docs/guides/training-egru.md``: learning rate, event-rate penalty adaptation and warm-up,
threshold initialisation, pseudo-derivative height and width, pruning start.
"""

import dataclasses

# name: (kind, arguments) — kinds: "log" (Float, log sampling), "float", "choice".
SPACE = {
    "egru_learning_rate": ("log", (1e-3, 1e-2)),
    "activity_adapt": ("choice", ([0.0, 0.05, 0.2],)),
    "activity_warmup": ("choice", ([0.0, 0.1, 0.3],)),
    "threshold_init": ("float", (0.05, 0.5)),
    "surrogate_height": ("choice", ([0.3, 0.7, 1.0],)),
    "surrogate_width": ("choice", ([0.5, 1.0, 2.0],)),
    "prune_begin": ("choice", ([0.1, 0.2, 0.3],)),
}


def _value(hp, name, kind, args):
    if kind == "log":
        return hp.Float(name, *args, sampling="log")
    if kind == "float":
        return hp.Float(name, *args)
    return hp.Choice(name, *args)


def trial_config(cfg, hp, space=SPACE):
    """``cfg`` with the trial's values of every knob in ``space``."""
    values = {name: _value(hp, name, kind, args) for name, (kind, args) in space.items()}
    return dataclasses.replace(cfg, **values)


def search(cfg, state, fit_one, name, trials, epochs, directory, log=print, space=SPACE):
    """Runs ``trials`` KerasTuner trials of ``fit_one(trial_cfg, state, name)`` with
    ``epochs`` epochs each; returns (best values dict, tuner).

    ``fit_one`` is the recipe's training of one model (returns (model, results) with
    ``best_val_accuracy``). Random search (KerasTuner's ``RandomSearch``, seeded by
    ``cfg.seed``): with a handful of trials it covers the space as well as Bayesian
    optimisation and its trials are independent (they can run on several workers).
    """
    import keras_tuner as kt

    class RecipeHyperModel(kt.HyperModel):
        def build(self, hp):
            import keras

            trial_config(cfg, hp, space)  # registers the knobs with the oracle
            # KerasTuner needs a model object; the trial's model is built in fit().
            return keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])

        def fit(self, hp, model, *args, **kwargs):
            trial = dataclasses.replace(trial_config(cfg, hp, space), egru_epochs=epochs)
            _, results = fit_one(trial, state, name)
            log(f"tune: {hp.values} -> val {results['best_val_accuracy']:.4f}")
            return {"val_accuracy": results["best_val_accuracy"]}

    tuner = kt.RandomSearch(RecipeHyperModel(), objective=kt.Objective("val_accuracy", "max"),
                            max_trials=trials, seed=cfg.seed, directory=directory,
                            project_name=f"{name}_search", overwrite=False)
    tuner.search()
    best = tuner.get_best_hyperparameters(1)[0].values
    return {k: best[k] for k in space if k in best}, tuner

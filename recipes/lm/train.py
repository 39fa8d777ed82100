"""Training and measuring one language model: perplexity, event rate, weight sparsity and
the multiply-accumulates per token of its recurrent layers.

Training reuses the shared recipe steps: Adam with gradient clipping (``clipnorm=1.0``,
essential for EGRU, ``recipes/common/training.py``) cosine-decayed over all steps, the
event-rate target of ``EventRateTarget``, gradual magnitude pruning (``PruningPlan``:
Zhu & Gupta 2017) and the best validation epoch after the final masks
(``best_weights_callback``, here on the validation loss).

Effective MACs per token count what an event-driven kernel executes in the recurrent
layers (``keras_events.ops.egru.step_macs``): the non-zero input weights in the rows of
non-zero inputs (the embedding is dense; an EGRU layer above another reads its sparse
events), plus the non-zero recurrent weights in the rows of units with an event at the
previous step. A GRU has no events: every row of both matrices, i.e. its non-zero
weights. The tied softmax (``units x vocabulary``) is dense in every model and reported
separately (``softmax_macs_per_token``), as in the weight x activity sparsity study of
EGRU language models (Mukherji et al. 2024, "Weight sparsity complements activity
sparsity in neuromorphic language models"), which counts the recurrent layers.
"""

import contextlib
import math
import time

import numpy as np

from recipes.common import pruning
from recipes.common.output import fit_verbosity
from recipes.lm import data, models


def compile_model(model, cfg, total_steps):
    import keras

    rate = keras.optimizers.schedules.CosineDecay(cfg.learning_rate, total_steps, alpha=0.05)
    jit = "auto"
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        # XLA: 2.5x faster steps; not under MirroredStrategy, whose compiled step would
        # read the other replica's variables across devices (XLA known issue).
        jit = cfg.jit_compile and not tf.distribute.has_strategy()
    model.compile(optimizer=keras.optimizers.Adam(rate, clipnorm=1.0),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), jit_compile=jit)
    return model


def pruning_callback():
    """``sparsity.UpdatePruningStep`` that also finds the wrappers inside ``StateCarry``."""
    from keras_events import sparsity

    class UpdatePruningStep(sparsity.UpdatePruningStep):
        def on_train_begin(self, logs=None):
            import keras

            for carry, _ in models.recurrent_layers(self.model):
                if isinstance(carry.layer, sparsity.PruneLowMagnitude):
                    carry.layer.step_callback_attached = True
                    if int(keras.ops.convert_to_numpy(carry.layer.pruning_step)) == -1:
                        carry.layer.pruning_step.assign(0)
            self.wrappers = [c.layer for c, _ in models.recurrent_layers(self.model)
                             if isinstance(c.layer, sparsity.PruneLowMagnitude)]

    return UpdatePruningStep()


def perplexity(model, split):
    """exp(mean cross-entropy per token) over the batches ``split`` (state carried, reset
    at its first batch)."""
    loss = model.evaluate(split.inputs(), split.targets, batch_size=split.batch_size, verbose=0)
    return float(math.exp(loss if np.isscalar(loss) else loss[0]))


def fit_one(cfg, corpus, kind, target_sparsity, placement, log=print):
    """Trains ``kind`` pruned to ``target_sparsity``; returns (model, results row)."""
    from keras_events.training import set_seed

    B, T = cfg.batch_size, cfg.bptt
    train = data.batches(corpus.train, B, T).limit(cfg.steps_per_epoch)
    valid = data.batches(corpus.valid, B, T).limit(cfg.eval_batches)
    test = data.batches(corpus.test, B, T).limit(cfg.eval_batches)
    schedule, from_epoch = None, 0
    if target_sparsity > 0:
        plan = pruning.PruningPlan(target_sparsity, cfg.prune_begin, cfg.prune_end)
        schedule, from_epoch = plan.schedule(train.steps, cfg.epochs)
    # Seeds only: TF's op determinism would switch XLA off (2.5x slower steps here).
    set_seed(cfg.seed, deterministic=False)
    with placement.scope():
        prior = models.unigram_log_prior(corpus.train, len(corpus.vocabulary))
        model = models.build(cfg, kind, len(corpus.vocabulary), placement.state_rows(B), schedule, prior)
        compile_model(model, cfg, cfg.epochs * train.steps)
    callbacks = [pruning.best_weights_callback(from_epoch, monitor="val_loss", mode="min")]
    if schedule is not None:
        callbacks.insert(0, pruning_callback())
    name = f"{kind}@{target_sparsity:g}"
    log(f"training {name}: {cfg.layers} x {cfg.units} units, {train.steps} batches x {cfg.epochs} "
        f"epochs, {placement.describe()}")
    initial = perplexity(model, valid)
    started = time.perf_counter()
    history = model.fit(train.inputs(), train.targets, batch_size=B, epochs=cfg.epochs, shuffle=False,
                        validation_data=(valid.inputs(), valid.targets), validation_batch_size=B,
                        callbacks=callbacks, verbose=fit_verbosity())
    seconds = time.perf_counter() - started
    for carry, _ in models.recurrent_layers(model):
        if hasattr(carry.layer, "apply_masks"):
            carry.layer.apply_masks()
    row = {"model": kind, "target_sparsity": float(target_sparsity), "initial_valid_ppl": initial,
           "valid_ppl": perplexity(model, valid), "test_ppl": perplexity(model, test),
           "train_seconds": round(seconds, 1), "epochs": cfg.epochs,
           "history": {k: [float(v) for v in vals] for k, vals in history.history.items()}}
    row.update(measure(model, test.limit(min(test.steps, 8)), kind, placement))
    log(f"{name}: valid ppl {row['valid_ppl']:.1f}, test ppl {row['test_ppl']:.1f}, events "
        f"{row['event_rate']:.3f}, sparsity {row['weight_sparsity']:.3f}, "
        f"{row['effective_macs_per_token']:.0f} MAC/token ({seconds:.0f} s)")
    return model, row


def measure(model, split, kind, placement=None):
    """Event rate, weight sparsity and MACs per token of the recurrent layers of ``model``
    on ``split`` (state carried across its batches, as in training; ``placement``: the
    ``distribute.Placement`` the model was built in)."""
    import keras

    from keras_events.ops.egru import step_macs

    layers = models.recurrent_layers(model)
    scope = placement.scope() if placement is not None else contextlib.nullcontext()
    with scope:  # the probe runs like the model: per replica under MirroredStrategy
        probe = keras.Model(model.inputs, [c.input[0] for c, _ in layers] + [c.output for c, _ in layers])
    outputs = probe.predict(split.inputs(), batch_size=split.batch_size, verbose=0)
    inputs, hidden = outputs[:len(layers)], outputs[len(layers):]
    effective = dense = nonzero = size = 0.0
    events = []
    for i, ((carry, rnn), x, y) in enumerate(zip(layers, inputs, hidden)):
        kernel = keras.ops.convert_to_numpy(rnn.cell.kernel)
        recurrent = keras.ops.convert_to_numpy(rnn.cell.recurrent_kernel)
        x, y = _streams(x, split.batch_size), _streams(y, split.batch_size)
        if kind == "egru":
            fired = y != 0  # y = c·H(c − ϑ) with ϑ > 0: non-zero exactly at events
            prev = np.concatenate([np.zeros_like(fired[:, :1]), fired[:, :-1]], axis=1)
            active_inputs = None if i == 0 else (x != 0)
            events.append(fired.mean())
        else:
            prev = np.ones(y.shape, bool)
            active_inputs = None
        effective += float(np.mean(step_macs(kernel, recurrent, prev, active_inputs)))
        dense += kernel.size + recurrent.size
        nonzero += np.count_nonzero(kernel) + np.count_nonzero(recurrent)
        size += kernel.size + recurrent.size
    embedding = model.get_layer("embedding")
    return {"event_rate": float(np.mean(events)) if events else 1.0,
            "layer_event_rates": [float(e) for e in events],
            "weight_sparsity": 1.0 - nonzero / size,
            "effective_macs_per_token": effective, "dense_macs_per_token": dense,
            "softmax_macs_per_token": float(embedding.input_dim * embedding.output_dim)}


def _streams(rows, batch_size):
    """[batches · B, T, U] in batch-major order -> [B, batches · T, U]: each stream in time order."""
    steps = len(rows) // batch_size
    return rows.reshape(steps, batch_size, *rows.shape[1:]).transpose(1, 0, 2, 3).reshape(
        batch_size, steps * rows.shape[1], rows.shape[2])

"""Gradual magnitude pruning while a model trains (``keras_events.sparsity``).

One-shot pruning of a trained EGRU to 80 % and 3 epochs of fine-tuning lost ~30 accuracy
points in the project's first keyword experiment; pruning while training lets the
remaining weights adapt. The schedule is the polynomial decay of Zhu & Gupta (2017,
"To prune, or not to prune: exploring the efficacy of pruning for model compression",
eq. 1): sparsity rises from 0 at ``begin`` (a fraction of all training steps) to the
target at ``end``; the steps after ``end`` fine-tune the pruned network with fixed masks.

``block`` > 1 prunes the event layer's kernels in blocks of 1 x ``block`` adjacent output
columns (``keras_events.sparsity.prune_low_magnitude(block_size=(1, block))``, blocks ranked
by their mean |w|): with ``block`` = 4 the exported matrices are stored in block-4 form and
the Cortex-M4 kernel gathers a whole group per index (custom_ops/README.md). The other
layers (the classifier head) stay unstructured.
"""

import dataclasses
import math

import numpy as np


def check_block(block):
    """A ValueError naming --prune-block unless ``block`` is an integer >= 1."""
    if int(block) != block or block < 1:
        raise ValueError(f"--prune-block must be an integer >= 1, got {block}.")


@dataclasses.dataclass(frozen=True)
class PruningPlan:
    """Target weight sparsity reached between two fractions of all training steps."""

    target: float
    begin: float = 0.2
    end: float = 0.7
    block: int = 1  # 1 x block column blocks in the layers ``wrap`` is told to block

    def __post_init__(self):
        check_block(self.block)

    def wrap(self, model, schedule, block_layers=()):
        """``model`` cloned with pruning wrappers (``keras_events.sparsity``): the layers
        named in ``block_layers`` pruned in 1 x ``block`` blocks, every other prunable
        layer element by element; the weights are copied."""
        import keras

        from keras_events import sparsity
        from keras_events.sparsity.prunable_layer import can_prune, is_pass_through

        if self.block == 1 or not block_layers:
            return sparsity.prune_low_magnitude(model, pruning_schedule=schedule)
        missing = set(block_layers) - {layer.name for layer in model.layers}
        if missing:
            raise ValueError(f"--prune-block: no layer named {sorted(missing)} in "
                             f"{[layer.name for layer in model.layers]}.")

        def wrap(layer):
            fresh = layer.__class__.from_config(layer.get_config())
            if is_pass_through(layer) and not can_prune(layer):
                return fresh
            block = (1, self.block) if layer.name in block_layers else (1, 1)
            return sparsity.PruneLowMagnitude(fresh, pruning_schedule=schedule, block_size=block)

        clone = keras.models.clone_model(model, clone_function=wrap)
        for old, new in zip(model.layers, clone.layers):
            (new.layer if isinstance(new, sparsity.PruneLowMagnitude) else new).set_weights(
                old.get_weights())
        return clone

    def schedule(self, steps_per_epoch, epochs):
        """(``sparsity.PolynomialDecay``, first epoch whose end has the final masks)."""
        from keras_events import sparsity

        total = steps_per_epoch * epochs
        begin = int(round(self.begin * total))
        end = max(begin + 1, int(round(self.end * total)))
        # ~20 mask updates; end - begin must be a multiple of the frequency, else the last
        # update falls before `end` and the target sparsity is never reached.
        frequency = max(1, (end - begin) // 20)
        end = begin + frequency * math.ceil((end - begin) / frequency)
        first_final_epoch = max(0, math.ceil((end + 1) / steps_per_epoch) - 1)
        if first_final_epoch >= epochs:
            raise ValueError(
                f"--prune-end {self.end} leaves no epoch after pruning ends "
                f"(step {end} of {total}); lower it or train more epochs.")
        return (sparsity.PolynomialDecay(0.0, self.target, begin, end, frequency=frequency),
                first_final_epoch)


def best_weights_callback(from_epoch, monitor="val_accuracy", mode="max"):
    """Keeps the weights of the best epoch at or after ``from_epoch`` (the first epoch
    with the final pruning masks: an earlier, denser epoch must not win) and restores
    them when training ends. ``mode``: ``"max"`` (accuracy) or ``"min"`` (a loss)."""
    import keras

    if mode not in ("max", "min"):
        raise ValueError(f"Argument `mode` must be 'max' or 'min', got {mode!r}.")
    sign = 1.0 if mode == "max" else -1.0

    class BestWeights(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.best, self.best_epoch, self.weights = -np.inf, None, None

        def on_epoch_end(self, epoch, logs=None):
            value = (logs or {}).get(monitor)
            if epoch >= from_epoch and value is not None and sign * value > self.best:
                self.best, self.best_epoch = sign * value, epoch
                self.weights = self.model.get_weights()

        def on_train_end(self, logs=None):
            if self.weights is not None:
                self.model.set_weights(self.weights)

    return BestWeights()


def weight_sparsity(model, layer):
    """Fraction of zero weights in the prunable weights of the layer named ``layer``."""
    from keras_events import sparsity

    weights = sparsity.report(model, print_table=False).get(layer, {})
    size = sum(w["size"] for w in weights.values())
    return 1.0 - sum(w["nonzero"] for w in weights.values()) / size if size else 0.0

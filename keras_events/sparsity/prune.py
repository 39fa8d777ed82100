"""Entry points: `prune_low_magnitude`, `strip_pruning`, `prune_scope` (tfmot names)."""

import contextlib

import keras

from keras_events.sparsity.prunable_layer import SUPPORTED, can_prune, is_pass_through
from keras_events.sparsity.pruning_wrapper import PruneLowMagnitude


def _copy_layer(layer):
    """A fresh layer with the same config and weights."""
    clone = layer.__class__.from_config(layer.get_config())
    return clone


def prune_low_magnitude(to_prune, pruning_schedule=None, block_size=(1, 1), block_pooling_type="AVG"):
    """Wrap a layer, a list of layers or a model for magnitude pruning.

    A model (Sequential or functional) is cloned: every layer with prunable weights
    is wrapped in `PruneLowMagnitude`, layers without weights and normalisation
    layers are kept as they are, and any other layer with weights raises a
    `ValueError` listing the supported layers. Weights are copied to the clone.
    Train with the `UpdatePruningStep` callback, then call `strip_pruning`.

    Example:

    >>> from keras_events import sparsity                                # doctest: +SKIP
    >>> model = sparsity.prune_low_magnitude(
    ...     model, pruning_schedule=sparsity.PolynomialDecay(0.0, 0.8, 0, 2000))
    >>> model.fit(x, y, callbacks=[sparsity.UpdatePruningStep()])
    >>> model = sparsity.strip_pruning(model)
    """
    kwargs = dict(pruning_schedule=pruning_schedule, block_size=block_size,
                  block_pooling_type=block_pooling_type)
    if isinstance(to_prune, (list, tuple)):
        return [prune_low_magnitude(layer, **kwargs) for layer in to_prune]
    if isinstance(to_prune, keras.Model):
        if not to_prune.built:
            raise ValueError("Build the model (give it an Input) before pruning it.")
        wrapped = [layer.name for layer in to_prune.layers if isinstance(layer, PruneLowMagnitude)]
        if wrapped:
            raise ValueError(
                f"`to_prune` is already pruned (layers {wrapped} are PruneLowMagnitude "
                f"wrappers). Keep training it as it is, or call sparsity.strip_pruning(model) "
                f"first to prune the stripped model again with a new schedule.")

        def wrap(layer):
            if isinstance(layer, PruneLowMagnitude) or (is_pass_through(layer) and not can_prune(layer)):
                return _copy_layer(layer)
            if not can_prune(layer):
                raise ValueError(
                    f"Cannot prune layer `{layer.name}` of type {type(layer).__name__}. Supported: "
                    f"{', '.join(SUPPORTED)}. Implement keras_events.sparsity.PrunableLayer "
                    f"(get_prunable_weights) to make a custom layer prunable."
                )
            return PruneLowMagnitude(_copy_layer(layer), **kwargs)

        clone = keras.models.clone_model(to_prune, clone_function=wrap)
        for old, new in zip(to_prune.layers, clone.layers):
            inner = new.layer if isinstance(new, PruneLowMagnitude) else new
            inner.set_weights(old.get_weights())
        return clone
    if isinstance(to_prune, PruneLowMagnitude):
        raise ValueError(f"Layer `{to_prune.name}` is already wrapped for pruning; pass the "
                         f"layer itself (or sparsity.strip_pruning(layer)).")
    if isinstance(to_prune, keras.layers.Layer):
        return PruneLowMagnitude(to_prune, **kwargs)
    raise ValueError(f"`to_prune` must be a Keras layer, list of layers or model; got {type(to_prune).__name__}.")


def strip_pruning(model):
    """Return a copy of ``model`` without pruning wrappers, with ``weight * mask`` weights.

    The result holds only standard Keras and `keras_events` layers and saves to
    `.keras` without any pruning code. A single wrapper returns its inner layer.
    """
    if isinstance(model, PruneLowMagnitude):
        model.apply_masks()
        return model.layer
    if not isinstance(model, keras.Model):
        raise ValueError(f"`model` must be a Keras model or a PruneLowMagnitude layer; got {type(model).__name__}.")
    for layer in model.layers:
        if isinstance(layer, PruneLowMagnitude):
            layer.apply_masks()

    def unwrap(layer):
        return _copy_layer(layer.layer if isinstance(layer, PruneLowMagnitude) else layer)

    clone = keras.models.clone_model(model, clone_function=unwrap)
    for old, new in zip(model.layers, clone.layers):
        source = old.layer if isinstance(old, PruneLowMagnitude) else old
        new.set_weights(source.get_weights())
    return clone


@contextlib.contextmanager
def prune_scope():
    """Scope for loading `.keras` files that contain pruning wrappers (tfmot parity).

    The wrapper and schedules are registered Keras serializables, so loading works
    without it too; the scope exists so tfmot-style code runs unchanged.
    """
    from keras_events.sparsity import pruning_schedule

    objects = {"PruneLowMagnitude": PruneLowMagnitude,
               "PolynomialDecay": pruning_schedule.PolynomialDecay,
               "ConstantSparsity": pruning_schedule.ConstantSparsity}
    with keras.saving.custom_object_scope(objects):
        yield

"""`PruneLowMagnitude`: the wrapper layer that holds masks and applies them."""

import keras
from keras import ops

from keras_events.sparsity import pruning_impl, pruning_schedule
from keras_events.sparsity.prunable_layer import SUPPORTED, can_prune, prunable_weights

_CALLBACK_ERROR = (
    "Pruned layer `{name}` is training without the pruning step being updated. Add the "
    "callback: model.fit(..., callbacks=[keras_events.sparsity.UpdatePruningStep()]) "
    "(in a custom loop call its on_train_begin() once before training)."
)


@keras.saving.register_keras_serializable(package="keras_events")
class PruneLowMagnitude(keras.layers.Wrapper):
    """Wraps a layer and prunes its prunable weights by magnitude during training.

    Semantics follow tfmot: ``pruning_step`` starts at -1, `UpdatePruningStep` sets it
    to 0 when training begins; every training call increments it and, when the
    schedule says so, recomputes the masks. The wrapped layer always runs with
    ``weight * mask`` (through `Layer.stateless_call`, so it works on every backend
    and the gradient of a pruned weight is exactly zero).

    Args:
        layer: The layer to prune (see `prunable_layer.SUPPORTED`).
        pruning_schedule: A `PruningSchedule` (tfmot's PolynomialDecay/ConstantSparsity
            objects are accepted too).
        block_size: (height, width) of the blocks pruned together, for 2-D weights.
        block_pooling_type: ``"AVG"`` or ``"MAX"``: how a block's magnitude is pooled.
    """

    def __init__(self, layer, pruning_schedule=None, block_size=(1, 1), block_pooling_type="AVG", **kwargs):
        if not can_prune(layer):
            raise ValueError(
                f"Cannot prune layer `{layer.name}` of type {type(layer).__name__}. Supported: "
                f"{', '.join(SUPPORTED)}."
            )
        kwargs.setdefault("name", f"prune_low_magnitude_{layer.name}")
        super().__init__(layer, **kwargs)
        self.pruning_schedule = pruning_schedule_get(pruning_schedule)
        self.block_size = tuple(int(b) for b in block_size)
        if len(self.block_size) != 2 or min(self.block_size) < 1:
            raise ValueError(f"Argument `block_size` must be two positive integers, got {block_size!r}.")
        self.block_pooling_type = block_pooling_type
        self.step_callback_attached = False

    def build(self, input_shape=None):
        if not self.layer.built:
            self.layer.build(input_shape)
        self.pruned_weights = prunable_weights(self.layer)
        for weight in self.pruned_weights:
            pruning_impl.validate_block(weight, self.block_size, self.block_pooling_type)
        self.masks = [
            self.add_weight(shape=w.shape, initializer="ones", trainable=False, dtype=w.dtype,
                            name=f"mask_{i}_{w.name}")
            for i, w in enumerate(self.pruned_weights)
        ]
        self.pruning_step = self.add_weight(shape=(), initializer=keras.initializers.Constant(-1),
                                            trainable=False, dtype="int32", name="pruning_step")
        self.built = True

    def _update_masks(self):
        step = self.pruning_step.value + 1
        self.pruning_step.assign(step)
        should_prune, sparsity = self.pruning_schedule(step)
        for weight, mask in zip(self.pruned_weights, self.masks):
            new = pruning_impl.magnitude_mask(weight.value * mask.value, sparsity,
                                              self.block_size, self.block_pooling_type)
            mask.assign(ops.where(should_prune, new, mask.value))

    def call(self, inputs, training=False, **kwargs):
        symbolic = any(keras.backend.is_keras_tensor(t) for t in keras.tree.flatten(inputs))
        if training and not symbolic:
            if not self.step_callback_attached:
                raise ValueError(_CALLBACK_ERROR.format(name=self.layer.name))
            self._update_masks()
        masked = {id(w): w.value * m.value for w, m in zip(self.pruned_weights, self.masks)}
        trainable = [masked.get(id(v), v.value) for v in self.layer.trainable_variables]
        non_trainable = [masked.get(id(v), v.value) for v in self.layer.non_trainable_variables]
        if self.layer._call_has_training_arg:
            kwargs["training"] = training
        outputs, new_non_trainable, losses = self.layer.stateless_call(
            trainable, non_trainable, inputs, return_losses=True, **kwargs)
        # Carry the inner layer's own state updates (RNN states, seed generators).
        for variable, old, new in zip(self.layer.non_trainable_variables, non_trainable, new_non_trainable):
            if new is not old:
                variable.assign(new)
        for loss in losses:
            self.add_loss(loss)
        return outputs

    def apply_masks(self):
        """Write ``weight * mask`` into the wrapped layer's weights (eager)."""
        for weight, mask in zip(self.pruned_weights, self.masks):
            weight.assign(weight.value * mask.value)

    def compute_output_shape(self, input_shape):
        return self.layer.compute_output_shape(input_shape)

    def get_config(self):
        if not isinstance(self.pruning_schedule, pruning_schedule.PruningSchedule):
            raise ValueError(
                f"The pruning schedule {self.pruning_schedule!r} of `{self.name}` cannot be saved; "
                f"use keras_events.sparsity.PolynomialDecay or ConstantSparsity."
            )
        return {
            **super().get_config(),
            "pruning_schedule": keras.saving.serialize_keras_object(self.pruning_schedule),
            "block_size": self.block_size,
            "block_pooling_type": self.block_pooling_type,
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["layer"] = keras.saving.deserialize_keras_object(config["layer"])
        config["pruning_schedule"] = keras.saving.deserialize_keras_object(config["pruning_schedule"])
        return cls(**config)


def pruning_schedule_get(schedule):
    if schedule is None:
        return pruning_schedule.ConstantSparsity(0.5, begin_step=0, frequency=100)
    return pruning_schedule.get(schedule)

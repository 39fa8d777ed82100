"""Magnitude pruning for Keras 3 with the tensorflow-model-optimization API.

tfmot 0.8 wraps only `tf_keras` (Keras 2) layers; on a Keras 3 model its
`prune_low_magnitude` raises ``ValueError: `prune_low_magnitude` can only prune an
object of the following types: keras.models.Sequential, keras functional model,
keras.layers.Layer, list of keras.layers.Layer. You passed an object of type:
Sequential.`` (its isinstance checks are against `tf_keras` classes). This package
offers the same
names and semantics for Keras 3 (and every Keras backend); tfmot's schedule
objects are accepted.
"""

from keras_events.sparsity.prunable_layer import PrunableLayer
from keras_events.sparsity.prune import prune_low_magnitude, prune_scope, strip_pruning
from keras_events.sparsity.pruning_callbacks import PruningSummaries, UpdatePruningStep
from keras_events.sparsity.pruning_schedule import ConstantSparsity, PolynomialDecay, PruningSchedule
from keras_events.sparsity.pruning_wrapper import PruneLowMagnitude
from keras_events.sparsity.report import report

__all__ = ["PrunableLayer", "prune_low_magnitude", "prune_scope", "strip_pruning", "PruningSummaries",
           "UpdatePruningStep", "ConstantSparsity", "PolynomialDecay", "PruningSchedule",
           "PruneLowMagnitude", "report"]

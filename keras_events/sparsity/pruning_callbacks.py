"""Callbacks: `UpdatePruningStep` (required while training) and `PruningSummaries`."""

import importlib.util

import keras
import numpy as np

from keras_events.sparsity.pruning_wrapper import PruneLowMagnitude


def pruning_wrappers(model):
    """All `PruneLowMagnitude` layers of ``model`` (nested models included)."""
    found = []
    for layer in model.layers:
        if isinstance(layer, PruneLowMagnitude):
            found.append(layer)
        elif isinstance(layer, keras.Model):
            found.extend(pruning_wrappers(layer))
    return found


class UpdatePruningStep(keras.callbacks.Callback):
    """Required callback when training a pruned model (as in tfmot).

    Starts the wrappers' step counters (-1 -> 0) when training begins and, after
    every batch, writes ``weight * mask`` back into the weights so that pruned
    weights stay exactly zero even under optimizers with momentum.
    """

    def on_train_begin(self, logs=None):
        self.wrappers = pruning_wrappers(self.model)
        for layer in self.wrappers:
            layer.step_callback_attached = True
            if int(keras.ops.convert_to_numpy(layer.pruning_step)) == -1:
                layer.pruning_step.assign(0)

    def on_train_batch_end(self, batch, logs=None):
        if keras.backend.backend() != "jax":  # JAX holds the state outside the variables in fit
            for layer in self.wrappers:
                layer.apply_masks()

    def on_train_end(self, logs=None):
        for layer in self.wrappers:
            layer.apply_masks()


class PruningSummaries(keras.callbacks.Callback):
    """Writes the sparsity of every pruned weight as TensorBoard scalars each epoch.

    Scalars are named ``<layer>/<weight>/sparsity`` under ``log_dir/metrics``.
    """

    def __init__(self, log_dir):
        super().__init__()
        if not isinstance(log_dir, str) or not log_dir:
            raise ValueError(f"`log_dir` must be a non-empty string, got {log_dir!r}.")
        if importlib.util.find_spec("tensorboard") is None:
            raise ImportError("PruningSummaries writes TensorBoard files: `pip install tensorboard`.")
        self.log_dir = log_dir
        self._writer = None

    def on_epoch_end(self, epoch, logs=None):
        import tensorflow as tf  # TensorBoard event files are written with tf.summary

        if self._writer is None:
            self._writer = tf.summary.create_file_writer(self.log_dir + "/metrics")
        with self._writer.as_default():
            for layer in pruning_wrappers(self.model):
                for weight, mask in zip(layer.pruned_weights, layer.masks):
                    sparsity = 1.0 - float(np.mean(keras.ops.convert_to_numpy(mask)))
                    tf.summary.scalar(f"{layer.name}/{weight.name}/sparsity", sparsity, step=epoch)
        self._writer.flush()

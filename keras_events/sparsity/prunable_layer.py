"""Which weights of a layer may be pruned."""

import abc

import keras


class PrunableLayer(abc.ABC):
    """Interface for a custom layer to name its prunable weights (as in tfmot).

    Implement ``get_prunable_weights()`` returning the kernel-like variables;
    biases, thresholds and normalisation parameters should not be listed.
    Event cells (`EGRUCell`) implement it on the cell: both ``kernel`` and
    ``recurrent_kernel``.
    """

    @abc.abstractmethod
    def get_prunable_weights(self):
        raise NotImplementedError


_KERNEL_LAYERS = (keras.layers.Dense, keras.layers.Conv1D, keras.layers.Conv2D,
                  keras.layers.EinsumDense)
# Layers with weights that are never pruned but may stay in a pruned model unwrapped.
_PASS_THROUGH = (keras.layers.BatchNormalization, keras.layers.LayerNormalization,
                 keras.layers.GroupNormalization, keras.layers.Normalization)

SUPPORTED = ("Dense", "EinsumDense", "Conv1D", "Conv2D", "Embedding",
             "RNN/GRU/LSTM/SimpleRNN with keras_events cells or Keras GRU/LSTM/SimpleRNN cells",
             "any layer implementing keras_events.sparsity.PrunableLayer")


def _cell_weights(cell):
    if hasattr(cell, "get_prunable_weights"):
        return list(cell.get_prunable_weights())
    if isinstance(cell, keras.layers.StackedRNNCells):
        return [w for c in cell.cells for w in _cell_weights(c)]
    if isinstance(cell, (keras.layers.GRUCell, keras.layers.LSTMCell, keras.layers.SimpleRNNCell)):
        return [cell.kernel, cell.recurrent_kernel]
    return None


def prunable_weights(layer):
    """The prunable variables of a built ``layer``; ``None`` if the layer is not supported."""
    if hasattr(layer, "get_prunable_weights"):
        return list(layer.get_prunable_weights())
    if isinstance(layer, _KERNEL_LAYERS):
        return [layer.kernel]
    if isinstance(layer, keras.layers.Embedding):
        return [layer.embeddings]
    if isinstance(layer, keras.layers.RNN):
        return _cell_weights(layer.cell)
    return None


def is_pass_through(layer):
    """Layers left unwrapped by `prune_low_magnitude`: no weights, or normalisation."""
    return not layer.weights or isinstance(layer, _PASS_THROUGH) or isinstance(layer, keras.layers.InputLayer)


def can_prune(layer):
    return (hasattr(layer, "get_prunable_weights") or isinstance(layer, _KERNEL_LAYERS)
            or isinstance(layer, keras.layers.Embedding)
            or (isinstance(layer, keras.layers.RNN) and _cell_supported(layer.cell)))


def _cell_supported(cell):
    if isinstance(cell, keras.layers.StackedRNNCells):
        return all(_cell_supported(c) for c in cell.cells)
    return hasattr(cell, "get_prunable_weights") or isinstance(
        cell, (keras.layers.GRUCell, keras.layers.LSTMCell, keras.layers.SimpleRNNCell))

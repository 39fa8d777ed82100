"""`report(model)`: sparsity and non-zero count per layer and weight."""

import keras
import numpy as np

from keras_events.sparsity.prunable_layer import prunable_weights
from keras_events.sparsity.pruning_wrapper import PruneLowMagnitude


def report(model, print_table=True):
    """``{layer_name: {weight_name: {"sparsity", "nonzero", "size"}}}`` for prunable weights.

    Works on pruned (wrapped) and stripped models; for wrapped layers the effective
    weights ``weight * mask`` are measured.
    """
    result = {}
    for layer in model.layers:
        if isinstance(layer, PruneLowMagnitude):
            pairs = [(w, keras.ops.convert_to_numpy(w) * keras.ops.convert_to_numpy(m))
                     for w, m in zip(layer.pruned_weights, layer.masks)]
        else:
            weights = prunable_weights(layer) if layer.built else None
            pairs = [(w, keras.ops.convert_to_numpy(w)) for w in weights or []]
        if pairs:
            result[layer.name] = {
                w.name: {"sparsity": 1.0 - np.count_nonzero(v) / v.size,
                         "nonzero": int(np.count_nonzero(v)), "size": int(v.size)}
                for w, v in pairs
            }
    if print_table:
        print(f"{'layer':<24}{'weight':<20}{'sparsity':>9}{'nonzero':>10}{'size':>10}")
        for name, weights in result.items():
            for weight, s in weights.items():
                print(f"{name:<24}{weight:<20}{s['sparsity']:>9.3f}{s['nonzero']:>10}{s['size']:>10}")
    return result

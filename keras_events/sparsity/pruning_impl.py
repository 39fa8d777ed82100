"""Magnitude masks (Zhu & Gupta, "To prune, or not to prune", 2017), as in tfmot.

Keep the ``k = max(round(n * (1 - sparsity)), 1)`` largest-magnitude weights (or
blocks of weights, pooled by mean or max of |w|), zero the rest. Weights already
pruned (exactly zero) stay pruned: masks only shrink during training.
"""

from keras import ops


def magnitude_mask(weights, sparsity, block_size=(1, 1), pooling="AVG"):
    """0/1 mask of ``weights``' shape keeping the largest (1 - sparsity) fraction."""
    magnitude = ops.abs(weights)
    block_h, block_w = block_size
    blocked = (block_h, block_w) != (1, 1)
    if blocked:
        rows, cols = magnitude.shape
        tiles = ops.reshape(magnitude, (rows // block_h, block_h, cols // block_w, block_w))
        magnitude = ops.mean(tiles, axis=(1, 3)) if pooling == "AVG" else ops.max(tiles, axis=(1, 3))
    flat = ops.reshape(magnitude, (-1,))
    size = flat.shape[0]
    keep = ops.maximum(ops.round(size * (1.0 - ops.cast(sparsity, "float32"))), 1.0)
    ordered = ops.flip(ops.sort(flat), axis=0)  # descending
    threshold = ops.take(ordered, ops.cast(keep, "int32") - 1)
    mask = ops.logical_and(ops.greater_equal(magnitude, threshold), ops.greater(magnitude, 0.0))
    mask = ops.cast(mask, weights.dtype)
    if blocked:
        mask = ops.repeat(ops.repeat(mask, block_h, axis=0), block_w, axis=1)
    return mask


def validate_block(weights, block_size, pooling):
    """Raise a clear error if ``block_size`` cannot tile ``weights``."""
    if pooling not in ("AVG", "MAX"):
        raise ValueError(f"Argument `block_pooling_type` must be 'AVG' or 'MAX', got {pooling!r}.")
    if tuple(block_size) == (1, 1):
        return
    if len(weights.shape) != 2:
        raise ValueError(
            f"Block sparsity {tuple(block_size)} needs 2-D weights; `{weights.path}` has shape "
            f"{tuple(weights.shape)}. Use block_size=(1, 1) for this layer."
        )
    rows, cols = weights.shape
    if rows % block_size[0] or cols % block_size[1]:
        raise ValueError(
            f"`block_size` {tuple(block_size)} does not tile `{weights.path}` of shape {(rows, cols)}; "
            f"choose a block size that divides both dimensions."
        )

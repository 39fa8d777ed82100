"""Training batches with a fresh augmented copy every epoch, at the cost of one copy.

The features stage computes the clean training set and ``copies`` augmented copies of
it once (time shift and background noise, ``data.augment``; 8 copies of 1824 clips take
~14 s on 2 cores). Each epoch then trains on the clean set plus the next copy, shuffled.
An epoch costs what "clean + one copy" costs, but over training the model sees
``copies`` different augmentations of each clip instead of one: the effect of
on-the-fly augmentation (as in TensorFlow's speech_commands example) with the features
computed once, ahead of training.
"""

import numpy as np

from recipes.kws import data as kws_data
from recipes.kws import features as kws_features

# One clip's float32 log-mel features (98 frames x 40 bands).
FEATURE_BYTES = kws_features.num_frames(kws_data.CLIP_SAMPLES) * kws_features.N_MELS * 4


def default_copies(clips, budget_bytes=1 << 30, most=8):
    """Augmented copies for ``clips`` training clips: ``most``, fewer if the stacked
    features would exceed ``budget_bytes``, at least 1 (8 for the generated data's
    1824 clips; 1 for the ~85k clips of the real Speech Commands, 2.7 GB)."""
    return int(max(1, min(most, budget_bytes // (clips * FEATURE_BYTES) - 1)))


def epoch_size(clips, copies):
    """Clips per epoch: the clean set, plus one augmented copy if there are any."""
    return clips * (2 if copies else 1)


def epoch_indices(clips, copies, epoch, rng):
    """Shuffled indices into the stacked ``[clean, copy 1, ..., copy copies]`` arrays
    for ``epoch``: every clean clip once and every clip of copy ``1 + epoch % copies``."""
    index = np.arange(clips)
    if copies:
        index = np.concatenate([index, (1 + epoch % copies) * clips + index])
    return index[rng.permutation(len(index))]


def cycled_batches(x, y, copies, batch_size, seed, epochs):
    """All ``epochs`` of ``epoch_indices`` as one ``tf.data.Dataset`` of batches.

    Pass it to ``fit`` with ``steps_per_epoch=steps_per_epoch(...)``: Keras then keeps
    one iterator across epochs, so epoch ``e`` reads the ``e``-th shuffled order. The
    batches are gathered in tf.data (any Keras backend takes a ``tf.data.Dataset``);
    a ``keras.utils.PyDataset`` doing the same costs ~30 % more per training step here
    (its batches come through a Python generator).

    Args:
      x, y: the training features and labels stacked as ``[clean, copy 1, ...]``,
        ``(copies + 1) * clips`` rows (as ``prepare.stage_features`` stores them).
      copies: number of augmented copies in ``x``.
      batch_size: clips per batch (the last batch of an epoch may be smaller).
      seed: the shuffling seed.
      epochs: number of epochs in the dataset.
    """
    import tensorflow as tf

    if len(x) != len(y) or len(y) % (copies + 1):
        raise ValueError(f"x and y must hold (copies + 1) = {copies + 1} stacked copies of the "
                         f"training set, got {len(x)} and {len(y)} rows.")
    clips = len(y) // (copies + 1)
    rng = np.random.default_rng([seed, 11])
    orders = np.stack([epoch_indices(clips, copies, e, rng) for e in range(epochs)])
    features, labels = tf.constant(x), tf.constant(y)

    def gather(index):
        index = tf.sort(index)
        return tf.gather(features, index), tf.gather(labels, index)

    return (tf.data.Dataset.from_tensor_slices(orders)
            .flat_map(lambda order: tf.data.Dataset.from_tensor_slices(order).batch(batch_size))
            .map(gather, num_parallel_calls=tf.data.AUTOTUNE)
            .prefetch(tf.data.AUTOTUNE))


def steps_per_epoch(clips, copies, batch_size):
    """Batches per epoch of ``cycled_batches`` for ``clips`` clean training clips."""
    return -(-epoch_size(clips, copies) // batch_size)

"""One seed, the same run: seeding and deterministic ops for training event models.

An EGRU amplifies tiny numerical differences: the Heaviside step turns a round-off
difference at a threshold into a different event, and a different event changes every
later step. So "same seed, same numbers" needs, besides the seeds, kernels whose
reductions add in a fixed order.
"""

import keras


def set_seed(seed, deterministic=True):
    """Seeds Python, NumPy and the Keras backend; makes TensorFlow ops deterministic.

    ``keras.utils.set_random_seed(seed)`` seeds ``random``, ``numpy.random`` and the
    backend (initializers, dropout and ``SeedGenerator`` draw from it). With
    ``deterministic=True`` and the TensorFlow backend,
    ``tf.config.experimental.enable_op_determinism()`` is also switched on (fixed
    reduction order, deterministic ``tf.data``); it is a process-wide setting and stays
    on. JAX on CPU is deterministic already. Data order and augmentation must be seeded
    by the caller (e.g. a ``numpy.random.default_rng(seed)`` per purpose).

    Args:
      seed: integer seed (>= 0).
      deterministic: also turn on deterministic TensorFlow ops.

    Example:

    >>> from keras_events.training import set_seed
    >>> set_seed(0)
    """
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"Argument `seed` must be a non-negative integer, got {seed!r}.")
    keras.utils.set_random_seed(seed)
    if deterministic and keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        tf.config.experimental.enable_op_determinism()

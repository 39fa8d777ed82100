"""Backend-agnostic gradients for tests (TensorFlow or JAX)."""

import keras
import numpy as np


def value_and_grads(fn, variables):
    """``fn()`` -> scalar; returns (value, [d value / d v for v in variables]) as NumPy."""
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        with tf.GradientTape() as tape:
            value = fn()
        grads = tape.gradient(value, [v.value for v in variables])
        return np.asarray(value), [np.asarray(g) if g is not None else None for g in grads]
    if backend == "jax":
        import jax

        def pure(values):
            with keras.StatelessScope(state_mapping=list(zip(variables, values))):
                return fn()

        value, grads = jax.value_and_grad(pure)([v.value for v in variables])
        return np.asarray(value), [np.asarray(g) for g in grads]
    raise NotImplementedError(backend)


def grad_of_elementwise(fn, x):
    """d sum(fn(x)) / dx for a NumPy array x."""
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        x = tf.constant(x)
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = tf.reduce_sum(fn(x))
        return tape.gradient(y, x).numpy()
    if backend == "jax":
        import jax
        import jax.numpy as jnp

        return np.asarray(jax.grad(lambda v: jnp.sum(fn(v)))(jnp.asarray(x)))
    raise NotImplementedError(backend)

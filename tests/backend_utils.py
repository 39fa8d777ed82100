"""Backend-agnostic gradients for tests (TensorFlow or JAX)."""

import contextlib

import keras
import numpy as np


@contextlib.contextmanager
def float64():
    """Keras floatx and dtype policy float64 (and JAX's x64 mode) inside the block; restored
    after (the global dtype policy is cached from floatx on first use, so both are set)."""
    backend = keras.backend.backend()
    old_floatx = keras.config.floatx()
    old_policy = keras.config.dtype_policy()
    old_x64 = None
    if backend == "jax":
        import jax

        old_x64 = jax.config.jax_enable_x64
        jax.config.update("jax_enable_x64", True)
    keras.config.set_floatx("float64")
    keras.config.set_dtype_policy("float64")
    try:
        yield
    finally:
        keras.config.set_floatx(old_floatx)
        keras.config.set_dtype_policy(old_policy)
        if old_x64 is not None:
            import jax

            jax.config.update("jax_enable_x64", old_x64)


def value_and_grads(fn, variables, inputs=()):
    """``fn(*inputs)`` -> scalar; returns (value, [d value / d v for v in variables + inputs])
    as NumPy. ``inputs`` are NumPy arrays fed to ``fn`` as tensors."""
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        tensors = [tf.constant(a) for a in inputs]
        with tf.GradientTape() as tape:
            for t in tensors:
                tape.watch(t)
            value = fn(*tensors)
        grads = tape.gradient(value, [v.value for v in variables] + tensors)
        return np.asarray(value), [np.asarray(g) if g is not None else None for g in grads]
    if backend == "jax":
        import jax
        import jax.numpy as jnp

        def pure(values, tensors):
            with keras.StatelessScope(state_mapping=list(zip(variables, values))):
                return fn(*tensors)

        value, (g_vars, g_inputs) = jax.value_and_grad(pure, argnums=(0, 1))(
            [v.value for v in variables], [jnp.asarray(a) for a in inputs])
        return np.asarray(value), [np.asarray(g) for g in list(g_vars) + list(g_inputs)]
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

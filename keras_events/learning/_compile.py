"""Trace an online-learning step once: `tf.function` (optionally XLA) or `jax.jit`.

The sparse step gathers a data-dependent number of rows. A traced TensorFlow graph takes
that number as a dynamic shape; XLA and `jax.jit` need static shapes, so the caller
passes ``size`` (a Python int, see `influence.bucket`) and gets one compiled variant per
value.
"""

import keras


def compile_step(fn, variables, jit_compile=False):
    """``fn(*args, size=None)`` compiled for the backend; returns a callable with the
    same signature. ``variables``: the Keras variables ``fn`` reads (JAX traces pure
    functions: their current values are passed in on every call, not baked in)."""
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        # Python ints (size) are part of the trace key: one graph per bucket.
        compiled = tf.function(fn, reduce_retracing=not jit_compile, jit_compile=bool(jit_compile))
        return lambda *args, size=None: compiled(*args, size=size)
    if backend == "jax":
        import jax

        def pure(values, *args, size=None):
            with keras.StatelessScope(state_mapping=list(zip(variables, values))):
                return fn(*args, size=size)

        compiled = jax.jit(pure, static_argnames=("size",))
        return lambda *args, size=None: compiled([v.value for v in variables], *args, size=size)
    raise NotImplementedError(
        f"keras_events.learning supports the TensorFlow and JAX backends, not {backend!r}; "
        f"set KERAS_BACKEND=tensorflow or jax.")


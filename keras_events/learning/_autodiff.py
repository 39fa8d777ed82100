"""Value and gradient of a small function on TensorFlow or JAX (no other backend code)."""

import keras


def value_and_grad(fn, variables, tensors=()):
    """``fn(*tensors)`` -> (scalar, aux); returns (value, aux, grads of ``variables``,
    grads of ``tensors``)."""
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        tensors = [tf.convert_to_tensor(t) for t in tensors]
        with tf.GradientTape() as tape:
            for t in tensors:
                tape.watch(t)
            value, aux = fn(*tensors)
        grads = tape.gradient(value, [v.value for v in variables] + tensors,
                              unconnected_gradients=tf.UnconnectedGradients.ZERO)
        return value, aux, grads[:len(variables)], grads[len(variables):]
    if backend == "jax":
        import jax

        def pure(values, tensors):
            with keras.StatelessScope(state_mapping=list(zip(variables, values))):
                return fn(*tensors)

        (value, aux), (g_vars, g_tensors) = jax.value_and_grad(pure, argnums=(0, 1), has_aux=True)(
            [v.value for v in variables], list(tensors))
        return value, aux, list(g_vars), list(g_tensors)
    raise NotImplementedError(
        f"keras_events.learning supports the TensorFlow and JAX backends, not {backend!r}; "
        f"set KERAS_BACKEND=tensorflow or jax.")

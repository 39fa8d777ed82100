"""``--strategy``: one device, TF ``MirroredStrategy`` or JAX ``keras.distribution.DataParallel``.

Both are synchronous data parallelism: every device holds all weights, takes its share
of the global batch, and the gradients are averaged before the update, so one step on
``n`` devices equals one step on one device with the same global batch (up to the
order of floating-point sums).

On one machine the devices are logical CPU devices: TensorFlow splits the CPU with
``tf.config.set_logical_device_configuration``, XLA (JAX) with
``XLA_FLAGS=--xla_force_host_platform_device_count=n``; both must be set before the
backend starts, hence ``prepare`` runs before Keras is imported. On a cluster the same
code runs with ``MultiWorkerMirroredStrategy`` / ``jax.distributed.initialize`` (see
docs/recipes/lm.md, "Several machines").
"""

import contextlib
import os
import sys

DEVICE_FLAG = "--xla_force_host_platform_device_count"


def prepare(strategy, devices):
    """Environment for ``strategy`` before Keras is imported: the backend (JAX for
    ``data-parallel``, TensorFlow for ``mirrored``) and the logical CPU devices."""
    if strategy == "none":
        return
    want = "jax" if strategy == "data-parallel" else "tensorflow"
    have = os.environ.get("KERAS_BACKEND") or want
    if have != want:
        raise ValueError(f"--strategy {strategy} runs on the {want} backend, but KERAS_BACKEND={have}; "
                         f"unset it or set KERAS_BACKEND={want}.")
    if "keras" in sys.modules and sys.modules["keras"].backend.backend() != want:
        raise RuntimeError(f"--strategy {strategy}: Keras was imported with another backend; "
                           f"call prepare() before importing keras.")
    os.environ["KERAS_BACKEND"] = want
    if strategy == "data-parallel":
        flags = os.environ.get("XLA_FLAGS", "")
        if DEVICE_FLAG not in flags:
            os.environ["XLA_FLAGS"] = f"{flags} {DEVICE_FLAG}={devices}".strip()
    else:
        import tensorflow as tf

        cpu = tf.config.list_physical_devices("CPU")[0]
        try:
            tf.config.set_logical_device_configuration(
                cpu, [tf.config.LogicalDeviceConfiguration()] * devices)
        except RuntimeError as error:  # the runtime has started: fine if it has the devices
            started = len(tf.config.list_logical_devices("CPU"))
            if started < devices:
                raise RuntimeError(
                    f"--strategy mirrored needs {devices} logical CPU devices, but TensorFlow has "
                    f"already started with {started}; run it in a fresh process.") from error


class Placement:
    """Where a model is built and trained: ``scope()`` (a context manager) and the number
    of rows of the global batch each ``StateCarry`` holds state for."""

    def __init__(self, strategy="none", devices=2):
        self.strategy, self.devices, self._tf = strategy, devices, None
        if strategy == "mirrored":
            import tensorflow as tf

            names = [d.name for d in tf.config.list_logical_devices("CPU")][:devices]
            if len(names) < devices:
                raise RuntimeError(f"--strategy mirrored: {len(names)} CPU device(s), need {devices} "
                                   f"(recipes.lm.distribute.prepare was not called first).")
            self._tf = tf.distribute.MirroredStrategy(names)
        elif strategy == "data-parallel":
            import jax
            import keras

            found = jax.devices("cpu")
            if len(found) < devices:
                raise RuntimeError(
                    f"--strategy data-parallel: JAX sees {len(found)} CPU device(s), need {devices}: "
                    f"set XLA_FLAGS={DEVICE_FLAG}={devices} before jax is imported "
                    f"(recipes.lm.distribute.prepare).")
            keras.distribution.set_distribution(keras.distribution.DataParallel(devices=found[:devices]))

    def scope(self):
        return self._tf.scope() if self._tf is not None else contextlib.nullcontext()

    def state_rows(self, batch_size):
        """Rows of carried state per replica: the per-replica batch under MirroredStrategy
        (each replica runs the model on its share), the global batch otherwise."""
        return batch_size // self.devices if self.strategy == "mirrored" else batch_size

    def describe(self):
        return {"none": "one device", "mirrored": f"tf.distribute.MirroredStrategy on {self.devices} "
                "logical CPU devices", "data-parallel": f"keras.distribution.DataParallel (JAX) on "
                f"{self.devices} CPU devices"}[self.strategy]

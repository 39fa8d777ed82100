"""Small generated sequence tasks for tests, demos and benchmarks (no downloads)."""

import numpy as np


def pulse_channels(n, timesteps=20, features=4, classes=3, pulses=3, noise=0.6, seed=0):
    """Which channel carries the pulses? A small sequence classification task.

    Each sequence is Gaussian noise over ``features`` channels; the class ``k`` adds
    ``pulses`` unit pulses to channel ``k`` at random steps. Evidence arrives at a few
    steps only, so a recurrent unit has to integrate and hold it.
    Returns ``x`` (n, timesteps, features) float32 and ``y`` (n,) int32.
    """
    if classes > features:
        raise ValueError(f"`classes` ({classes}) must be <= `features` ({features}).")
    rng = np.random.default_rng(seed)
    x = rng.normal(0.0, noise, (n, timesteps, features)).astype("float32")
    y = rng.integers(0, classes, n).astype("int32")
    for i in range(n):
        steps = rng.choice(timesteps, size=pulses, replace=False)
        x[i, steps, y[i]] += 1.5
    return x, y

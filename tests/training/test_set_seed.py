"""keras_events.training.set_seed: the same seed draws the same numbers."""

import keras
import numpy as np
import pytest

from keras_events.training import set_seed


def _draws():
    init = keras.initializers.GlorotUniform()(shape=(4, 3))
    return np.random.rand(3), keras.ops.convert_to_numpy(init)


def test_same_seed_same_draws_other_seed_other_draws():
    set_seed(5)
    a = _draws()
    set_seed(5)
    b = _draws()
    set_seed(6)
    c = _draws()
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)
    assert not np.array_equal(a[1], c[1])


@pytest.mark.parametrize("seed", [-1, 1.5, "0", True])
def test_bad_seed(seed):
    with pytest.raises(ValueError, match="seed"):
        set_seed(seed)

"""--strategy data-parallel: keras.distribution.DataParallel (JAX) on 2 CPU devices gives
the single-device losses. In the JAX half of the test run (Makefile ``JAX_TESTS``)."""

import keras
import numpy as np
import pytest
from lm_distributed_run import run_distributed


@pytest.mark.slow  # ~2 min on 2 shared cores (two trainings in a fresh process)
@pytest.mark.skipif(keras.backend.backend() != "jax", reason="runs in the JAX half (KERAS_BACKEND=jax)")
def test_data_parallel_matches_one_device(lm_corpus):
    out = run_distributed("data-parallel", lm_corpus, "jax")
    # measured: identical (XLA splits the same sums the same way)
    np.testing.assert_allclose(out["data-parallel"], out["none"], rtol=1e-4)
    assert out["none"][-1] == pytest.approx(0.5, abs=0.01)

"""--strategy mirrored: tf.distribute.MirroredStrategy on 2 logical CPU devices gives the
single-device losses (same global batch; each replica carries the state of its rows)."""

import numpy as np
import pytest
from lm_distributed_run import run_distributed


@pytest.mark.slow  # ~2 min on 2 shared cores (two trainings in a fresh process)
def test_mirrored_strategy_matches_one_device(lm_corpus):
    out = run_distributed("mirrored", lm_corpus, "tensorflow")
    # training and validation losses of 2 epochs, test perplexity, weight sparsity;
    # measured: equal to ~1e-6 (float32 sums in another order)
    np.testing.assert_allclose(out["mirrored"], out["none"], rtol=1e-4)
    assert out["none"][-1] == pytest.approx(0.5, abs=0.01)

"""recipes/common/tuning.py: the KerasTuner search calls the recipe's training with each
trial's settings and returns the best trial's values (a stand-in training function:
its score is a known function of the settings)."""

import dataclasses

import pytest

import keras_tuner as kt  # in the test extra: a missing tuner fails, never skips

from recipes.common import tuning  # noqa: E402


@dataclasses.dataclass
class _Cfg:
    seed: int = 0
    egru_epochs: int = 10
    egru_learning_rate: float = 5e-3
    activity_adapt: float = 0.0
    activity_warmup: float = 0.0
    threshold_init: float = 0.3
    surrogate_height: float = 0.7
    surrogate_width: float = 1.0
    prune_begin: float = 0.2


def test_search_runs_each_trial_with_its_settings_and_returns_the_best(tmp_path):
    seen = []

    def fit_one(cfg, state, name):
        seen.append(cfg)
        # best: small threshold, wide surrogate (independent of what the oracle reports)
        score = 1.0 - abs(cfg.threshold_init - 0.1) + 0.1 * cfg.surrogate_width
        return None, {"best_val_accuracy": score}

    best, _ = tuning.search(_Cfg(), {}, fit_one, "egru", trials=6, epochs=3,
                            directory=str(tmp_path), log=lambda m: None)
    assert len(seen) == 6
    assert all(c.egru_epochs == 3 for c in seen)  # the trial budget, not the full run
    assert len({c.threshold_init for c in seen}) == 6  # each trial its own settings
    top = max(seen, key=lambda c: 1.0 - abs(c.threshold_init - 0.1) + 0.1 * c.surrogate_width)
    assert best["threshold_init"] == pytest.approx(top.threshold_init)
    assert best["surrogate_width"] == top.surrogate_width
    assert set(best) == set(tuning.SPACE)

"""The keyword-spotting recipe as stages: data -> features -> train -> prune -> export ->
run on host/MCU -> report (``recipes.common.stages`` describes the contract).

  prepare   stage_data, stage_features      (this recipe: Speech Commands, log-mel)
  training  stage_tune (--tune: KerasTuner), stage_train, stage_prune (common.training)
  deploy    stage_export, stage_run         (common.evaluate + Arduino, C front end)
  report    stage_report                    (common.report, common.plots)
"""

import dataclasses

from recipes.common import seeds as common_seeds
from recipes.common import stages
from recipes.kws.config import log
from recipes.kws.deploy import stage_export, stage_run
from recipes.kws.prepare import stage_data, stage_features
from recipes.kws.report import stage_report
from recipes.kws.training import stage_prune, stage_train, stage_tune

STAGES = (stage_data, stage_features, stage_tune, stage_train, stage_prune, stage_export, stage_run,
          stage_report)


def run(cfg, stages_=STAGES):
    """Runs ``stages_`` in order on a fresh state dict; returns the state."""
    return stages.run(cfg, stages_)


def run_seeds(cfg):
    """``cfg.seeds``: one run per seed under ``<out>/seed-<s>/`` (no run stage, Arduino or
    plots: the accuracy, event rate and sparsity are what varies), then the mean ± std
    table, the int8 gap against its target and ``<out>/seeds.json``."""
    import os

    os.makedirs(cfg.out, exist_ok=True)
    from recipes.kws.prepare import pool_dir

    # One pool for all seeds (the seed picks the split, not the audio).
    light = dataclasses.replace(cfg, board=False, arduino=False, plots=False,
                                pool_dir=pool_dir(cfg))
    # Without the run stage: the streaming check and board runs (the C front end's too)
    # do not vary with the seed and cost minutes each.
    per_seed = common_seeds.run_seeds(
        light, lambda c: run(c, tuple(s for s in STAGES if s is not stage_run)), cfg.seeds, log=log)
    stats = common_seeds.aggregate(per_seed)
    table = common_seeds.format_table(cfg.protocol, stats)
    line = common_seeds.gap_line(per_seed)
    print(f"\n{cfg.protocol}: mean ± std over seeds {', '.join(map(str, cfg.seeds))}")
    print(table)
    print(line)
    path = common_seeds.write_summary(cfg.out, cfg.protocol, per_seed, stats, table, line)
    log(f"wrote {path}")
    return per_seed

"""The keyword-spotting recipe as stages: data -> features -> train -> prune -> export ->
run on host/MCU -> report (``recipes.common.stages`` describes the contract).

  prepare   stage_data, stage_features      (this recipe: Speech Commands, log-mel)
  training  stage_train, stage_prune        (common.training with this recipe's models)
  deploy    stage_export, stage_run         (common.evaluate + Arduino, C front end)
  report    stage_report                    (common.report, common.plots)
"""

from recipes.common import stages
from recipes.kws.deploy import stage_export, stage_run
from recipes.kws.prepare import stage_data, stage_features
from recipes.kws.report import stage_report
from recipes.kws.training import stage_prune, stage_train

STAGES = (stage_data, stage_features, stage_train, stage_prune, stage_export, stage_run,
          stage_report)


def run(cfg, stages_=STAGES):
    """Runs ``stages_`` in order on a fresh state dict; returns the state."""
    return stages.run(cfg, stages_)

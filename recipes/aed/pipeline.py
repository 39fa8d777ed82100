"""The acoustic-event recipe as stages (``recipes.common.stages`` describes the contract):

  prepare   stage_data, stage_features   ESC-50 layout (generated or real), pooled log-mel
  training  stage_train, stage_prune     every model on each fold run (common.training)
  deploy    stage_export, stage_run      int8 exports, host runs, Cortex-M4 and M0
  stream    stage_detect                 streaming detection, event-level P/R/F1
  report    stage_report                 tables, checks, results.json, PNGs
"""

from recipes.aed.deploy import stage_export, stage_run
from recipes.aed.prepare import stage_data, stage_features
from recipes.aed.report import stage_report
from recipes.aed.stream import stage_detect
from recipes.aed.training import stage_prune, stage_train
from recipes.common import stages

STAGES = (stage_data, stage_features, stage_train, stage_prune, stage_export, stage_run,
          stage_detect, stage_report)


def run(cfg, stages_=STAGES):
    """Runs ``stages_`` in order on a fresh state dict; returns the state."""
    return stages.run(cfg, stages_)

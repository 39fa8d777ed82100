"""Keyword spotting on the Google Speech Commands layout (or offline generated data).

This recipe holds only its data, front end and models; training, export, board runs,
the results table and plots are the shared steps of ``recipes/common``.

Modules:
  config    -- the settings (``Config``) behind ``python -m recipes.kws`` flags
  data      -- reader for the Speech Commands layout + augmentation
  generate  -- offline espeak-ng generator writing that same layout
  features  -- the log-mel front end (librosa), mirrored in C by custom_ops/core/ke_logmel.c
  batches   -- training batches: the clean set plus the next augmented copy every epoch
  models    -- the GRU baseline and the EGRU
  prepare   -- stages data and features
  training  -- stages train and prune (common.training)
  deploy    -- stages export and run (common.evaluate) + Arduino library, C front end on the board
  report    -- stage report (common.report, common.plots)
  pipeline  -- the stages in order, ``run(cfg)``

Run ``python -m recipes.kws --help``.
"""

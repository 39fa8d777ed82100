"""Keyword spotting on the Google Speech Commands layout (or offline generated data).

Modules:
  data      -- reader for the Speech Commands layout + augmentation
  generate  -- offline espeak-ng generator writing that same layout
  features  -- the log-mel front end (librosa), mirrored in C by custom_ops/core/ke_logmel.c
  train     -- the recipe stages (data -> features -> train -> prune -> export -> run -> report)

Run ``python -m recipes.kws --help``.
"""

"""What every recipe needs, written once: each recipe keeps only its data, its front end
and its models and calls these steps.

Modules (in the order a recipe runs them):
  config    -- validation of the settings every recipe shares (epochs, units, pruning, ...)
  stages    -- the stage runner, the shared ``state`` dict contract, logging
  output    -- quiet conversions unless --verbose, one line per epoch when not on a terminal
  pruning   -- gradual magnitude-pruning schedule and the best-epoch-after-pruning callback
  training  -- fit a model toward an event-rate target (activity regularization), pruned
               while it trains, Adam with gradient clipping; event statistics afterwards
  export    -- int8 ``.tflite`` of the event model (whole sequence and streaming) and of
               the dense baseline; host TFLite / TFLite Micro runs; streaming check
  board     -- ``keras_events.micro`` runs on the host and the emulated Cortex-M4
               (instructions, flash/RAM, host = board) incl. the dense-kernel baseline
  evaluate  -- the export and board stages on the shared ``state`` (results rows)
  report    -- the results table, the target checks ([PASS]/[FAIL]) and ``results.json``
  plots     -- PNG plots: training curves, event raster, accuracy vs sparsity,
               instructions vs activity

Conventions: a recipe trains a dense baseline named ``gru`` and an event model named
``egru``; their int8 exports are the ``*_int8`` rows of the table (``stages.DENSE``,
``stages.EVENT``).
"""

"""A recipe is a sequence of stages ``stage(cfg, state) -> state`` run on one dict.

Each stage reads what earlier stages put in ``state`` and adds its own results, so a
stage can be replaced or extended on its own. A stage that cannot run here (no QEMU,
``--no-board``, a non-TensorFlow Keras backend for the export) records
``"n/a: <reason>"`` under ``state["stages"][<stage>]`` and the report marks its values
``n/a``.

Keys the shared stages read (a recipe's data and feature stages provide them):
  ``x_training``, ``y_training``, ``x_validation``, ``y_validation``, ``x_testing``,
  ``y_testing``  -- model inputs [clips, frames, features] and integer labels;
  ``class_names`` -- the label names.
Keys they add: ``models`` (name -> trained Keras model), ``results`` (table row name ->
dict), ``tflite`` (name -> bytes), ``board``, ``streaming``, ``sparsity_points``,
``stages``.
"""

import os
import sys

NOT_BUILT = "n/a"
DENSE = "gru"  # the dense baseline's name (model, results row, board run)
EVENT = "egru"  # the event model's name
# Models exported through an event custom op (keras_events.ops registry), whole sequence
# and streaming, and run on the board one frame per invoke: the event model first.
EVENT_MODELS = (EVENT, "delta_gru")


class Logger:
    """``log("text")`` prints ``[<recipe>] text`` to stderr (progress, not results)."""

    def __init__(self, recipe):
        self.recipe = recipe

    def __call__(self, message):
        print(f"[{self.recipe}] {message}", file=sys.stderr, flush=True)


def run(cfg, stages):
    """Runs ``stages`` in order on a fresh state dict (``cfg.out`` created); returns it."""
    os.makedirs(cfg.out, exist_ok=True)
    state = {}
    for stage in stages:
        state = stage(cfg, state)
    return state


def write_bytes(out, name, data):
    """Writes ``data`` to ``<out>/<name>``."""
    with open(os.path.join(out, name), "wb") as f:
        f.write(data)


def set_status(state, stage, status):
    state.setdefault("stages", {})[stage] = status

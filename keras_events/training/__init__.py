"""Training helpers for event models: reproducible runs, event-rate control.

See docs/guides/training-egru.md ("Training your own EGRU").
"""

from keras_events.training.distill import Distiller
from keras_events.training.reproducibility import set_seed
from keras_events.training.revival import ReviveSilentUnits, revive_silent_units

__all__ = ["Distiller", "ReviveSilentUnits", "revive_silent_units", "set_seed"]

"""Training helpers for event models: reproducible runs, event-rate control.

See docs/guides/training-egru.md ("Training your own EGRU").
"""

from keras_events.training.reproducibility import set_seed

__all__ = ["set_seed"]

"""Event-based recurrent cells."""

from keras_events.cells.egru import EGRU, EGRUCell

__all__ = ["EGRU", "EGRUCell"]

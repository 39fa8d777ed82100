"""Event-based recurrent cells."""

from keras_events.cells.delta_gru import DeltaGRUCell
from keras_events.cells.delta_lstm import DeltaLSTMCell
from keras_events.cells.egru import EGRUCell
from keras_events.cells.egru_layer import EGRU
from keras_events.cells.embedded_gru import EmbeddedGRUCell

__all__ = ["EGRU", "EGRUCell", "DeltaGRUCell", "DeltaLSTMCell", "EmbeddedGRUCell"]

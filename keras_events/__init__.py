"""keras-events: event-based recurrent networks for Keras 3, down to microcontrollers.

Public API: the cells and layers, surrogate gradients, activity metrics; the
subpackages `keras_events.sparsity` (pruning), `keras_events.export` (TFLite),
`keras_events.micro` (TFLite Micro) and `keras_events.training` (reproducible runs,
distillation) are imported on demand.
"""

from keras_events import surrogates
from keras_events.activity import ActivityMonitor, activity_report
from keras_events.cells import EGRU, DeltaGRUCell, DeltaLSTMCell, EGRUCell, EmbeddedGRUCell
from keras_events.learning import OnlineTrainer
from keras_events.surrogates import spike

__version__ = "0.1.0"

__all__ = [
    "EGRU", "EGRUCell", "DeltaGRUCell", "DeltaLSTMCell", "EmbeddedGRUCell", "OnlineTrainer",
    "ActivityMonitor", "activity_report", "spike", "surrogates",
]

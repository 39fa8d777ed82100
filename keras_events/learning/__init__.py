"""Online learning for event RNNs: exact (sparse) RTRL and SnAp-n.

`OnlineTrainer` trains a recurrent model one time step at a time with the influence
matrix of real-time recurrent learning (memory independent of the sequence length);
`Influence` is the forward-mode gradient of one cell (`DeltaInfluence` for a Delta-GRU or Delta-LSTM),
`cost` counts its operations.
See docs/guides/online-learning.md.
"""

from keras_events.learning import cost
from keras_events.learning.cells import CellMath
from keras_events.learning.delta import DeltaInfluence
from keras_events.learning.influence import Influence
from keras_events.learning.trainer import OnlineTrainer

__all__ = ["CellMath", "DeltaInfluence", "Influence", "OnlineTrainer", "cost"]

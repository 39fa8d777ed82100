"""The acoustic-event recipe's settings (``python -m recipes.aed --help``)."""

import dataclasses

from recipes.common import config as common_config
from recipes.common.stages import Logger

log = Logger("aed")
# gru / egru / delta_gru / embedded_gru: recipes.kws.models builders on this recipe's input
# size; dscnn: recipes.kws.dscnn.build_dscnn on the log-mel image.
MODELS = ("gru", "egru", "delta_gru", "embedded_gru", "dscnn")
# Cortex-M0 budget of "a 5 s clip in real time": 48 MHz, and cycles per instruction
# assumed 1.5 (ARMv6-M: most data-processing instructions 1 cycle, loads/stores 2,
# taken branches 3; the eGRU kernel's inner loop is load/add heavy).
M0_HZ = 48e6
M0_CPI = 1.5


@dataclasses.dataclass
class Config:
    """Recipe settings (see ``python -m recipes.aed --help``)."""

    data_dir: str = None  # ESC-50 checkout; None: generate into <out>/data
    out: str = "build/aed"
    subset: str = "esc50"  # or esc10 (the csv's esc10 column)
    clips_per_class: int = 40  # generated data (ESC-50 has 40 per class)
    seconds: float = 5.0  # clip length
    # Frame rate of the features: log-mel frames of the shared front end (30 ms window
    # every 10 ms) averaged in groups of frame_ms / 10, so a 5 s clip is 124 frames at
    # 40 ms: 4x fewer recurrent steps than 10 ms, events last 0.1-4 s.
    frame_ms: int = 40
    folds: int = 5  # folds run as test fold (1: fold 1 only, the quick protocol)
    epochs: int = 30  # GRU and DS-CNN
    egru_epochs: int = None  # default 2 x epochs
    delta_epochs: int = None  # default 2 x epochs
    embedded_epochs: int = None  # default 2 x epochs
    # Early stopping shared by every model (recipes.common.training.fit): stop once the
    # validation accuracy has not improved for this many epochs after the final pruning
    # masks; None: every epoch.
    patience: int = None
    units: int = 64
    target_sparsity: float = 0.8
    activity_reg: float = 2.0
    target_event_rate: float = 0.18  # under the 0.2 with room for the int8 model
    learning_rate: float = 3e-3
    egru_learning_rate: float = 8e-3
    threshold_init: float = 0.1
    surrogate_height: float = 0.7
    surrogate_width: float = 1.0
    delta_input_threshold: float = 0.1
    delta_hidden_threshold: float = 0.1
    batch_size: int = 32
    # Augmented copies of the training set: circular time shift and a level change of the
    # clip (a constant added to its log-mel); each epoch reads the clean set and one copy.
    augment_copies: int = 4
    seed: int = 0
    models: tuple = ("gru", "egru")
    prune_begin: float = 0.2
    prune_end: float = 0.7
    calibration_clips: int = 200
    stream_check_clips: int = 4
    # Streaming detection (recipes/aed/detection.py).
    stream_clips: int = 40  # test clips concatenated into the stream
    gap_seconds: tuple = (1.0, 3.0)  # background between clips, uniform in this range
    score_window: float = 1.0  # seconds of per-frame logits averaged into a score
    detection_threshold: float = 0.5  # softmax score an event needs
    min_event: float = 0.2  # seconds: shorter detections are dropped
    onset_tolerance: float = 1.0  # seconds between a detected and a true onset
    gate: bool = True  # tune an energy gate and score threshold on a validation stream
    board: bool = True  # emulated Cortex-M4 (and M0 for embedded_gru)
    plots: bool = True
    quick: bool = False
    sweep: tuple = ()
    rate_sweep: tuple = ()

    def __post_init__(self):
        if self.quick:  # smoke test: tiny data, tiny models, 2 epochs, 1 fold
            self.epochs, self.units, self.folds = 2, 16, 1
            self.clips_per_class, self.augment_copies = min(self.clips_per_class, 10), 1
            self.stream_clips, self.calibration_clips = min(self.stream_clips, 8), 20
        for name in ("egru_epochs", "delta_epochs", "embedded_epochs"):
            if getattr(self, name) is None:
                setattr(self, name, 2 * self.epochs)
        common_config.validate(self, known_models=MODELS)
        if self.patience is not None and self.patience < 1:
            raise ValueError(f"--patience must be >= 1 epoch (or 0 for none), got {self.patience}.")
        if self.subset not in ("esc50", "esc10"):
            raise ValueError(f"--subset must be esc50 or esc10, got {self.subset!r}.")
        if not 1 <= self.folds <= 5:
            raise ValueError(f"--folds must be in 1..5, got {self.folds}.")
        if self.frame_ms < 10 or self.frame_ms % 10:
            raise ValueError(f"--frame-ms must be a positive multiple of 10, got {self.frame_ms}.")
        if not 1.0 <= self.seconds <= 30.0:
            raise ValueError(f"--seconds must be in [1, 30], got {self.seconds}.")
        if self.clips_per_class < 5 or self.clips_per_class % 5:
            raise ValueError(f"--clips-per-class must be a multiple of 5, got {self.clips_per_class}.")
        if not 0.0 < self.detection_threshold < 1.0:
            raise ValueError(f"--detection-threshold must be in (0, 1), got {self.detection_threshold}.")
        if self.onset_tolerance <= 0 or self.score_window <= 0 or self.min_event < 0:
            raise ValueError("--onset-tolerance and --score-window must be > 0, --min-event >= 0.")
        if self.stream_clips < 1:
            raise ValueError(f"--stream-clips must be >= 1, got {self.stream_clips}.")
        low, high = self.gap_seconds
        if not 0.0 <= low <= high:
            raise ValueError(f"--gap-seconds must be 'low,high' with 0 <= low <= high, got "
                             f"{self.gap_seconds}.")

    @property
    def pool(self):
        """Shared-front-end frames (10 ms) averaged into one feature frame."""
        return self.frame_ms // 10

"""The keyword models: a dense GRU baseline and the EGRU (what the project measured on
keywords, see ``recipes/common/training.py``).

  * ``gru``:  Input(98, 40) -> keras.layers.GRU(units) -> Dense(12, softmax)
  * ``egru``: Input(98, 40) -> EGRU(units, return_sequences=True) (an ``RNN(EGRUCell)``
    with an event-rate target) -> GlobalAveragePooling1D -> Dense(12, softmax). The
    classifier reads the mean of y over time: the last step's y is usually 0 and
    training would stay at chance.
Both train with Adam(clipnorm=1.0) (``common.training.compile_model``; learning rates:
``Config``): without clipping EGRU plateaus far lower.
"""

from recipes.common.training import EventRateTarget


def build_gru(cfg, frames=98, mels=40, classes=12):
    """The dense baseline: keras.layers.GRU reading the last step."""
    import keras

    return keras.Sequential([
        keras.Input((frames, mels)),
        keras.layers.GRU(cfg.units),
        keras.layers.Dense(classes, activation="softmax"),
    ], name="gru")


def build_egru(cfg, frames=98, mels=40, classes=12):
    """The event model: EGRU over all steps, mean of y over time, softmax."""
    import keras
    from keras_events import EGRU

    target = EventRateTarget(weight=cfg.activity_reg, rate=cfg.target_event_rate,
                             adapt=getattr(cfg, "activity_adapt", 0.0))
    return keras.Sequential([
        keras.Input((frames, mels)),
        EGRU(cfg.units, return_sequences=True, seed=cfg.seed, name="egru",
             threshold_init=getattr(cfg, "threshold_init", 0.1),
             activity_warmup_steps=getattr(cfg, "activity_warmup_steps", 0),
             surrogate={"class_name": "triangle",
                        "config": {"height": getattr(cfg, "surrogate_height", 0.7),
                                   "width": getattr(cfg, "surrogate_width", 1.0)}},
             **target.layer_kwargs()),
        keras.layers.GlobalAveragePooling1D(),
        keras.layers.Dense(classes, activation="softmax"),
    ], name="egru")


BUILDERS = {"gru": build_gru, "egru": build_egru}

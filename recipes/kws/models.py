"""The keyword models: a dense GRU baseline and the EGRU (what the project measured on
keywords, see ``recipes/common/training.py``).

  * ``gru``:  Input(98, 40) -> keras.layers.GRU(units) -> Dense(12, softmax)
  * ``lstm``: as ``gru`` with keras.layers.LSTM (the fused CMSIS-NN LSTM baseline)
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


def build_embedded_gru(cfg, frames=98, mels=40, classes=12):
    """The eGRU for Cortex-M0 (``keras_events.EmbeddedGRUCell``, Amoh & Odame 2019):
    power-of-two weights trained with the straight-through estimator from the start
    (``quantize=True``), inputs scaled by 1/4 so the normalized log-mels (about +-4) sit in
    the Q15 range of its kernel, mean of h over time, softmax."""
    import keras
    from keras_events import EmbeddedGRUCell

    return keras.Sequential([
        keras.Input((frames, mels)),
        keras.layers.Rescaling(0.25),
        keras.layers.RNN(EmbeddedGRUCell(cfg.units, quantize=True, seed=cfg.seed),
                         return_sequences=True, name="embedded_gru"),
        keras.layers.GlobalAveragePooling1D(),
        keras.layers.Dense(classes, activation="softmax"),
    ], name="embedded_gru")


def build_delta_gru(cfg, frames=98, mels=40, classes=12):
    """The delta model: RNN(DeltaGRUCell) over all steps, mean over time, softmax."""
    import keras
    from keras_events import DeltaGRUCell

    cell = DeltaGRUCell(cfg.units, input_threshold=cfg.delta_input_threshold,
                        hidden_threshold=cfg.delta_hidden_threshold, seed=cfg.seed)
    return keras.Sequential([
        keras.Input((frames, mels)),
        keras.layers.RNN(cell, return_sequences=True, name="delta_gru"),
        keras.layers.GlobalAveragePooling1D(),
        keras.layers.Dense(classes, activation="softmax"),
    ], name="delta_gru")


def delta_stats(model, x):
    """Results-table values of the delta model on inputs ``x`` (``activity_report``): the
    hidden delta rate in the event-rate column, both delta rates, training matrix MACs."""
    from keras_events import activity_report
    from keras_events.activity import training_macs

    stats = activity_report(model, x, print_table=False)["delta_gru"]
    train, dense = training_macs(stats)
    return dict(event_rate=stats["hidden_delta_rate"], input_delta_rate=stats["input_delta_rate"],
                hidden_delta_rate=stats["hidden_delta_rate"], weight_sparsity=stats["weight_sparsity"],
                effective_macs_per_frame=stats["effective_macs"],
                dense_macs_per_frame=stats["dense_macs"], train_macs_per_frame=train,
                dense_train_macs_per_frame=dense, train_macs_fewer=1.0 - train / dense,
                frames=x.shape[1])


def build_lstm(cfg, frames=98, mels=40, classes=12):
    """The fused-LSTM baseline (recipes/kws/lstm_cmsis.py): keras.layers.LSTM reading the
    last step; exported through tf_keras so that the converter fuses it."""
    import keras

    return keras.Sequential([
        keras.Input((frames, mels)),
        keras.layers.LSTM(cfg.units),
        keras.layers.Dense(classes, activation="softmax"),
    ], name="lstm")


BUILDERS = {"gru": build_gru, "egru": build_egru, "delta_gru": build_delta_gru,
            "lstm": build_lstm, "embedded_gru": build_embedded_gru}

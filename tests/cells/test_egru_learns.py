"""An EGRU learns a small generated sequence task with sparse activity."""

import keras

from keras_events import EGRU, activity_report
from keras_events.datasets import pulse_channels


def test_egru_learns_pulse_task_with_sparse_events():
    x, y = pulse_channels(1024, seed=0)
    x_val, y_val = pulse_channels(512, seed=1)
    model = keras.Sequential([
        keras.Input(x.shape[1:]),
        EGRU(32, return_sequences=True, activity_regularization=0.5),
        keras.layers.GlobalAveragePooling1D(),  # read the mean of y over time (DESIGN.md)
        keras.layers.Dense(3, activation="softmax"),
    ])
    model.compile(keras.optimizers.Adam(3e-3, clipnorm=1.0), "sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    model.fit(x, y, epochs=40, batch_size=32, verbose=0)
    _, accuracy = model.evaluate(x_val, y_val, verbose=0)
    report = activity_report(model, x_val[:256], print_table=False)
    (stats,) = report.values()
    assert accuracy >= 0.90
    assert stats["event_rate"] <= 0.5

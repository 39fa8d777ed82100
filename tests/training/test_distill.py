"""keras_events.training.Distiller: the loss against a numpy reference, learning from the
teacher alone, the student's own losses kept."""

import keras
import numpy as np
import pytest

from keras_events import EGRU
from keras_events.training import Distiller


def _dense(seed, classes=3, features=6):
    keras.utils.set_random_seed(seed)
    return keras.Sequential([keras.Input((features,)), keras.layers.Dense(16, activation="tanh"),
                             keras.layers.Dense(classes, activation="softmax")])


def _softmax(z):
    z = z - z.max(-1, keepdims=True)
    return np.exp(z) / np.exp(z).sum(-1, keepdims=True)


def test_distillation_loss_matches_numpy_kl():
    teacher, student = _dense(0), _dense(1)
    d = Distiller(student, teacher, alpha=0.3, temperature=3.0)
    x = np.random.default_rng(0).normal(size=(5, 6)).astype("float32")
    pt, ps = teacher.predict(x, verbose=0), student.predict(x, verbose=0)
    got = float(keras.ops.convert_to_numpy(d.distillation_loss(pt, ps)))
    p, q = _softmax(np.log(pt) / 3.0), _softmax(np.log(ps) / 3.0)
    expected = 9.0 * np.mean(np.sum(p * (np.log(p) - np.log(q)), axis=-1))
    assert got == pytest.approx(expected, rel=1e-4)


def test_student_learns_the_teacher_without_labels():
    """alpha = 0 and random labels: the student still agrees with the teacher; with
    alpha = 1 (labels only) it does not (so the teacher term is what teaches)."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(512, 6)).astype("float32")
    y = rng.integers(0, 3, 512).astype("int32")  # labels carry no information
    teacher = _dense(0)
    target = teacher.predict(x, verbose=0).argmax(-1)
    agree = {}
    for alpha in (0.0, 1.0):
        d = Distiller(_dense(1), teacher, alpha=alpha, temperature=2.0)
        d.compile(keras.optimizers.Adam(1e-2), "sparse_categorical_crossentropy")
        d.fit(x, y, epochs=30, batch_size=64, verbose=0)
        agree[alpha] = float(np.mean(d.predict(x, verbose=0).argmax(-1) == target))
    assert agree[0.0] >= 0.9, agree
    assert agree[1.0] < agree[0.0] - 0.2, agree


def test_student_losses_are_kept():
    """The EGRU's event-rate penalty reaches the loss through the Distiller."""
    x = np.random.default_rng(0).normal(size=(8, 10, 4)).astype("float32")
    y = np.zeros(8, "int32")

    def student():
        keras.utils.set_random_seed(2)
        return keras.Sequential([keras.Input((10, 4)),
                                 EGRU(8, return_sequences=True, activity_regularization=100.0),
                                 keras.layers.GlobalAveragePooling1D(),
                                 keras.layers.Dense(3, activation="softmax")])

    teacher = keras.Sequential([keras.Input((10, 4)), keras.layers.GRU(4),
                                keras.layers.Dense(3, activation="softmax")])
    with_penalty = Distiller(student(), teacher, alpha=0.5)
    y_pred = with_penalty(x, training=True)
    total = float(keras.ops.convert_to_numpy(with_penalty.compute_loss(x, y, y_pred)))
    assert total > 10.0  # 100 × event rate, well above any cross-entropy here


@pytest.mark.parametrize("kwargs", [dict(alpha=1.5), dict(temperature=0.0)])
def test_bad_arguments(kwargs):
    with pytest.raises(ValueError, match="alpha|temperature"):
        Distiller(_dense(0), _dense(1), **kwargs)

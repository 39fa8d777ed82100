"""Knowledge distillation from a dense teacher into an event student.

Hinton, Vinyals & Dean, "Distilling the knowledge in a neural network" (2015): the
student is trained on ``α · CE(y, student) + (1 − α) · T² · KL(p_T^teacher ‖ p_T^student)``
with ``p_T = softmax(logits / T)``. For an EGRU the teacher is a dense GRU of the same
task: its soft targets carry the similarity between classes (``_unknown_`` words that
sound like keywords) that the hard labels do not, which helps most where the event
model has the least data per class.
"""

import keras
from keras import ops


def _log_probs(outputs, from_logits):
    """Log-probabilities of classifier ``outputs`` (softmax outputs or logits). For a
    softmax output ``log p = logits − logsumexp(logits)``, so ``softmax(log p / T)``
    equals ``softmax(logits / T)``: tempering works on either."""
    if from_logits:
        return ops.log_softmax(outputs, axis=-1)
    return ops.log(ops.clip(outputs, 1e-7, 1.0))


@keras.saving.register_keras_serializable(package="keras_events")
class Distiller(keras.Model):
    """Trains ``student`` on the labels and on a frozen ``teacher``'s soft targets.

    Behaves like the student (``call`` returns its outputs; ``evaluate`` and
    ``predict`` measure the student); only ``fit`` uses the teacher. The student's own
    losses (an EGRU's event-rate penalty) are added as usual. Keep ``distiller.student``
    after training (it is the model to save, prune-strip and export).

    Args:
        student: The Keras model to train (e.g. an EGRU classifier, possibly wrapped for
            pruning).
        teacher: A trained Keras model with the same outputs (e.g. a dense GRU); frozen.
        alpha: Weight of the hard-label loss, in [0, 1]; ``1 − alpha`` weighs the
            distillation term.
        temperature: Softmax temperature T > 0 of the soft targets.
        from_logits: Whether both models output logits (default: softmax outputs).

    Call ``compile(optimizer, loss=..., metrics=...)`` as for the student: ``loss`` is
    the hard-label loss (e.g. ``"sparse_categorical_crossentropy"``).

    Example:

    >>> distiller = Distiller(egru_model, gru_model, alpha=0.3)     # doctest: +SKIP
    >>> distiller.compile("adam", "sparse_categorical_crossentropy",
    ...                   metrics=["accuracy"])                       # doctest: +SKIP
    >>> distiller.fit(x, y, epochs=10)                                # doctest: +SKIP
    >>> egru_model = distiller.student                                # doctest: +SKIP
    """

    def __init__(self, student, teacher, alpha=0.5, temperature=2.0, from_logits=False,
                 **kwargs):
        super().__init__(**kwargs)
        if not isinstance(student, keras.Model) or not isinstance(teacher, keras.Model):
            raise ValueError("Arguments `student` and `teacher` must be Keras models, got "
                             f"{type(student).__name__} and {type(teacher).__name__}.")
        alpha, temperature = float(alpha), float(temperature)
        if not 0.0 <= alpha <= 1.0:
            raise ValueError(f"Argument `alpha` must be in [0, 1], got {alpha}.")
        if temperature <= 0.0:
            raise ValueError(f"Argument `temperature` must be > 0, got {temperature}.")
        self.student = student
        self.teacher = teacher
        self.teacher.trainable = False
        self.alpha = alpha
        self.temperature = temperature
        self.from_logits = bool(from_logits)

    def call(self, inputs, training=False):
        return self.student(inputs, training=training)

    def distillation_loss(self, teacher_outputs, student_outputs):
        """``T² · KL(softmax(t/T) ‖ softmax(s/T))``, averaged over the batch (the T²
        keeps its gradient scale independent of T, Hinton et al. 2015, sec. 2)."""
        t = self.temperature
        log_p = ops.log_softmax(_log_probs(teacher_outputs, self.from_logits) / t, axis=-1)
        log_q = ops.log_softmax(_log_probs(student_outputs, self.from_logits) / t, axis=-1)
        kl = ops.sum(ops.exp(log_p) * (log_p - log_q), axis=-1)
        return (t * t) * ops.mean(kl)

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        hard = super().compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=sample_weight,
                                    training=training)  # includes the student's own losses
        if self.alpha == 1.0:
            return hard
        teacher_outputs = ops.stop_gradient(self.teacher(x, training=False))
        soft = self.distillation_loss(teacher_outputs, y_pred)
        penalties = ops.sum([ops.cast(loss, "float32") for loss in self.losses]) \
            if self.losses else 0.0
        # super() returned CE + penalties; weight only the CE part by alpha.
        return self.alpha * (hard - penalties) + penalties + (1.0 - self.alpha) * soft

    def get_config(self):
        return {
            **super().get_config(),
            "student": keras.saving.serialize_keras_object(self.student),
            "teacher": keras.saving.serialize_keras_object(self.teacher),
            "alpha": self.alpha,
            "temperature": self.temperature,
            "from_logits": self.from_logits,
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["student"] = keras.saving.deserialize_keras_object(config["student"])
        config["teacher"] = keras.saving.deserialize_keras_object(config["teacher"])
        return cls(**config)

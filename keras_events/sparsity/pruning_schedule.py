"""Pruning schedules: small callables ``step -> (should_prune, sparsity)``.

Same names, arguments and semantics as tensorflow-model-optimization's
`pruning_schedule.py` (tfmot 0.8): a mask update happens at steps in
[begin_step, end_step] (end_step = -1: no end) that are a multiple of
``frequency`` after ``begin_step``. Written with `keras.ops`, so they run inside
the training step of any backend.
"""

import keras
from keras import ops


class PruningSchedule:
    """Base class: ``schedule(step)`` returns ``(should_prune, sparsity)`` tensors."""

    def __call__(self, step):
        raise NotImplementedError

    def get_config(self):
        raise NotImplementedError

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    @staticmethod
    def _validate(begin_step, end_step, frequency, allow_open_end):
        if begin_step < 0:
            raise ValueError(f"Argument `begin_step` must be >= 0, got {begin_step}.")
        if end_step == -1 and not allow_open_end:
            raise ValueError("Argument `end_step` must be set (>= begin_step) for this schedule.")
        if end_step != -1 and end_step < begin_step:
            raise ValueError(
                f"Argument `begin_step` ({begin_step}) must be <= `end_step` ({end_step})."
            )
        if frequency <= 0:
            raise ValueError(f"Argument `frequency` must be > 0, got {frequency}.")

    @staticmethod
    def _validate_sparsity(name, value):
        if not 0.0 <= value < 1.0:
            raise ValueError(f"Argument `{name}` must be in [0, 1), got {value}.")

    def _should_prune(self, step):
        in_range = ops.greater_equal(step, self.begin_step)
        if self.end_step != -1:
            in_range = ops.logical_and(in_range, ops.less_equal(step, self.end_step))
        on_beat = ops.equal(ops.mod(step - self.begin_step, self.frequency), 0)
        return ops.logical_and(in_range, on_beat)


@keras.saving.register_keras_serializable(package="keras_events")
class ConstantSparsity(PruningSchedule):
    """Prune to ``target_sparsity`` every ``frequency`` steps in [begin_step, end_step]."""

    def __init__(self, target_sparsity, begin_step, end_step=-1, frequency=100):
        self._validate_sparsity("target_sparsity", target_sparsity)
        self._validate(begin_step, end_step, frequency, allow_open_end=True)
        self.target_sparsity = float(target_sparsity)
        self.begin_step, self.end_step, self.frequency = int(begin_step), int(end_step), int(frequency)

    def __call__(self, step):
        step = ops.convert_to_tensor(step, "int32")
        return self._should_prune(step), ops.convert_to_tensor(self.target_sparsity, "float32")

    def get_config(self):
        return {"target_sparsity": self.target_sparsity, "begin_step": self.begin_step,
                "end_step": self.end_step, "frequency": self.frequency}


@keras.saving.register_keras_serializable(package="keras_events")
class PolynomialDecay(PruningSchedule):
    """Sparsity rising from ``initial_sparsity`` to ``final_sparsity`` (Zhu & Gupta, 2017):

        s(step) = final + (initial - final) * (1 - p)^power,
        p = clip((step - begin_step) / (end_step - begin_step), 0, 1)
    """

    def __init__(self, initial_sparsity, final_sparsity, begin_step, end_step, power=3, frequency=100):
        self._validate_sparsity("initial_sparsity", initial_sparsity)
        self._validate_sparsity("final_sparsity", final_sparsity)
        self._validate(begin_step, end_step, frequency, allow_open_end=False)
        self.initial_sparsity, self.final_sparsity = float(initial_sparsity), float(final_sparsity)
        self.begin_step, self.end_step = int(begin_step), int(end_step)
        self.power, self.frequency = power, int(frequency)

    def __call__(self, step):
        step = ops.convert_to_tensor(step, "int32")
        span = max(self.end_step - self.begin_step, 1)
        p = ops.clip(ops.cast(step - self.begin_step, "float32") / span, 0.0, 1.0)
        sparsity = (self.initial_sparsity - self.final_sparsity) * ops.power(1.0 - p, self.power) \
            + self.final_sparsity
        return self._should_prune(step), sparsity

    def get_config(self):
        return {"initial_sparsity": self.initial_sparsity, "final_sparsity": self.final_sparsity,
                "begin_step": self.begin_step, "end_step": self.end_step, "power": self.power,
                "frequency": self.frequency}


_OWN = {"ConstantSparsity": ConstantSparsity, "PolynomialDecay": PolynomialDecay}


def get(schedule):
    """Accept our schedules, tfmot's (converted through their config) or any callable."""
    if isinstance(schedule, PruningSchedule):
        return schedule
    if isinstance(schedule, dict):
        return keras.saving.deserialize_keras_object(schedule)
    name = type(schedule).__name__
    if name in _OWN and type(schedule).__module__.startswith("tensorflow_model_optimization"):
        config = dict(schedule.get_config()["config"])
        return _OWN[name](**config)
    if callable(schedule):
        return schedule  # a user's schedule: must be callable inside the training step
    raise ValueError(
        f"Argument `pruning_schedule` must be a PruningSchedule (e.g. PolynomialDecay) or a "
        f"callable step -> (should_prune, sparsity); got {schedule!r}."
    )

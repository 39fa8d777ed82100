"""EGRU: `keras.layers.RNN(EGRUCell(...))` with event-rate control (the activity penalty,
its adaptation and warm-up); the cell itself is in `keras_events.cells.egru`.

Subramoney, Nazeer, Schöne, Mayr & Kappel, "Efficient recurrent architectures
through activity sparsity and sparse back-propagation through time", ICLR 2023.
"""

import keras
from keras import ops

from keras_events.cells.egru import EGRUCell, _check_rate


@keras.saving.register_keras_serializable(package="keras_events")
class EGRU(keras.layers.RNN):
    """Event-based GRU layer: `keras.layers.RNN(EGRUCell(...))` plus activity control.

    Besides the `EGRUCell` arguments and the usual `keras.layers.RNN` ones, it can
    add an activity penalty that pushes the event rate down to a target:

        loss += λ * max(0, mean(e) - target_event_rate)

    where ``mean(e)`` is the fraction of (unit, step) pairs with an event in the
    batch. The penalty is differentiable through the surrogate gradient. (A bare
    `EGRUCell` in `keras.layers.RNN` cannot do this: losses created inside the
    backend's time loop cannot leave it, so the layer collects the events.)

    With ``activity_adapt_rate`` η > 0 the weight λ adapts (a Lagrange multiplier
    updated by dual ascent, as in constrained optimisation of a rate budget): after
    every training batch ``λ ← clip(λ + η · (mean(e) - target_event_rate), 0, λ_max)``,
    starting from ``activity_regularization``. λ then grows only while the rate is above
    the target and falls back when it is below, so the loss is not taxed once the budget
    is met, and a fixed λ need not be tuned per dataset. λ is a non-trainable weight
    (``activity_weight``), saved with the model. With ``activity_warmup_steps`` W > 0
    the penalty (fixed or adapted) is multiplied by ``min(1, step / W)``, ``step``
    counting training batches (``activity_step``, non-trainable); λ adapts only after
    the warm-up.

    Args:
        units: Positive integer, number of units.
        activity_regularization: Weight λ of the event-rate penalty (0 disables it,
            unless ``activity_adapt_rate`` > 0: then the initial λ).
        target_event_rate: Event rate below which there is no penalty, in [0, 1).
        activity_adapt_rate: Dual-ascent step η of λ per batch (0: λ fixed).
        activity_weight_max: Upper bound λ_max of the adapted λ.
        activity_warmup_steps: Training batches over which the penalty is ramped in
            linearly from 0 (0: full penalty from the first batch). Without a penalty an
            EGRU learns faster in its first epochs (docs/recipes/kws-accuracy.md); the
            warm-up lets it find useful units before the rate budget applies.
        return_sequences, return_state, go_backwards, stateful, unroll: As in
            `keras.layers.RNN`.
        **kwargs: `EGRUCell` arguments (``threshold_init``, ``surrogate``,
            initializers, regularizers, constraints, dropout...) and layer
            arguments (``name``, ``dtype``).

    Example:

    >>> import numpy as np
    >>> from keras_events import EGRU
    >>> layer = EGRU(16, return_sequences=True, activity_regularization=0.3)
    >>> tuple(layer(np.zeros((2, 7, 4), "float32")).shape)
    (2, 7, 16)
    """

    _CELL_ARGS = (
        "threshold_init", "surrogate", "activation", "recurrent_activation", "use_bias",
        "kernel_initializer", "recurrent_initializer", "bias_initializer",
        "kernel_regularizer", "recurrent_regularizer", "bias_regularizer",
        "kernel_constraint", "recurrent_constraint", "bias_constraint",
        "dropout", "recurrent_dropout", "seed",
    )

    def __init__(
        self,
        units,
        activity_regularization=0.0,
        target_event_rate=0.0,
        activity_adapt_rate=0.0,
        activity_weight_max=10.0,
        activity_warmup_steps=0,
        return_sequences=False,
        return_state=False,
        go_backwards=False,
        stateful=False,
        unroll=False,
        **kwargs,
    ):
        cell_kwargs = {k: kwargs.pop(k) for k in self._CELL_ARGS if k in kwargs}
        cell = EGRUCell(units, dtype=kwargs.get("dtype"), trainable=kwargs.get("trainable", True),
                        name="egru_cell", **cell_kwargs)
        super().__init__(
            cell,
            return_sequences=return_sequences,
            return_state=return_state,
            go_backwards=go_backwards,
            stateful=stateful,
            unroll=unroll,
            **kwargs,
        )
        if float(activity_regularization) < 0:
            raise ValueError(
                f"Argument `activity_regularization` must be >= 0, got {activity_regularization}."
            )
        self.activity_regularization = float(activity_regularization)
        self.target_event_rate = _check_rate("target_event_rate", target_event_rate)
        if float(activity_adapt_rate) < 0 or float(activity_weight_max) <= 0:
            raise ValueError(
                f"Arguments `activity_adapt_rate` (got {activity_adapt_rate}) must be >= 0 and "
                f"`activity_weight_max` (got {activity_weight_max}) > 0."
            )
        self.activity_adapt_rate = float(activity_adapt_rate)
        self.activity_weight_max = float(activity_weight_max)
        if isinstance(activity_warmup_steps, bool) or int(activity_warmup_steps) != activity_warmup_steps \
                or activity_warmup_steps < 0:
            raise ValueError(f"Argument `activity_warmup_steps` must be an integer >= 0, got "
                             f"{activity_warmup_steps!r}.")
        self.activity_warmup_steps = int(activity_warmup_steps)

    def build(self, sequences_shape, initial_state_shape=None):
        if len(sequences_shape) != 3:
            raise ValueError(
                f"EGRU expects `inputs` of shape (batch, timesteps, features), got "
                f"{tuple(sequences_shape)}."
            )
        super().build(sequences_shape, initial_state_shape)
        if self.activity_adapt_rate > 0.0:
            self.activity_weight = self.add_weight(
                shape=(), name="activity_weight", trainable=False,
                initializer=keras.initializers.Constant(self.activity_regularization))
        if self.activity_warmup_steps > 0:
            self.activity_step = self.add_weight(
                shape=(), name="activity_step", trainable=False, initializer="zeros")

    @property
    def _penalized(self):
        return self.activity_regularization > 0.0 or self.activity_adapt_rate > 0.0

    def inner_loop(self, sequences, initial_state, mask, training=False):
        if not (training and self._penalized):
            return super().inner_loop(sequences, initial_state, mask, training=training)
        # Count the events e (with their surrogate gradient) in an extra state; the
        # rate is the count over batch, steps and units.
        initial_state = list(initial_state) if isinstance(initial_state, (list, tuple)) else [initial_state]
        self.cell._emit_events = True
        try:
            last, outputs, states = super().inner_loop(
                sequences, initial_state + [ops.zeros_like(initial_state[0])], mask, training=training)
        finally:
            self.cell._emit_events = False
        counts = states[-1]
        steps = ops.cast(ops.shape(sequences)[1], counts.dtype)
        rate = ops.mean(counts) / steps
        excess = rate - self.target_event_rate
        ramp = 1.0
        if self.activity_warmup_steps > 0:
            step = ops.cast(self.activity_step, rate.dtype)
            ramp = ops.minimum(1.0, step / self.activity_warmup_steps)
            self.activity_step.assign(self.activity_step + 1.0)
        if self.activity_adapt_rate > 0.0:
            weight = ops.cast(self.activity_weight, rate.dtype)
            step_size = self.activity_adapt_rate
            if self.activity_warmup_steps > 0:  # λ adapts only once the warm-up is over
                step_size = step_size * ops.cast(ramp >= 1.0, rate.dtype)
            # Dual ascent on λ (no gradient through the update).
            self.activity_weight.assign(ops.clip(
                weight + step_size * ops.stop_gradient(excess), 0.0, self.activity_weight_max))
        else:
            weight = self.activity_regularization
        self.add_loss(ramp * weight * ops.relu(excess))
        return last, outputs, list(states[:-1])

    @property
    def units(self):
        return self.cell.units

    @property
    def threshold(self):
        return self.cell.threshold

    def get_config(self):
        config = super().get_config()
        del config["cell"]
        cell_config = self.cell.get_config()
        config.update({k: cell_config[k] for k in self._CELL_ARGS})
        config.update(
            units=self.units,
            activity_regularization=self.activity_regularization,
            target_event_rate=self.target_event_rate,
            activity_adapt_rate=self.activity_adapt_rate,
            activity_weight_max=self.activity_weight_max,
            activity_warmup_steps=self.activity_warmup_steps,
        )
        return config

    @classmethod
    def from_config(cls, config):
        return cls(**config)

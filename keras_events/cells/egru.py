"""EGRU: the event-based gated recurrent unit.

Subramoney, Nazeer, Schöne, Mayr & Kappel, "Efficient recurrent architectures
through activity sparsity and sparse back-propagation through time", ICLR 2023.
"""

import math

import keras
from keras import ops
from keras.src.layers.rnn.dropout_rnn_cell import DropoutRNNCell  # see EGRUCell note

from keras_events import surrogates


def _check_rate(name, value):
    value = float(value)
    if not 0.0 <= value < 1.0:
        raise ValueError(f"Argument `{name}` must be in [0, 1), got {value}.")
    return value


@keras.saving.register_keras_serializable(package="keras_events")
class EGRUCell(DropoutRNNCell, keras.layers.Layer):
    """Cell class for the EGRU layer: a GRU whose units communicate by events.

    One step (Subramoney et al. 2023, eqs. 1-5; reset applied after the matmul as
    in `keras.layers.GRUCell(reset_after=True)`), with ``ĉ`` the state after reset:

        a = x_t W + b_in            g = y_{t-1} V + b_rec       (gates [u | r | z])
        u = σ(a_u + g_u)            r = σ(a_r + g_r)
        z = tanh(a_z + r ⊙ g_z)
        c = u ⊙ z + (1 - u) ⊙ ĉ_{t-1}
        e = H(c - ϑ)                y_t = c ⊙ e                 (output: 0 unless event)
        ĉ_t = c - e ⊙ ϑ                                         (reset by subtraction)

    ``H`` is the Heaviside step; its gradient is replaced by the ``surrogate``
    pseudo-derivative ψ(c - ϑ). Because ∂y/∂c = e + c·ψ(c - ϑ), gradients flow back
    through a unit only when it emitted an event or is near its threshold: with a
    compact ψ (``"triangle"``) back-propagation through time is sparse.

    ``y_{t-1}`` is zero for silent units, so ``y_{t-1} V`` only needs the rows of
    active units -- the event-driven kernels in ``custom_ops/core/`` exploit this.
    Thresholds are per unit, trainable and kept in (0, 1) by the parametrisation
    ``ϑ = sigmoid(threshold_param)`` (as in EvNN); biases start from U(0, 1) as in
    the paper's reference code. States are ``[y, ĉ]`` (the output first, as Keras'
    masking assumes).

    The cell subclasses Keras' `DropoutRNNCell` mix-in (not public API) because
    `keras.layers.RNN` resets dropout masks only for cells of that type.

    Args:
        units: Positive integer, number of units.
        threshold_init: Initial threshold ϑ of every unit, in (0, 1). Default 0.1: on
            the keyword study's hardest protocol (docs/recipes/kws-accuracy.md) an EGRU
            started at 0.1 learned faster than at 0.3 from the first epochs on and, with
            the same event-rate target, ended 10-18 points higher. A low threshold keeps
            the reset ``c − ϑ`` small, so an event disturbs the unit's memory less, and
            ``y`` passes a wider range of states; the event-rate penalty still sets how
            often units fire.
        surrogate: Pseudo-derivative of the step: a name from
            `keras_events.surrogates.names()`, a config dict or a `Surrogate`.
            Default ``"triangle"`` (height 0.7, width 1.0).
        activation: Candidate activation (default ``"tanh"``).
        recurrent_activation: Gate activation (default ``"sigmoid"``).
        use_bias: Whether the cell uses the input and recurrent biases.
        kernel_initializer, recurrent_initializer, bias_initializer: Initializers
            for ``kernel`` (I, 3U), ``recurrent_kernel`` (U, 3U), ``bias`` (2, 3U).
        kernel_regularizer, recurrent_regularizer, bias_regularizer: Regularizers.
        kernel_constraint, recurrent_constraint, bias_constraint: Constraints.
        dropout: Fraction of the inputs to drop, in [0, 1).
        recurrent_dropout: Fraction of the recurrent outputs ``y`` to drop.
        seed: Random seed for dropout.

    Call arguments:
        inputs: A 2D tensor (batch, features).
        states: ``[y, ĉ]``, each (batch, units).
        training: Python boolean, whether dropout is applied.

    Example:

    >>> import numpy as np, keras
    >>> from keras_events import EGRUCell
    >>> rnn = keras.layers.RNN(EGRUCell(8), return_sequences=True)
    >>> y = rnn(np.random.rand(2, 5, 3).astype("float32"))
    >>> tuple(y.shape)
    (2, 5, 8)
    """

    def __init__(
        self,
        units,
        threshold_init=0.1,
        surrogate="triangle",
        activation="tanh",
        recurrent_activation="sigmoid",
        use_bias=True,
        kernel_initializer="glorot_uniform",
        recurrent_initializer="orthogonal",
        bias_initializer=None,
        kernel_regularizer=None,
        recurrent_regularizer=None,
        bias_regularizer=None,
        kernel_constraint=None,
        recurrent_constraint=None,
        bias_constraint=None,
        dropout=0.0,
        recurrent_dropout=0.0,
        seed=None,
        **kwargs,
    ):
        if not isinstance(units, int) or isinstance(units, bool) or units <= 0:
            raise ValueError(f"Argument `units` must be a positive integer, got {units!r}.")
        threshold_init = float(threshold_init)
        if not 0.0 < threshold_init < 1.0:
            raise ValueError(
                f"Argument `threshold_init` must be in (0, 1) (thresholds are sigmoid-"
                f"parametrised and positive), got {threshold_init}."
            )
        super().__init__(**kwargs)
        self.units = units
        self.threshold_init = threshold_init
        self.surrogate = surrogates.get(surrogate)
        self.activation = keras.activations.get(activation)
        self.recurrent_activation = keras.activations.get(recurrent_activation)
        self.use_bias = use_bias
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.recurrent_initializer = keras.initializers.get(recurrent_initializer)
        self.bias_initializer = keras.initializers.get(
            bias_initializer or keras.initializers.RandomUniform(0.0, 1.0, seed=seed)
        )
        self.kernel_regularizer = keras.regularizers.get(kernel_regularizer)
        self.recurrent_regularizer = keras.regularizers.get(recurrent_regularizer)
        self.bias_regularizer = keras.regularizers.get(bias_regularizer)
        self.kernel_constraint = keras.constraints.get(kernel_constraint)
        self.recurrent_constraint = keras.constraints.get(recurrent_constraint)
        self.bias_constraint = keras.constraints.get(bias_constraint)
        self.dropout = _check_rate("dropout", dropout)
        self.recurrent_dropout = _check_rate("recurrent_dropout", recurrent_dropout)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed=seed)
        self.state_size = [units, units]
        self.output_size = units
        # Set by `EGRU` when it needs the event rate (activity regularization): the
        # step then takes and returns a third state, the running count Σ_t e_t per
        # unit (one add per step instead of a second output sequence).
        self._emit_events = False

    def build(self, input_shape):
        if len(input_shape) != 2:
            raise ValueError(
                f"EGRUCell expects step inputs of shape (batch, features), got `inputs` of shape "
                f"{tuple(input_shape)}. Wrap the cell in keras.layers.RNN for (batch, time, features)."
            )
        input_dim = input_shape[-1]
        if input_dim is None:
            raise ValueError("EGRUCell needs a known feature dimension: `inputs` has shape (batch, None).")
        self.kernel = self.add_weight(
            shape=(input_dim, 3 * self.units),
            name="kernel",
            initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint,
        )
        self.recurrent_kernel = self.add_weight(
            shape=(self.units, 3 * self.units),
            name="recurrent_kernel",
            initializer=self.recurrent_initializer,
            regularizer=self.recurrent_regularizer,
            constraint=self.recurrent_constraint,
        )
        if self.use_bias:
            self.bias = self.add_weight(
                shape=(2, 3 * self.units),
                name="bias",
                initializer=self.bias_initializer,
                regularizer=self.bias_regularizer,
                constraint=self.bias_constraint,
            )
        else:
            self.bias = None
        logit = math.log(self.threshold_init / (1.0 - self.threshold_init))
        self.threshold_param = self.add_weight(
            shape=(self.units,),
            name="threshold_param",
            initializer=keras.initializers.Constant(logit),
        )

    @property
    def threshold(self):
        """The per-unit thresholds ϑ = sigmoid(threshold_param), in (0, 1)."""
        return ops.sigmoid(self.threshold_param)

    def get_prunable_weights(self):
        """`keras_events.sparsity.PrunableLayer` interface: both kernels, never biases/thresholds."""
        return [self.kernel, self.recurrent_kernel]

    def call(self, inputs, states, training=False):
        y_prev, c_prev = states[0], states[1]
        if training and self.dropout > 0.0:
            inputs = inputs * self.get_dropout_mask(inputs)
        if training and self.recurrent_dropout > 0.0:
            y_prev = y_prev * self.get_recurrent_dropout_mask(y_prev)

        a = ops.matmul(inputs, self.kernel)
        g = ops.matmul(y_prev, self.recurrent_kernel)
        if self.use_bias:
            a = a + self.bias[0]
            g = g + self.bias[1]
        a_u, a_r, a_z = ops.split(a, 3, axis=-1)
        g_u, g_r, g_z = ops.split(g, 3, axis=-1)
        u = self.recurrent_activation(a_u + g_u)
        r = self.recurrent_activation(a_r + g_r)
        z = self.activation(a_z + r * g_z)
        c = u * z + (1.0 - u) * c_prev

        threshold = ops.cast(self.threshold, c.dtype)
        e = self.surrogate(c - threshold)
        y = c * e
        c_next = c - e * threshold
        if self._emit_events:
            return y, [y, c_next, states[2] + e]
        return y, [y, c_next]

    def get_initial_state(self, batch_size=None):
        zeros = ops.zeros((batch_size, self.units), dtype=self.compute_dtype)
        return [zeros, ops.zeros_like(zeros)]

    def get_config(self):
        config = {
            "units": self.units,
            "threshold_init": self.threshold_init,
            "surrogate": surrogates.serialize(self.surrogate),
            "activation": keras.activations.serialize(self.activation),
            "recurrent_activation": keras.activations.serialize(self.recurrent_activation),
            "use_bias": self.use_bias,
            "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
            "recurrent_initializer": keras.initializers.serialize(self.recurrent_initializer),
            "bias_initializer": keras.initializers.serialize(self.bias_initializer),
            "kernel_regularizer": keras.regularizers.serialize(self.kernel_regularizer),
            "recurrent_regularizer": keras.regularizers.serialize(self.recurrent_regularizer),
            "bias_regularizer": keras.regularizers.serialize(self.bias_regularizer),
            "kernel_constraint": keras.constraints.serialize(self.kernel_constraint),
            "recurrent_constraint": keras.constraints.serialize(self.recurrent_constraint),
            "bias_constraint": keras.constraints.serialize(self.bias_constraint),
            "dropout": self.dropout,
            "recurrent_dropout": self.recurrent_dropout,
            "seed": self.seed,
        }
        return {**super().get_config(), **config}

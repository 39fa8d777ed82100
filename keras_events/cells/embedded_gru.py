"""eGRU: the embedded gated recurrent unit for Cortex-M0 class microcontrollers.

Amoh & Odame, "An Optimized Recurrent Unit for Ultra-Low-Power Keyword Spotting",
Proc. ACM Interact. Mob. Wearable Ubiquitous Technol. 3(2), 2019.
"""

import keras
from keras import ops
from keras.src.layers.rnn.dropout_rnn_cell import DropoutRNNCell  # as EGRUCell

#: Largest and smallest non-zero weight magnitude of the power-of-two code: 2^0 ... 2^-6
#: (3 exponent bits: 0 = zero weight, 1..7 = 2^-(e-1); one sign bit).
MAX_EXPONENT = 0
MIN_EXPONENT = -6


def _check_rate(name, value):
    value = float(value)
    if not 0.0 <= value < 1.0:
        raise ValueError(f"Argument `{name}` must be in [0, 1), got {value}.")
    return value


def softsign(v):
    """``v / (1 + |v|)`` (the eGRU's only nonlinearity: no exponential, bounded in (-1, 1))."""
    return v / (1.0 + ops.abs(v))


def power_of_two(w):
    """`w` rounded to the eGRU weight code: ``sign(w) 2^round(log2|w|)`` with the exponent
    clipped to [-6, 0]; magnitudes whose rounded exponent is below -6 become 0.

    Rounding is in the log domain (nearest exponent), as power-of-two quantizers usually
    are; the NumPy twin used by the export is `keras_events.ops.egru_emb.power_of_two`.
    """
    magnitude = ops.abs(w)
    exponent = ops.round(ops.log2(ops.maximum(magnitude, 1e-30)))
    keep = ops.cast(exponent >= MIN_EXPONENT, w.dtype)
    exponent = ops.clip(exponent, MIN_EXPONENT, MAX_EXPONENT)
    return ops.sign(w) * ops.power(ops.cast(2.0, w.dtype), exponent) * keep


def power_of_two_ste(w):
    """`power_of_two` forward, identity gradient (straight-through estimator)."""
    return w + ops.stop_gradient(power_of_two(w) - w)


@keras.saving.register_keras_serializable(package="keras_events")
class EmbeddedGRUCell(DropoutRNNCell, keras.layers.Layer):
    """Cell of the embedded GRU (eGRU): one softsign gate, no reset gate, power-of-two
    weights, made for Q15 integer kernels on cores without FPU or fast multiplier.

    One step (Amoh & Odame 2019, the eGRU equations; ``s(v) = v / (1 + |v|)``):

        z   = (s(x W_z + h_{t-1} U_z + b_z) + 1) / 2           update gate, in (0, 1)
        h~  = s(x W_h + h_{t-1} U_h + b_h)                     candidate, in (-1, 1)
        h_t = z ⊙ h_{t-1} + (1 - z) ⊙ h~

    ``z`` weights the previous state, as in `keras.layers.GRUCell` (the paper writes the
    same interpolation; with the opposite labelling the learned gate simply flips).
    ``kernel`` is (I, 2U) and ``recurrent_kernel`` (U, 2U) with columns ``[z | h~]``,
    ``bias`` (2U,).

    With ``quantize=True`` the forward pass uses the weights rounded to signed powers of
    two (`power_of_two`: 0 or ±2^-k, k = 0..6, a 4-bit shift code) and the backward pass
    treats the rounding as the identity (straight-through estimator), so training adapts
    the float "shadow" weights to the code: quantization-aware training. The usual recipe
    is to train with ``quantize=False``, then switch it on
    (``cell.quantize = True``, or rebuild from a config) for a few fine-tuning epochs.
    The exported Q15 kernel (`KE_EGRU_EMB`) always uses the code; inputs are Q15 there,
    so scale the layer's inputs to [-1, 1] (values beyond saturate).

    Args:
        units: Positive integer, number of units.
        quantize: Use power-of-two weights in the forward pass (QAT with STE).
        use_bias: Whether the cell has a bias.
        kernel_initializer, recurrent_initializer, bias_initializer: Initializers for
            ``kernel``, ``recurrent_kernel``, ``bias``.
        kernel_regularizer, recurrent_regularizer, bias_regularizer: Regularizers.
        kernel_constraint, recurrent_constraint, bias_constraint: Constraints.
        dropout: Fraction of the inputs to drop, in [0, 1).
        recurrent_dropout: Fraction of the recurrent state to drop, in [0, 1).
        seed: Random seed for dropout.

    Call arguments:
        inputs: A 2D tensor (batch, features).
        states: ``[h]``, (batch, units).
        training: Python boolean, whether dropout is applied.

    Example:

    >>> import numpy as np, keras
    >>> from keras_events import EmbeddedGRUCell
    >>> rnn = keras.layers.RNN(EmbeddedGRUCell(8, quantize=True), return_sequences=True)
    >>> y = rnn(np.random.uniform(-1, 1, (2, 5, 3)).astype("float32"))
    >>> tuple(y.shape)
    (2, 5, 8)
    """

    def __init__(
        self,
        units,
        quantize=False,
        use_bias=True,
        kernel_initializer="glorot_uniform",
        recurrent_initializer="orthogonal",
        bias_initializer="zeros",
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
        if not isinstance(quantize, bool):
            raise ValueError(f"Argument `quantize` must be True or False, got {quantize!r}.")
        super().__init__(**kwargs)
        self.units = units
        self.quantize = quantize
        self.use_bias = use_bias
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.recurrent_initializer = keras.initializers.get(recurrent_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)
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
        self.state_size = units
        self.output_size = units

    def build(self, input_shape):
        if len(input_shape) != 2 or input_shape[-1] is None:
            raise ValueError(
                f"EmbeddedGRUCell expects step inputs of shape (batch, features) with a known "
                f"feature dimension, got {tuple(input_shape)}. Wrap the cell in "
                f"keras.layers.RNN for (batch, time, features).")
        self.kernel = self.add_weight(
            shape=(input_shape[-1], 2 * self.units), name="kernel",
            initializer=self.kernel_initializer, regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint)
        self.recurrent_kernel = self.add_weight(
            shape=(self.units, 2 * self.units), name="recurrent_kernel",
            initializer=self.recurrent_initializer, regularizer=self.recurrent_regularizer,
            constraint=self.recurrent_constraint)
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight(
                shape=(2 * self.units,), name="bias", initializer=self.bias_initializer,
                regularizer=self.bias_regularizer, constraint=self.bias_constraint)

    def get_prunable_weights(self):
        """`keras_events.sparsity.PrunableLayer` interface: both kernels (a pruned weight is
        the zero code), never the bias."""
        return [self.kernel, self.recurrent_kernel]

    def effective_weights(self):
        """``(kernel, recurrent_kernel)`` as the forward pass uses them (power-of-two when
        ``quantize``)."""
        if self.quantize:
            return power_of_two_ste(self.kernel), power_of_two_ste(self.recurrent_kernel)
        return self.kernel, self.recurrent_kernel

    def call(self, inputs, states, training=False):
        h_prev = states[0] if isinstance(states, (list, tuple)) else states
        x, h_in = inputs, h_prev
        if training and self.dropout > 0.0:
            x = x * self.get_dropout_mask(x)
        if training and self.recurrent_dropout > 0.0:
            h_in = h_in * self.get_recurrent_dropout_mask(h_in)
        kernel, recurrent_kernel = self.effective_weights()
        a = ops.matmul(x, ops.cast(kernel, x.dtype)) + ops.matmul(
            h_in, ops.cast(recurrent_kernel, x.dtype))
        if self.use_bias:
            a = a + ops.cast(self.bias, x.dtype)
        a_z, a_h = ops.split(a, 2, axis=-1)
        z = 0.5 * (softsign(a_z) + 1.0)
        h = z * h_prev + (1.0 - z) * softsign(a_h)
        return h, [h]

    def get_initial_state(self, batch_size=None):
        return [ops.zeros((batch_size, self.units), dtype=self.compute_dtype)]

    def get_config(self):
        s = keras.initializers.serialize
        r = keras.regularizers.serialize
        c = keras.constraints.serialize
        config = {
            "units": self.units,
            "quantize": self.quantize,
            "use_bias": self.use_bias,
            "kernel_initializer": s(self.kernel_initializer),
            "recurrent_initializer": s(self.recurrent_initializer),
            "bias_initializer": s(self.bias_initializer),
            "kernel_regularizer": r(self.kernel_regularizer),
            "recurrent_regularizer": r(self.recurrent_regularizer),
            "bias_regularizer": r(self.bias_regularizer),
            "kernel_constraint": c(self.kernel_constraint),
            "recurrent_constraint": c(self.recurrent_constraint),
            "bias_constraint": c(self.bias_constraint),
            "dropout": self.dropout,
            "recurrent_dropout": self.recurrent_dropout,
            "seed": self.seed,
        }
        return {**super().get_config(), **config}

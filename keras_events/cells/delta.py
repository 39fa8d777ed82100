"""Delta encoding shared by `DeltaGRUCell` and `DeltaLSTMCell`, and their common base.

Delta networks (Neil, Lee, Delbruck & Liu, "Delta Networks for Optimized Recurrent
Network Computation", ICML 2017; Gao, Neil, Ceolini, Liu & Delbruck, "EdgeDRNN",
IEEE JETCAS 2020): a vector ``v`` (the step input, or the previous hidden state) is
compared with its last *transmitted* value ``v̂``; only components whose change
exceeds a threshold θ are sent:

    Δ = v - v̂;   s = |Δ| > θ   (strict: with θ = 0 every changed component is sent)
    d = s ⊙ Δ;   v̂' = v̂ + d    (= v where sent, else v̂)

Matrix products of ``d`` need only the weight rows of sent components; accumulating
them in a "delta memory" ``m' = m + d W`` keeps ``m = v̂ W``, so with θ = 0 a delta
cell computes exactly the dense cell (up to float rounding of the accumulation).

Gradients (Chen, Wu, Ye, Neil, Delbruck & Liu, "Exploiting Symmetric Temporally
Sparse BPTT for Efficient RNN Training", AAAI 2024 / arXiv 2023): the send mask ``s``
is treated as a constant in the backward pass (straight-through). Then ``∂d/∂v = s``:
a component not sent in the forward pass receives no gradient through ``d`` in the
backward pass, and ``∂L/∂W = Σ_t d_tᵀ ∂L/∂m_t`` only involves the rows of sent
components -- the backward pass skips the same columns as the forward pass
("symmetric" temporally sparse BPTT). With ``surrogate`` set, ``s`` is the Heaviside
step of ``|Δ| - θ`` with that pseudo-derivative, which adds the term ``|Δ| ψ(|Δ| - θ)``
for components near the threshold (sent or not): the backward pass is then no longer
symmetric.
"""

import sys

import keras
import numpy as np
from keras import ops
from keras.src.layers.rnn.dropout_rnn_cell import DropoutRNNCell  # as EGRUCell: RNN resets its masks

from keras_events import surrogates


def delta_encode(v, v_hat, threshold, surrogate=None):
    """One delta encoding step of ``v`` against its last transmitted value ``v_hat``.

    Returns ``(d, v_hat_next, sent)``: the sent changes ``s ⊙ (v - v̂)``, the new
    transmitted value (exactly ``v`` where sent: computed as ``s·v + (1-s)·v̂``, not
    ``v̂ + d``, so no rounding accumulates in ``v̂``) and the send mask ``s`` (0/1 in the
    dtype of ``v``). ``surrogate``: None for straight-through (the mask is a constant in
    the backward pass), else a `keras_events.surrogates.Surrogate` for the step
    ``H(|Δ| - θ)``.
    """
    change = v - v_hat
    if surrogate is None:
        sent = ops.stop_gradient(ops.cast(ops.greater(ops.abs(change), threshold), v.dtype))
    else:
        sent = surrogate(ops.abs(change) - ops.cast(threshold, v.dtype))
    return sent * change, sent * v + (1.0 - sent) * v_hat, sent


def _check_threshold(name, value):
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"Argument `{name}` must be a non-negative float, got {value!r}.") from None
    if not 0.0 <= value < float("inf"):
        raise ValueError(f"Argument `{name}` must be a non-negative finite float, got {value}.")
    return value


def _check_rate(name, value):
    value = float(value)
    if not 0.0 <= value < 1.0:
        raise ValueError(f"Argument `{name}` must be in [0, 1), got {value}.")
    return value


def _refresh_enclosing_rnn(cell, depth=8):
    """Give the `keras.layers.RNN` that is building ``cell`` the cell's final state sizes.

    The x̂ state has the input's size, known only when the cell is built, but
    `keras.layers.RNN` copies ``cell.state_size`` when it is constructed and uses that
    copy for its symbolic state shapes (``return_state`` in a functional model). The RNN
    builds its cell (directly or through `StackedRNNCells`) in its own ``build``, so the
    RNN is the ``self`` of a calling frame: refresh its copy there. No-op otherwise.
    """
    frame = sys._getframe(1)
    for _ in range(depth):
        frame = frame.f_back
        if frame is None:
            return
        owner = frame.f_locals.get("self")
        if isinstance(owner, keras.layers.RNN):
            inner = owner.cell
            if inner is cell or cell in getattr(inner, "cells", ()):
                sizes = inner.state_size
                owner.state_size = [sizes] if isinstance(sizes, int) else list(sizes)
            return


class DeltaCellBase(DropoutRNNCell, keras.layers.Layer):
    """Arguments, weights, config and delta encoding shared by the two delta cells.

    Subclasses set ``GATES`` (3 for the GRU, 4 for the LSTM), build their bias and
    implement ``call`` and ``state_size``.
    """

    GATES = None
    # Positions of h, x̂ and ĥ in the state list (set by each cell).
    STATE_INDEX = None

    def __init__(
        self,
        units,
        input_threshold=0.0,
        hidden_threshold=0.0,
        activation="tanh",
        recurrent_activation="sigmoid",
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
        surrogate=None,
        seed=None,
        **kwargs,
    ):
        if not isinstance(units, int) or isinstance(units, bool) or units <= 0:
            raise ValueError(f"Argument `units` must be a positive integer, got {units!r}.")
        self.input_threshold = _check_threshold("input_threshold", input_threshold)
        self.hidden_threshold = _check_threshold("hidden_threshold", hidden_threshold)
        self.surrogate = None if surrogate is None else surrogates.get(surrogate)
        super().__init__(**kwargs)
        self.units = units
        self.activation = keras.activations.get(activation)
        self.recurrent_activation = keras.activations.get(recurrent_activation)
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
        self.output_size = units
        self.input_dim = None

    def build(self, input_shape):
        name = type(self).__name__
        if len(input_shape) != 2:
            raise ValueError(
                f"{name} expects step inputs of shape (batch, features), got `inputs` of shape "
                f"{tuple(input_shape)}. Wrap the cell in keras.layers.RNN for (batch, time, features)."
            )
        if input_shape[-1] is None:
            raise ValueError(f"{name} needs a known feature dimension: `inputs` has shape (batch, None).")
        self.input_dim = int(input_shape[-1])
        columns = self.GATES * self.units
        self.kernel = self.add_weight(
            shape=(self.input_dim, columns), name="kernel", initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer, constraint=self.kernel_constraint)
        self.recurrent_kernel = self.add_weight(
            shape=(self.units, columns), name="recurrent_kernel", initializer=self.recurrent_initializer,
            regularizer=self.recurrent_regularizer, constraint=self.recurrent_constraint)
        self.bias = self._build_bias() if self.use_bias else None
        _refresh_enclosing_rnn(self)

    def _add_bias(self, shape, initializer):
        return self.add_weight(shape=shape, name="bias", initializer=initializer,
                               regularizer=self.bias_regularizer, constraint=self.bias_constraint)

    def get_prunable_weights(self):
        """`keras_events.sparsity.PrunableLayer` interface: both kernels, never the bias."""
        return [self.kernel, self.recurrent_kernel]

    def _encode_inputs(self, inputs, h, x_hat, h_hat, training):
        """Dropout (one mask per sequence, as Keras' cells), then delta-encode x and h."""
        if training and self.dropout > 0.0:
            inputs = inputs * self.get_dropout_mask(inputs)
        if training and self.recurrent_dropout > 0.0:
            h = h * self.get_recurrent_dropout_mask(h)
        dx, x_hat, _ = delta_encode(inputs, x_hat, self.input_threshold, self.surrogate)
        dh, h_hat, _ = delta_encode(h, h_hat, self.hidden_threshold, self.surrogate)
        return dx, x_hat, dh, h_hat

    def send_masks(self, inputs, states):
        """The components a step with ``inputs`` and ``states`` sends (inference, NumPy bool):
        ``(input mask (batch, input_dim), hidden mask (batch, units))``. For
        `keras_events.activity_report`; the step itself computes them in ``call``."""
        h, x_hat, h_hat = (ops.convert_to_numpy(states[k]) for k in self.STATE_INDEX)
        x = ops.convert_to_numpy(inputs)
        return np.abs(x - x_hat) > self.input_threshold, np.abs(h - h_hat) > self.hidden_threshold

    def _zeros(self, batch_size, size):
        return ops.zeros((batch_size, size), dtype=self.compute_dtype)

    def get_initial_state(self, batch_size=None):
        return [self._zeros(batch_size, size) for size in self.state_size]

    def get_config(self):
        config = {
            "units": self.units,
            "input_threshold": self.input_threshold,
            "hidden_threshold": self.hidden_threshold,
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
            "surrogate": None if self.surrogate is None else surrogates.serialize(self.surrogate),
            "seed": self.seed,
        }
        return {**super().get_config(), **config}

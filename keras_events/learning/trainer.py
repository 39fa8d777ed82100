"""`OnlineTrainer`: train a recurrent Keras model one time step at a time."""

import keras
import numpy as np
from keras import ops

from keras_events.learning import cost
from keras_events.learning._autodiff import value_and_grad
from keras_events.learning._compile import compile_step
from keras_events.learning.cells import CellMath
from keras_events.learning.delta import DeltaInfluence
from keras_events.learning.influence import Influence, bucket, snap_order


def _unwrap(layer):
    """(recurrent layer, its pruning wrapper or None)."""
    inner = getattr(layer, "layer", None)
    if inner is not None and hasattr(layer, "masks") and hasattr(layer, "pruned_weights"):
        return inner, layer
    return layer, None


def _split_model(model):
    layers = [layer for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)]
    for position, layer in enumerate(layers):
        inner, wrapper = _unwrap(layer)
        if isinstance(inner, keras.layers.RNN):
            if position != 0:
                raise ValueError(
                    f"OnlineTrainer needs the recurrent layer first in `model` (it steps the cell "
                    f"and applies the following layers per step); `{layers[0].name}` comes before "
                    f"`{inner.name}`.")
            return inner, wrapper, layers[1:]
    raise ValueError("OnlineTrainer needs a `model` whose first layer is a keras.layers.RNN (e.g. "
                     "EGRU, RNN(EGRUCell(...)), GRU), possibly wrapped by sparsity.prune_low_magnitude.")


class OnlineTrainer:
    """Online training of a recurrent model: a weight update every step (or every k).

    The model is a recurrent layer (`EGRU`, ``RNN(EGRUCell)``, ``RNN(DeltaGRUCell)``,
    ``RNN(DeltaLSTMCell)``, Keras ``GRU`` / ``RNN(GRUCell)``, optionally wrapped by `keras_events.sparsity.prune_low_magnitude`)
    followed by per-step layers (e.g. ``Dense``) that map the cell output ``y_t`` to a
    prediction. Each `step` runs the cell one step, takes the loss of that step's
    prediction and updates the weights. Gradients of the cell come from:

    - ``"rtrl"``: exact real-time recurrent learning; with ``sparse=True`` (default) rows
      of backward-silent units and columns of pruned weights are skipped
      (Subramoney et al. 2023) -- for a delta cell, the rows of units not sent -- which
      changes the cost and not the numbers.
    - ``"snap1"``, ``"snap2"`` (any ``"snapN"``): the SnAp-n approximation
      (Menick et al., ICLR 2021).
    - ``"bptt"``: truncated back-propagation through time over the last ``update_every``
      steps (for comparison: memory grows with that window).

    The per-step layers get exact gradients in every method. Pruning masks are read
    when the trainer is created and stay fixed (no mask updates during online learning);
    pruned weights get zero gradients. Dropout is not applied.

    Args:
        model: A built Keras model as above.
        optimizer: A Keras optimizer (or its name).
        method: ``"rtrl"``, ``"snap1"``, ``"snap2"`` (``"snapN"``) or ``"bptt"``.
        loss: Loss of one step, ``loss(y_true_t, y_pred_t, sample_weight)``; default
            ``model.loss`` of a compiled model.
        update_every: Apply the accumulated gradient every this many steps.
        sparse: Exploit activity and parameter sparsity in RTRL/SnAp (exact).
        metrics: Keras `Metric` objects updated with every step's prediction.
        track_cost: Record the counted multiply-adds of every step in ``self.costs``.
        run_eagerly: Run op by op instead of compiling the step (`tf.function` on
            TensorFlow, `jax.jit` on JAX; compiling pays off after a few dozen steps).
        jit_compile: On TensorFlow, compile the step with XLA (static shapes: the active
            rows are padded to a power of two, one compiled variant per size, as on JAX).

    Example:

    >>> import numpy as np, keras
    >>> from keras_events import EGRU
    >>> from keras_events.learning import OnlineTrainer
    >>> model = keras.Sequential([keras.Input((None, 2)), EGRU(8, return_sequences=True),
    ...                           keras.layers.Dense(2)])
    >>> trainer = OnlineTrainer(model, keras.optimizers.Adam(1e-2), method="rtrl",
    ...     loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    >>> logs = trainer.step(np.zeros((4, 2), "float32"), np.zeros((4,), "int32"))
    >>> sorted(logs)
    ['loss']
    """

    def __init__(self, model, optimizer, method="rtrl", loss=None, update_every=1, sparse=True,
                 metrics=None, track_cost=False, run_eagerly=False, jit_compile=False):
        if not model.built:
            raise ValueError("Argument `model` must be built: call it on data or give it an Input.")
        self.model = model
        self.rnn, wrapper, self.readout = _split_model(model)
        self.math = CellMath(self.rnn.cell)
        if method != "bptt":
            snap_order(method)
        self.method = method
        loss = loss if loss is not None else getattr(model, "loss", None)
        if loss is None:
            raise ValueError("Argument `loss` is required (the model is not compiled with a loss), "
                             "e.g. loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True).")
        self.loss = keras.losses.get(loss)
        if isinstance(update_every, bool) or int(update_every) != update_every or update_every < 1:
            raise ValueError(f"Argument `update_every` must be a positive integer, got {update_every!r}.")
        self.update_every = int(update_every)
        self.metrics = list(metrics or [])
        self.track_cost = bool(track_cost)
        self.costs = []

        self.masks = self._masks(wrapper)
        kind = DeltaInfluence if self.math.delta else Influence
        self.influence = None if method == "bptt" else kind(self.math, self.masks, method, sparse)
        self.cell_variables = self.math.weights()
        self.readout_variables = [v for layer in self.readout for v in layer.trainable_variables]
        self.variables = self.cell_variables + self.readout_variables
        self.optimizer = keras.optimizers.get(optimizer)
        self.optimizer.build(self.variables)
        self.dtype = self.cell_variables[0].dtype
        self._core = self._rtrl_core
        self._apply_fn = lambda grads: self.optimizer.apply(grads, self.variables)
        # XLA and jax.jit need a static number of gathered rows (padded to a bucket);
        # a plain tf.function takes it as a dynamic shape.
        self._static_rows = False
        if not run_eagerly:        # eager op dispatch dominates small steps: trace them once
            self._core = compile_step(self._rtrl_core, self.variables, jit_compile)
            self._static_rows = keras.backend.backend() == "jax" or bool(jit_compile)
            if keras.backend.backend() == "tensorflow":
                import tensorflow as tf

                self._apply_fn = tf.function(self._apply_fn)
        self.reset_state()

    def _masks(self, wrapper):
        if wrapper is None:
            return [None] * len(self.math.weights())
        by_id = {id(w): m for w, m in zip(wrapper.pruned_weights, wrapper.masks)}
        return [None if id(w) not in by_id else ops.convert_to_numpy(by_id[id(w)].value) != 0
                for w in self.math.weights()]

    def reset_state(self):
        """Forget the recurrent state, the influence matrix and pending gradients (call
        between independent sequences)."""
        self.state = None
        self._accumulated = None
        self._pending = 0
        self._window = []

    # --------------------------------------------------------------- helpers
    def _readout(self, y):
        for layer in self.readout:
            y = layer(y, training=False)
        return y

    def _step_loss(self, y_true, y_pred, sample_weight):
        return self.loss(y_true, y_pred, sample_weight=sample_weight)

    def _masked_weights(self):
        out = []
        for w, m in zip(self.cell_variables, self.masks):
            out.append(w.value if m is None else w.value * ops.cast(m, w.dtype))
        return out

    def _accumulate(self, grads):
        if self._accumulated is None:
            self._accumulated = list(grads)
        else:
            self._accumulated = [a + g for a, g in zip(self._accumulated, grads)]

    def _apply(self):
        grads = [ops.cast(g, v.dtype) for g, v in zip(self._accumulated, self.variables)]
        self._apply_fn(grads)
        self._accumulated = None

    # ------------------------------------------------------------------ API
    def step(self, x_t, y_t, sample_weight=None, update=True):
        """One time step: forward, loss, gradient; the weights are updated every
        ``update_every`` steps. With ``update=False`` the gradient is only accumulated (for
        evaluation, call `reset_state` afterwards to drop it). ``x_t``: (batch, features),
        ``y_t``: the step's targets. Returns the logs (``loss``, metrics)."""
        x_t = ops.convert_to_tensor(x_t, dtype=self.dtype)
        if len(x_t.shape) != 2:
            raise ValueError(f"Argument `x_t` must be one time step of shape (batch, features), got "
                             f"{tuple(x_t.shape)}; iterate over the time axis or use fit_online.")
        if self.method == "bptt":
            loss_value, prediction = self._bptt_step(x_t, y_t, sample_weight, update)
        else:
            loss_value, prediction = self._rtrl_step(x_t, y_t, sample_weight)
            self._pending += 1
            if update and self._pending >= self.update_every:
                self._apply()
                self._pending = 0
        logs = {"loss": float(ops.convert_to_numpy(loss_value))}
        for metric in self.metrics:
            metric.update_state(y_t, prediction, sample_weight=sample_weight)
            logs[metric.name] = float(ops.convert_to_numpy(metric.result()))
        return logs

    def _rtrl_core(self, x_t, y_t, sample_weight, state, size=None):
        """The influence update and this step's gradients (compiled once per ``size``)."""
        state = self.influence.step(x_t, state, size)

        def fn(y):
            prediction = self._readout(y)
            return self._step_loss(y_t, prediction, sample_weight), prediction

        loss_value, prediction, readout_grads, (delta,) = value_and_grad(
            fn, self.readout_variables, [state["y"]])
        grads = self.influence.gradients(state, delta, gather=size is None)
        return state, loss_value, prediction, grads + list(readout_grads)

    def _rtrl_step(self, x_t, y_t, sample_weight):
        if self.state is None:
            self.state = self.influence.initial_state(x_t.shape[0], self.dtype)
        previous = self.state
        y_t = ops.convert_to_tensor(y_t)
        if sample_weight is not None:
            sample_weight = ops.convert_to_tensor(sample_weight)
        size = None
        if self._static_rows:
            mask = self.influence.active_mask(previous)
            if mask is not None:
                count = int(ops.convert_to_numpy(ops.sum(ops.cast(mask, "int32"))))
                size = bucket(count, self.math.units)
        self.state, loss_value, prediction, grads = self._core(x_t, y_t, sample_weight, previous, size=size)
        self._accumulate(grads)
        if self.track_cost:
            self.costs.append(cost.rtrl_step_macs(
                self.influence, self._rows(previous), self._rows(self.state)))
        return loss_value, prediction

    def _rows(self, state):
        rows = self.influence.active_rows(state)
        return None if rows is None else ops.convert_to_numpy(rows)

    def _bptt_step(self, x_t, y_t, sample_weight, update):
        if self.state is None:
            self.state = self._live = self.math.initial_carry(x_t.shape[0], self.dtype)
        self._window.append((x_t, y_t, sample_weight))
        # The live state runs ahead of the window start (no gradient needed for it).
        y, self._live = self.math.forward(x_t, self._live, self._masked_weights())
        prediction = self._readout(y)
        loss_value = self._step_loss(y_t, prediction, sample_weight)
        if update and len(self._window) >= self.update_every:
            _, _, grads, _ = value_and_grad(self._window_loss, self.variables)
            self._accumulated = list(grads)
            self._apply()
            self.state = self._live
            self._window = []
        if self.track_cost:
            self.costs.append(cost.bptt_step_macs(self.math.units, self.math.input_dim,
                                                     gates=self.math.gates_count))
        return loss_value, prediction

    def _window_loss(self):
        """Summed loss over the buffered window from its start state (BPTT)."""
        weights = self._masked_weights()
        carry, total = self.state, 0.0
        for x, target, weight in self._window:
            y, carry = self.math.forward(x, carry, weights)
            total = total + self._step_loss(target, self._readout(y), weight)
        return total, None

    def sequence_gradients(self, x, y, sample_weight=None):
        """Gradient of the summed per-step loss over whole sequences ``x`` (batch, time,
        features) from a zero state, without updating (one array per ``self.variables``).
        With ``method="rtrl"`` this equals back-propagation through time."""
        self.reset_state()
        x, y = np.asarray(x), np.asarray(y)
        for t in range(x.shape[1]):
            weight = None if sample_weight is None else np.asarray(sample_weight)[:, t]
            self.step(x[:, t], y[:, t], weight, update=False)
        if self.method == "bptt":
            _, _, self._accumulated, _ = value_and_grad(self._window_loss, self.variables)
        grads = [ops.convert_to_numpy(g) for g in self._accumulated]
        self.reset_state()
        return grads

    def fit_online(self, x, y=None, sample_weight=None, verbose=1):
        """Train on a stream, one `step` per time step.

        Args:
            x: (batch, time, features) array with ``y`` (batch, time, ...) targets, or an
                iterable of ``(x_t, y_t)`` / ``(x_t, y_t, sample_weight_t)`` steps.
            y: Targets when ``x`` is an array.
            sample_weight: (batch, time) weights when ``x`` is an array (0: no loss).
            verbose: 1 shows a `keras.utils.Progbar`, 0 nothing.

        Returns:
            dict of per-step log lists (``loss`` and the metrics).
        """
        if y is not None:
            x, y = np.asarray(x), np.asarray(y)
            if x.ndim != 3 or y.shape[:2] != x.shape[:2]:
                raise ValueError(f"Arguments `x` (batch, time, features) and `y` (batch, time, ...) "
                                 f"must share batch and time, got {x.shape} and {y.shape}.")
            w = None if sample_weight is None else np.asarray(sample_weight)
            if w is not None and w.shape != x.shape[:2]:
                raise ValueError(f"Argument `sample_weight` must have shape (batch, time) = {x.shape[:2]}, "
                                 f"got {w.shape}.")
            steps = [(x[:, t], y[:, t], None if w is None else w[:, t]) for t in range(x.shape[1])]
        else:
            steps = x
        total = len(steps) if hasattr(steps, "__len__") else None
        bar = keras.utils.Progbar(total, verbose=verbose, stateful_metrics=[m.name for m in self.metrics])
        history = {}
        for i, item in enumerate(steps):
            if not isinstance(item, (tuple, list)) or len(item) not in (2, 3):
                raise ValueError(f"Each element of `x` must be (x_t, y_t) or (x_t, y_t, sample_weight_t), "
                                 f"got {type(item).__name__}.")
            logs = self.step(*item)
            for key, value in logs.items():
                history.setdefault(key, []).append(value)
            if verbose:
                bar.update(i + 1, list(logs.items()))
        return history

"""The language models: embedding -> stacked recurrent layers -> tied softmax.

  * ``egru``: EGRU layers (``keras_events.EGRU``, Subramoney et al. 2023) with an
    event-rate target;
  * ``gru`` / ``lstm``: the dense baselines (``keras.layers.GRU`` / ``LSTM``).

The softmax shares the embedding matrix (weight tying: Inan et al. 2017, Press & Wolf 2017),
so the last recurrent layer has as many units as the embedding. Dropout follows the EGRU
paper's language model, which adopts the regularisation of AWD-LSTM (Merity et al. 2018):
variational ("locked") dropout -- one mask per sequence, the same at every step (Gal &
Ghahramani 2016) -- on the embedding output, between the recurrent layers and before the
softmax (``keras.layers.SpatialDropout1D`` draws exactly that mask: [batch, 1, features]).

The recurrent state is carried from one batch to the next (truncated BPTT) by
``StateCarry``, which keeps it in non-trainable variables. Pruning wraps the recurrent
layers in ``keras_events.sparsity.PruneLowMagnitude`` at build time (the tied softmax
cannot be cloned by ``prune_low_magnitude(model)``).
"""

import keras
import numpy as np
from keras import ops

from recipes.lm.config import KINDS


@keras.saving.register_keras_serializable(package="recipes.lm")
class StateCarry(keras.layers.Wrapper):
    """Runs a recurrent ``layer`` (``return_sequences`` and ``return_state`` set) from the
    state its previous call ended in, on inputs ``[sequences, reset]``.

    ``reset`` [batch, 1] = 1 restarts a row from the zero state (the first batch of a
    pass over the data). Unlike ``keras.layers.RNN(stateful=True)`` the state variables
    have ``synchronization="on_read"``: under ``tf.distribute.MirroredStrategy`` every
    replica keeps the state of its own rows of the global batch (``batch_size`` is then
    the per-replica batch). Under JAX ``keras.distribution`` the model sees the global
    batch, so ``batch_size`` is the global one.
    """

    def __init__(self, layer, batch_size, **kwargs):
        super().__init__(layer, **kwargs)
        self.batch_size = int(batch_size)

    def _rnn(self):
        inner = self.layer
        while not isinstance(inner, keras.layers.RNN):
            inner = inner.layer
        return inner

    def build(self, input_shape):
        sequences_shape = input_shape[0]
        if not self.layer.built:
            self.layer.build(sequences_shape)
        sizes = self._rnn().cell.state_size
        sizes = list(sizes) if isinstance(sizes, (list, tuple)) else [sizes]
        self.carried = [
            keras.Variable(ops.zeros((self.batch_size, n)), trainable=False, name=f"carried_{i}",
                           synchronization="on_read", aggregation="only_first_replica")
            for i, n in enumerate(sizes)]
        self.built = True

    def call(self, inputs, training=False):
        sequences, reset = inputs
        keep = 1.0 - ops.cast(reset, sequences.dtype)
        initial = [ops.convert_to_tensor(v) * keep for v in self.carried]
        outputs = self.layer(sequences, initial_state=initial, training=training)
        for variable, state in zip(self.carried, outputs[1:]):
            variable.assign(ops.stop_gradient(state))
        return outputs[0]

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[0][:-1]) + (self._rnn().cell.output_size,)

    def get_config(self):
        return {**super().get_config(), "batch_size": self.batch_size}


class TiedSoftmax(keras.layers.Layer):
    """Logits ``h Eᵀ + b`` with ``E`` the embedding matrix of ``embedding`` (weight tying).

    ``log_prior``: the bias starts at these log-probabilities of the words (the training
    split's unigram), so the first step already predicts the unigram distribution and the
    network learns what the context adds. With a zero bias Adam moves each logit by about
    the learning rate per step, and a short run spends its steps learning word frequencies
    (the recipe's first runs ended near, and above, unigram perplexity). Initialising the
    output bias to the target's log-frequencies is the usual remedy (e.g. Karpathy, "A
    recipe for training neural networks", 2019: "init well").

    It holds a reference to another layer, so a model with it is rebuilt with ``build``
    and its weights restored with ``load_weights`` rather than saved as a ``.keras`` file."""

    def __init__(self, embedding, log_prior=None, **kwargs):
        super().__init__(**kwargs)
        self.embedding = embedding
        self.log_prior = log_prior

    def build(self, input_shape):
        initializer = "zeros"
        if self.log_prior is not None:
            prior = [float(v) for v in self.log_prior]
            if len(prior) != self.embedding.input_dim:
                raise ValueError(f"`log_prior` has {len(prior)} entries; the vocabulary has "
                                 f"{self.embedding.input_dim} words.")
            initializer = keras.initializers.Constant(prior)
        self.bias = self.add_weight(shape=(self.embedding.input_dim,), initializer=initializer, name="bias")

    def call(self, hidden):
        return ops.matmul(hidden, ops.transpose(self.embedding.embeddings)) + self.bias


def recurrent_layer(cfg, kind, index):
    """One recurrent layer of the stack (sequences and final states returned)."""
    common = {"return_sequences": True, "return_state": True, "name": f"{kind}_{index}"}
    if kind == "gru":
        return keras.layers.GRU(cfg.units, seed=cfg.seed + index, **common)
    if kind == "lstm":
        return keras.layers.LSTM(cfg.units, seed=cfg.seed + index, **common)
    if kind == "egru":
        from keras_events import EGRU
        from recipes.common.training import EventRateTarget

        target = EventRateTarget(weight=cfg.activity_reg, rate=cfg.target_event_rate)
        return EGRU(cfg.units, seed=cfg.seed + index, threshold_init=cfg.threshold_init,
                    surrogate={"class_name": "triangle",
                               "config": {"height": cfg.surrogate_height, "width": cfg.surrogate_width}},
                    **target.layer_kwargs(), **common)
    raise ValueError(f"--models {kind!r} unknown; choose from {', '.join(KINDS)}.")


def build(cfg, kind, vocabulary, batch_size, pruning_schedule=None, log_prior=None):
    """The language model ``kind`` over ``vocabulary`` words: inputs ``{"tokens": [B, T]
    int32, "reset": [B, 1]}``, output logits [B, T, vocabulary]. ``batch_size``: rows per
    replica (``StateCarry``); ``pruning_schedule``: prune the recurrent kernels;
    ``log_prior``: initial softmax bias (``unigram_log_prior``)."""
    tokens = keras.Input((cfg.bptt,), dtype="int32", name="tokens")
    reset = keras.Input((1,), name="reset")
    embedding = keras.layers.Embedding(vocabulary, cfg.units, name="embedding")
    h = keras.layers.SpatialDropout1D(cfg.dropout_embedding, name="dropout_embedding")(embedding(tokens))
    for i in range(cfg.layers):
        layer = recurrent_layer(cfg, kind, i)
        if pruning_schedule is not None:
            from keras_events import sparsity

            layer = sparsity.prune_low_magnitude(layer, pruning_schedule=pruning_schedule)
        h = StateCarry(layer, batch_size, name=f"carry_{kind}_{i}")([h, reset])
        h = keras.layers.SpatialDropout1D(cfg.dropout, name=f"dropout_{i}")(h)
    logits = TiedSoftmax(embedding, log_prior, name="tied_softmax")(h)
    return keras.Model({"tokens": tokens, "reset": reset}, logits, name=kind)


def unigram_log_prior(tokens, vocabulary):
    """log p(word) over ``tokens`` (ids < ``vocabulary``), add-one smoothed."""
    counts = np.bincount(np.asarray(tokens).ravel(), minlength=vocabulary)[:vocabulary] + 1.0
    return np.log(counts / counts.sum()).astype("float32")


def recurrent_layers(model):
    """The recurrent layers of ``model`` in stack order: (StateCarry, the RNN inside)."""
    return [(layer, layer._rnn()) for layer in model.layers if isinstance(layer, StateCarry)]

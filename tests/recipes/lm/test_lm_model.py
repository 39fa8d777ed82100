"""recipes.lm.models / train: the state carried across batches equals one long sequence,
the tied softmax, and a short run lowers perplexity (pruned EGRU, measured MACs)."""

import dataclasses

import keras
import numpy as np
import pytest

from recipes.lm import config, data, distribute, models, train


def small(**kw):
    base = {"units": 8, "layers": 2, "bptt": 5, "batch_size": 2, "dropout": 0.0, "dropout_embedding": 0.0}
    return config.Config(**{**base, **kw})


@pytest.mark.parametrize("kind", ["gru", "egru", "lstm"])
def test_carried_state_equals_one_long_sequence(kind):
    cfg, vocab = small(), 11
    model = models.build(cfg, kind, vocab, batch_size=2)
    rng = np.random.default_rng(0)
    stream = rng.integers(0, vocab, (2, 10)).astype("int32")  # 2 rows, 10 steps
    # two batches of 5 steps, row i of the second continuing row i of the first
    tokens = np.concatenate([stream[:, :5], stream[:, 5:]])
    reset = np.array([[1], [1], [0], [0]], "float32")
    logits = model.predict({"tokens": tokens, "reset": reset}, batch_size=2, verbose=0)
    carried = np.concatenate([logits[:2], logits[2:]], axis=1)  # [2, 10, vocab]
    # Reference: the same layers run over the 10 steps at once from the zero state.
    embedding = model.get_layer("embedding")
    h = embedding(stream)
    for _, rnn in models.recurrent_layers(model):
        h = rnn(h)[0]
    reference = keras.ops.convert_to_numpy(h) @ keras.ops.convert_to_numpy(embedding.embeddings).T \
        + keras.ops.convert_to_numpy(model.get_layer("tied_softmax").bias)
    np.testing.assert_allclose(carried, reference, rtol=1e-4, atol=1e-5)
    # reset = 1 restarts from zero: the same prediction again; without it the state carries on
    again = model.predict({"tokens": tokens, "reset": reset}, batch_size=2, verbose=0)
    np.testing.assert_allclose(again, logits, rtol=1e-5, atol=1e-6)
    onward = model.predict({"tokens": tokens[:2], "reset": np.zeros((2, 1), "float32")},
                           batch_size=2, verbose=0)
    assert not np.allclose(onward, logits[:2], atol=1e-5)


def test_softmax_is_tied_to_the_embedding():
    model = models.build(small(layers=1), "gru", 13, batch_size=2)
    paths = [w.path for w in model.weights]
    assert paths.count("embedding/embeddings") == 1 and len(paths) == len(set(paths))
    assert not any("tied_softmax" in p and "embeddings" in p for p in paths)


def test_short_run_trains_a_pruned_egru(lm_corpus):
    cfg = small(units=16, layers=1, bptt=10, batch_size=16, epochs=2, steps_per_epoch=12,
                eval_batches=3, learning_rate=1e-2, jit_compile=False)
    corpus = data.load(lm_corpus, 500)
    _, row = train.fit_one(cfg, corpus, "egru", 0.5, distribute.Placement(), log=lambda s: None)
    # It starts as the unigram model of the training split (the softmax bias is its
    # log-prior, tested below); 24 steps lower the training loss and keep validation there.
    assert row["history"]["loss"][-1] < row["history"]["loss"][0]
    assert row["valid_ppl"] < 1.1 * row["initial_valid_ppl"]
    assert row["weight_sparsity"] == pytest.approx(0.5, abs=0.01)
    assert 0.0 < row["event_rate"] < 1.0
    # MACs: the event kernel reads at most the surviving weights (every row every step)
    assert row["effective_macs_per_token"] <= (1 - row["weight_sparsity"]) * row["dense_macs_per_token"] + 1
    # a dense GRU's effective MACs are its non-zero weights (independent count)
    gru = models.build(dataclasses.replace(cfg, layers=1), "gru", len(corpus.vocabulary), 16)
    split = data.batches(corpus.test, 16, 10).limit(1)
    stats = train.measure(gru, split, "gru")
    rnn = models.recurrent_layers(gru)[0][1]
    nonzero = sum(np.count_nonzero(keras.ops.convert_to_numpy(w))
                  for w in (rnn.cell.kernel, rnn.cell.recurrent_kernel))
    assert stats["effective_macs_per_token"] == nonzero and stats["event_rate"] == 1.0


def test_softmax_bias_starts_at_the_unigram_prior(lm_corpus):
    """Independent reference: the unigram perplexity of the validation split under the
    training split's add-one-smoothed word frequencies, computed here with NumPy. A zero
    bias (the recipe's first version) starts near the vocabulary size instead."""
    cfg = small(units=16, layers=1, bptt=10, batch_size=16, jit_compile=False)
    corpus = data.load(lm_corpus, 500)
    vocab = len(corpus.vocabulary)
    counts = np.zeros(vocab) + 1.0
    for token in np.asarray(corpus.train).ravel():
        counts[token] += 1
    log_p = np.log(counts / counts.sum())
    np.testing.assert_allclose(models.unigram_log_prior(corpus.train, vocab), log_p, rtol=1e-5)
    model = models.build(cfg, "gru", vocab, 16, log_prior=models.unigram_log_prior(corpus.train, vocab))
    train.compile_model(model, cfg, total_steps=1)
    valid = data.batches(corpus.valid, 16, 10)
    unigram = float(np.exp(-np.mean(log_p[np.asarray(valid.targets).ravel()])))
    assert unigram < 0.5 * vocab  # the fixture's words are skewed enough to tell the two apart
    assert train.perplexity(model, valid) == pytest.approx(unigram, rel=0.03)
    with pytest.raises(ValueError, match="log_prior"):
        models.build(cfg, "gru", vocab + 1, 16, log_prior=log_p)

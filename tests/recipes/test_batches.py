"""Training batches: the clean set plus the next augmented copy, every epoch."""

import numpy as np
import pytest

from recipes.kws import batches


def _stacked(clips, copies):
    """x[i] = i, so a batch shows which rows it read; y = the copy of each row."""
    x = np.arange((copies + 1) * clips, dtype=np.float32)[:, None, None]
    y = np.repeat(np.arange(copies + 1, dtype=np.int32), clips)
    return x, y


def test_epoch_indices_read_the_clean_set_and_one_copy():
    rng = np.random.default_rng(0)
    for epoch in range(7):
        index = batches.epoch_indices(10, 3, epoch, rng)
        copy = 1 + epoch % 3
        assert sorted(index) == list(range(10)) + list(range(copy * 10, copy * 10 + 10))
    assert sorted(batches.epoch_indices(10, 0, 5, rng)) == list(range(10))
    assert batches.epoch_size(10, 3) == 20 and batches.epoch_size(10, 0) == 10


def test_cycled_batches_cover_one_epoch_per_steps_per_epoch():
    clips, copies, batch = 10, 3, 4
    x, y = _stacked(clips, copies)
    steps = batches.steps_per_epoch(clips, copies, batch)
    assert steps == 5
    got = list(batches.cycled_batches(x, y, copies, batch, seed=0, epochs=4).as_numpy_iterator())
    assert len(got) == 4 * steps
    for epoch in range(4):
        rows = np.concatenate([b[0][:, 0, 0] for b in got[epoch * steps:(epoch + 1) * steps]])
        labels = np.concatenate([b[1] for b in got[epoch * steps:(epoch + 1) * steps]])
        copy = 1 + epoch % copies
        assert sorted(rows.astype(int)) == list(range(clips)) + list(range(copy * clips, (copy + 1) * clips))
        np.testing.assert_array_equal(labels, rows.astype(int) // clips)  # rows and labels match
    # Shuffled differently every epoch, deterministically per seed.
    again = list(batches.cycled_batches(x, y, copies, batch, seed=0, epochs=4).as_numpy_iterator())
    for a, b in zip(got, again):
        np.testing.assert_array_equal(a[0], b[0])


def test_cycled_batches_reject_unstacked_arrays():
    x, y = _stacked(10, 3)
    with pytest.raises(ValueError, match=r"\(copies \+ 1\) = 3 stacked copies"):
        batches.cycled_batches(x[:-2], y[:-2], 2, 4, seed=0, epochs=1)


def _generated_training_clips():
    """Training clips of the default generated dataset: the planned keyword clips plus
    10 % unknown and 10 % silence (``data.SpeechCommands`` defaults)."""
    from recipes.kws import data, generate

    jobs, split = generate.plan(seed=0)
    training = [word for _, word, speaker, _ in jobs if split[speaker] == "training"]
    keywords = sum(word in data.KEYWORDS for word in training)
    unknown_pool = len(training) - keywords
    return keywords + min(unknown_pool, round(0.1 * keywords)) + round(0.1 * keywords)


def test_default_copies_keep_the_features_within_the_budget():
    clips = _generated_training_clips()  # 1824: 28.6 MB of features each copy
    assert (1 << 30) // (clips * batches.FEATURE_BYTES) > 9  # so the cap of 8 copies holds
    assert batches.default_copies(clips) == 8
    assert batches.default_copies(85_000) == 1  # the real Speech Commands: one copy
    assert batches.default_copies(100, budget_bytes=5 * 100 * batches.FEATURE_BYTES) == 4

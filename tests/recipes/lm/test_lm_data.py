"""recipes.lm.data / generate / config: PTB-layout loading, vocabulary, truncated-BPTT
batches, the offline corpus and the errors (no Keras needed)."""

import json

import numpy as np
import pytest

from recipes.lm import config, data, generate

TRAIN = "the cat sat on the mat\n the dog sat\n\n a cat ran\n"
VALID = "the bird sat\n"
TEST = "a dog ran on the mat\n"


def write(root, files):
    root.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (root / name).write_text(text, encoding="utf-8")
    return str(root)


@pytest.fixture
def ptb(tmp_path):
    return write(tmp_path / "ptb", {"ptb.train.txt": TRAIN, "ptb.valid.txt": VALID, "ptb.test.txt": TEST})


def test_tokens_end_every_line_with_eos_and_skip_blank_lines(ptb):
    tokens = data.read_tokens(f"{ptb}/ptb.train.txt")
    assert tokens == ["the", "cat", "sat", "on", "the", "mat", "<eos>", "the", "dog", "sat", "<eos>", "a", "cat", "ran", "<eos>"]


def test_vocabulary_is_ordered_by_frequency_and_maps_unknown_words_to_unk(ptb):
    corpus = data.load(ptb)
    words = corpus.vocabulary.words
    # the: 3, <eos>: 3, cat: 2, sat: 2, then the words seen once, alphabetically; <unk> (0)
    assert words[:4] == ("<eos>", "the", "cat", "sat")
    assert set(words) == set(TRAIN.split()) | {"<unk>", "<eos>"}
    index = corpus.vocabulary.index
    expected = [index[w] for w in ("the", "<unk>", "sat", "<eos>")]  # "bird" is not in train
    assert corpus.valid.tolist() == expected
    assert corpus.summary()["vocabulary"] == len(words)


def test_max_vocab_keeps_the_most_frequent_words_and_unk(ptb):
    corpus = data.load(ptb, max_vocab=4)
    assert set(corpus.vocabulary.words) == {"<eos>", "the", "cat", "<unk>"}
    assert data.UNK in corpus.vocabulary.words
    unk = corpus.vocabulary.index["<unk>"]
    assert (corpus.train == unk).sum() == 7  # sat x2, on, mat, dog, a, ran
    with pytest.raises(ValueError, match="--max-vocab"):
        data.Vocabulary.from_tokens(["a"], max_size=1)


def test_wikitext_names_are_accepted(tmp_path):
    root = write(tmp_path / "wt2", {"wiki.train.tokens": TRAIN, "wiki.valid.tokens": VALID,
                                    "wiki.test.tokens": TEST})
    corpus = data.load(root)
    assert corpus.layout == "wikitext" and len(corpus.test) == len(TEST.split()) + 1


def test_missing_split_and_empty_file_are_clear_errors(tmp_path, ptb):
    root = write(tmp_path / "partial", {"ptb.train.txt": TRAIN, "ptb.test.txt": TEST})
    with pytest.raises(FileNotFoundError, match=r"missing .*ptb\.valid\.txt"):
        data.load(root)
    with pytest.raises(FileNotFoundError, match="no training split"):
        data.load(str(write(tmp_path / "none", {"notes.txt": "x"})))
    with pytest.raises(FileNotFoundError, match="not a directory"):
        data.load(str(tmp_path / "absent"))
    (tmp_path / "ptb" / "ptb.test.txt").write_text("\n \n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"ptb\.test\.txt is empty"):
        data.load(ptb)


def test_batches_carry_each_stream_from_one_batch_to_the_next():
    ids = np.arange(100, dtype=np.int32)
    b = data.batches(ids, batch_size=3, length=4)
    per_stream = 99 // 3  # 33 tokens per stream, 8 windows of 4
    assert b.steps == 8 and b.tokens.shape == (24, 4)
    np.testing.assert_array_equal(b.targets, b.tokens + 1)  # next token
    batch = lambda k: b.tokens[3 * k:3 * k + 3]
    for k in range(b.steps):
        for i in range(3):  # row i of every batch reads stream i, window k
            np.testing.assert_array_equal(batch(k)[i], i * per_stream + 4 * k + np.arange(4))
    assert b.reset[:3].tolist() == [[1.0]] * 3 and not b.reset[3:].any()
    assert b.limit(2).steps == 2 and b.limit(None).steps == 8
    with pytest.raises(ValueError, match="--batch-size 8 x --bptt 20"):
        data.batches(ids, batch_size=8, length=20)


def _fake_stdlib(root, files=24):
    for i in range(files):
        (root / f"mod{i:02d}.py").write_text(
            f'"""Module {i} reads 42 files. It writes the output, then it returns!\n\n'
            f'>>> code_is_dropped()\n"""\n\ndef f():\n    """Return the value of x{i % 3} twice."""\n',
            encoding="utf-8")
    (root / "broken.py").write_text("def (:\n", encoding="utf-8")  # does not parse: skipped
    return str(root)


def test_generated_corpus_is_in_ptb_layout_and_deterministic(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    root = _fake_stdlib(src)
    info = generate.build(str(tmp_path / "a"), max_tokens=1000, root=root)
    generate.build(str(tmp_path / "b"), max_tokens=1000, root=root)
    for split in data.SPLITS:
        a = (tmp_path / "a" / f"ptb.{split}.txt").read_text()
        assert a == (tmp_path / "b" / f"ptb.{split}.txt").read_text()
    train = (tmp_path / "a" / "ptb.train.txt").read_text().splitlines()
    assert " module N reads N files " in train  # lower case, numbers -> N, one sentence a line
    assert not any("code_is_dropped" in line or "code" in line.split() for line in train)
    corpus = data.load(str(tmp_path / "a"))
    assert len(corpus.vocabulary) <= data.MAX_VOCAB and info["vocabulary"] >= 10
    assert json.loads((tmp_path / "a" / "generator.json").read_text())["max_tokens"] == 1000
    capped = generate.build(str(tmp_path / "c"), max_tokens=1000, max_vocab=6, root=root)
    assert capped["vocabulary"] == 6
    assert "<unk>" in (tmp_path / "c" / "ptb.train.txt").read_text()
    with pytest.raises(ValueError, match="--max-tokens"):
        generate.build(str(tmp_path / "d"), max_tokens=10, root=root)


def test_config_errors_name_the_flag():
    with pytest.raises(ValueError, match="--strategy"):
        config.Config(strategy="horovod")
    with pytest.raises(ValueError, match="--batch-size 33 must be a multiple of --devices 2"):
        config.Config(strategy="mirrored", batch_size=33)
    with pytest.raises(ValueError, match="--models"):
        config.Config(models=("transformer",))
    with pytest.raises(ValueError, match="--dropout "):
        config.Config(dropout=1.0)
    cfg = config.parse_args(["--sweep", "0,0.9", "--models", "gru", "--epochs", "1"])
    assert cfg.sweep == (0.0, 0.9) and cfg.models == ("gru",) and cfg.vocab_cap == config.GENERATED_VOCAB
    assert config.Config(data_dir="x").vocab_cap == 10000

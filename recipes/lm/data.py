"""Word-level text in the Penn Treebank layout: loading, vocabulary, truncated-BPTT batches.

Layout (Mikolov et al. 2010's preprocessing of the Penn Treebank, as distributed with
``simple-examples``): a directory with ``ptb.train.txt``, ``ptb.valid.txt`` and
``ptb.test.txt``, one sentence per line, tokens separated by spaces, rare words already
replaced by ``<unk>``. Every line ends with an ``<eos>`` token when read. The WikiText-2
names (``wiki.train.tokens``, ``wiki.valid.tokens``, ``wiki.test.tokens``; Merity et al.
2016) are accepted too; their blank lines are skipped.

Batches follow the usual truncated back-propagation-through-time layout (Zaremba et al.
2014): the token stream of a split is cut into ``batch_size`` contiguous streams, and
batch ``k`` holds steps ``[k·T, (k+1)·T)`` of every stream, so row ``i`` of batch ``k+1``
continues row ``i`` of batch ``k`` and the recurrent state is carried from one batch to
the next (``models.StateCarry``). A ``reset`` flag of 1 marks the first batch of a pass,
where the carried state starts from zero.
"""

import collections
import dataclasses
import os

import numpy as np

UNK, EOS = "<unk>", "<eos>"
SPLITS = ("train", "valid", "test")
LAYOUTS = {"ptb": "ptb.{}.txt", "wikitext": "wiki.{}.tokens"}
MAX_VOCAB = 10000  # PTB's vocabulary size (Mikolov et al. 2010)


def split_paths(data_dir):
    """``{split: path}`` of the first layout (PTB, then WikiText-2) with a training file.

    Raises FileNotFoundError naming the missing file(s) and the expected names."""
    if not os.path.isdir(data_dir):
        raise FileNotFoundError(f"--data-dir {data_dir!r} is not a directory.")
    for layout, pattern in LAYOUTS.items():
        paths = {s: os.path.join(data_dir, pattern.format(s)) for s in SPLITS}
        if os.path.isfile(paths["train"]):
            missing = [p for p in paths.values() if not os.path.isfile(p)]
            if missing:
                raise FileNotFoundError(
                    f"--data-dir {data_dir!r} is missing the {layout} split file(s) "
                    f"{', '.join(os.path.basename(p) for p in missing)}; it needs "
                    f"{', '.join(pattern.format(s) for s in SPLITS)}.")
            return paths
    raise FileNotFoundError(
        f"--data-dir {data_dir!r} has no training split: expected ptb.train.txt "
        f"(with ptb.valid.txt, ptb.test.txt) or wiki.train.tokens (WikiText-2 names).")


def read_tokens(path):
    """The tokens of ``path``: each non-blank line's words followed by ``<eos>``.

    Raises ValueError if the file holds no token."""
    tokens = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            words = line.split()
            if words:
                tokens.extend(words)
                tokens.append(EOS)
    if not tokens:
        raise ValueError(f"{path} is empty: a split file needs at least one line of text.")
    return tokens


@dataclasses.dataclass(frozen=True)
class Vocabulary:
    """Word <-> id. Ids are ordered by training-set frequency (ties alphabetically), so the
    same text always gives the same ids; ``<unk>`` and ``<eos>`` always exist."""

    words: tuple

    @classmethod
    def from_tokens(cls, tokens, max_size=MAX_VOCAB):
        if max_size < 2:
            raise ValueError(f"--max-vocab must be >= 2 (<unk> and <eos>), got {max_size}.")
        counts = collections.Counter(tokens)
        for special in (UNK, EOS):
            counts.setdefault(special, 0)
        ranked = sorted(counts, key=lambda w: (-counts[w], w))
        kept = ranked[:max_size]
        if UNK not in kept:  # words beyond the cap map to <unk>: it must be in the vocabulary
            kept[-1] = UNK
        if EOS not in kept:
            kept[-2 if kept[-1] == UNK else -1] = EOS
        return cls(tuple(kept))

    def __len__(self):
        return len(self.words)

    @property
    def index(self):
        return {w: i for i, w in enumerate(self.words)}

    def encode(self, tokens):
        """int32 ids of ``tokens``; words outside the vocabulary become ``<unk>``."""
        index, unk = self.index, self.index[UNK]
        return np.fromiter((index.get(t, unk) for t in tokens), dtype=np.int32, count=len(tokens))


@dataclasses.dataclass
class Corpus:
    vocabulary: Vocabulary
    train: np.ndarray
    valid: np.ndarray
    test: np.ndarray
    data_dir: str
    layout: str

    def summary(self):
        return {"data_dir": self.data_dir, "layout": self.layout, "vocabulary": len(self.vocabulary),
                **{f"{s}_tokens": len(getattr(self, s)) for s in SPLITS},
                "unk_fraction_test": float(np.mean(self.test == self.vocabulary.index[UNK]))}


def load(data_dir, max_vocab=MAX_VOCAB):
    """The three splits of ``data_dir`` as ids over the training vocabulary (at most
    ``max_vocab`` words, the most frequent)."""
    paths = split_paths(data_dir)
    tokens = {s: read_tokens(p) for s, p in paths.items()}
    vocabulary = Vocabulary.from_tokens(tokens["train"], max_vocab)
    layout = "ptb" if paths["train"].endswith(".txt") else "wikitext"
    return Corpus(vocabulary, *(vocabulary.encode(tokens[s]) for s in SPLITS),
                  data_dir=data_dir, layout=layout)


@dataclasses.dataclass
class Batches:
    """Truncated-BPTT batches of one split: ``steps`` batches of ``batch_size`` rows.

    ``tokens``/``targets``: [steps · batch_size, length] int32, batch ``k`` = rows
    ``[k·B, (k+1)·B)``; ``reset``: [steps · batch_size, 1] float32, 1 in the first batch.
    Feed them to ``fit``/``evaluate`` with ``batch_size`` and ``shuffle=False``."""

    tokens: np.ndarray
    targets: np.ndarray
    reset: np.ndarray
    batch_size: int
    length: int

    @property
    def steps(self):
        return len(self.tokens) // self.batch_size

    def inputs(self):
        return {"tokens": self.tokens, "reset": self.reset}

    def limit(self, steps):
        """The first ``steps`` batches (all if ``steps`` is None or larger)."""
        rows = len(self.tokens) if steps is None else min(len(self.tokens), steps * self.batch_size)
        return Batches(self.tokens[:rows], self.targets[:rows], self.reset[:rows],
                       self.batch_size, self.length)


def batches(ids, batch_size, length):
    """``ids`` cut into ``batch_size`` streams and windows of ``length`` steps (targets:
    the next token). The tail that does not fill a window is dropped.

    Raises ValueError if the split is too short for one batch."""
    ids = np.asarray(ids, dtype=np.int32)
    per_stream = (len(ids) - 1) // batch_size  # -1: every input needs its next token
    steps = per_stream // length
    if steps < 1:
        raise ValueError(
            f"{len(ids)} tokens are too few for one batch of --batch-size {batch_size} x "
            f"--bptt {length} (need > {batch_size * length}); lower them or use more text.")
    span = steps * length
    streams = ids[:batch_size * per_stream + 1]
    x = np.stack([streams[i * per_stream:i * per_stream + span] for i in range(batch_size)])
    y = np.stack([streams[i * per_stream + 1:i * per_stream + span + 1] for i in range(batch_size)])
    # [B, steps, T] -> [steps, B, T] -> rows grouped by batch
    x = x.reshape(batch_size, steps, length).transpose(1, 0, 2).reshape(-1, length)
    y = y.reshape(batch_size, steps, length).transpose(1, 0, 2).reshape(-1, length)
    reset = np.zeros((len(x), 1), np.float32)
    reset[:batch_size] = 1.0
    return Batches(x, y, reset, batch_size, length)

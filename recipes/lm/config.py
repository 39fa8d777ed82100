"""Settings of the language-model recipe and its command line."""

import argparse
import dataclasses

from recipes.common import config as common_config

KINDS = ("egru", "gru", "lstm")  # recipes.lm.models builds them
STRATEGIES = ("none", "mirrored", "data-parallel")
GENERATED_VOCAB = 2000  # --max-vocab default on the generated corpus (the softmax dominates the cost)


@dataclasses.dataclass(frozen=True)
class Config:
    data_dir: str = None  # PTB / WikiText-2 layout; None: the generated corpus (recipes.lm.generate)
    out: str = "build/lm"
    models: tuple = ("egru", "gru")
    sweep: tuple = (0.0, 0.5, 0.8, 0.9)  # target weight sparsities of every model
    max_vocab: int = None  # None: 10000 (PTB) with --data-dir, GENERATED_VOCAB on the generated corpus
    corpus_tokens: int = 400_000  # --max-tokens of the generated corpus
    units: int = 64
    layers: int = 2
    bptt: int = 35
    batch_size: int = 64
    epochs: int = 3
    steps_per_epoch: int = None  # None: the whole training split per epoch
    eval_batches: int = None  # None: the whole validation/test split
    learning_rate: float = 3e-3
    dropout: float = 0.2  # locked dropout between layers and before the softmax
    dropout_embedding: float = 0.1  # locked dropout on the embedding output
    activity_reg: float = 1.0
    target_event_rate: float = 0.1
    threshold_init: float = 0.1
    surrogate_height: float = 0.7
    surrogate_width: float = 1.0
    target_sparsity: float = 0.0  # unused by the sweep (shared validation needs it)
    prune_begin: float = 0.2
    prune_end: float = 0.6
    strategy: str = "none"
    devices: int = 2  # logical CPU devices of --strategy mirrored / data-parallel
    seed: int = 0
    plots: bool = True
    jit_compile: bool = True  # XLA on TensorFlow (tiny models compile longer than they train)

    def __post_init__(self):
        common_config.validate(self, known_models=KINDS)
        for name in ("layers", "bptt", "devices"):
            if getattr(self, name) < 1:
                raise ValueError(f"--{name} must be >= 1, got {getattr(self, name)}.")
        for name in ("dropout", "dropout_embedding"):
            if not 0.0 <= getattr(self, name) < 1.0:
                raise ValueError(f"--{name.replace('_', '-')} must be in [0, 1), got {getattr(self, name)}.")
        if self.strategy not in STRATEGIES:
            raise ValueError(f"--strategy {self.strategy!r} unknown; choose from {', '.join(STRATEGIES)}.")
        if self.strategy != "none" and self.batch_size % self.devices:
            raise ValueError(f"--batch-size {self.batch_size} must be a multiple of --devices "
                             f"{self.devices} for --strategy {self.strategy}.")

    @property
    def vocab_cap(self):
        if self.max_vocab is not None:
            return self.max_vocab
        return 10000 if self.data_dir else GENERATED_VOCAB


def parse_args(argv=None):
    d = Config()
    p = argparse.ArgumentParser(
        prog="python -m recipes.lm",
        description="Word-level language model (PTB layout): EGRU vs GRU, weight sparsity x "
                    "activity sparsity, data-parallel training.")
    p.add_argument("--data-dir", help="ptb.{train,valid,test}.txt or wiki.{train,valid,test}.tokens; "
                                      "default: a corpus generated from the standard library's docstrings")
    p.add_argument("--out", default=d.out)
    p.add_argument("--models", default=",".join(d.models), help=f"comma-separated, of {', '.join(KINDS)}")
    p.add_argument("--sweep", default=",".join(f"{s:g}" for s in d.sweep),
                   help="target weight sparsities trained for every model")
    p.add_argument("--max-vocab", type=int, default=None,
                   help=f"most frequent training words kept (others -> <unk>); default 10000 with "
                        f"--data-dir, {GENERATED_VOCAB} on the generated corpus")
    p.add_argument("--corpus-tokens", type=int, default=d.corpus_tokens)
    for name in ("units", "layers", "bptt", "batch_size", "epochs", "steps_per_epoch", "eval_batches",
                 "devices", "seed"):
        p.add_argument("--" + name.replace("_", "-"), type=int, default=getattr(d, name))
    for name in ("learning_rate", "dropout", "dropout_embedding", "activity_reg", "target_event_rate",
                 "threshold_init", "surrogate_height", "surrogate_width", "prune_begin", "prune_end"):
        p.add_argument("--" + name.replace("_", "-"), type=float, default=getattr(d, name))
    p.add_argument("--strategy", default=d.strategy, choices=STRATEGIES)
    p.add_argument("--no-plots", dest="plots", action="store_false")
    p.add_argument("--no-jit", dest="jit_compile", action="store_false", help="no XLA (TensorFlow)")
    args = vars(p.parse_args(argv))
    args["models"] = tuple(s.strip() for s in args["models"].split(",") if s.strip())
    args["sweep"] = common_config.comma_floats("--sweep", args["sweep"])
    return Config(**args)

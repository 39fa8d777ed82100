"""Harder evaluation protocols on the recipe's own generated data (``--protocol NAME``).

The default generated set was what the recipe's settings were tuned on; a user's own
set differs in voices, in how many other words fall into ``_unknown_`` and in size.
These protocols rebuild those differences from one *pool* of espeak-ng clips
(``generate.generate`` with the 20 :data:`generate.AUX_WORDS`: every one of the 96
speakers says each keyword twice and 12 auxiliary words), so a run never sees the data
it will be judged on and nothing is downloaded:

  default   the generated set as before (speaker-disjoint split, 10 unknown words).
  voices    voice-disjoint: two of the eight espeak-ng voice families (accents) are the
            test set, one the validation set, the other five train; the fold turns with
            the seed, so ``--seeds 0,1,2`` tests on different voice sets.
  unknown   ``_unknown_`` from 20 auxiliary words, half of which are never heard in
            training, as many unknown clips as 30 % of the keyword clips; ``_silence_``
            (windows of the background-noise recordings) 20 %.
  small     ~100 training clips per keyword (50 training speakers), speaker-disjoint.
  hard      all of the above: voice-disjoint, unseen unknown words, small training set.

Each protocol is a folder of symbolic links into the pool in the Speech Commands layout
(``<out>/protocols/<name>-seed<s>/``, with its own ``validation_list.txt`` and
``testing_list.txt``), read by ``data.SpeechCommands`` as any user's data would be.
"""

import dataclasses
import json
import os

import numpy as np

from recipes.kws import data as kws_data
from recipes.kws import generate

POOL_SEED = 0  # the pool's audio is fixed; the seed of a run picks the split
POOL_SIZE = dict(repeats=2, unknown_per_speaker=12, heldout_repeats=2,
                 heldout_unknown_per_speaker=12)
QUICK_POOL_SIZE = dict(n_speakers=24, repeats=1, unknown_per_speaker=4, heldout_repeats=1,
                       heldout_unknown_per_speaker=4)


@dataclasses.dataclass(frozen=True)
class Protocol:
    """How a protocol splits the pool.

    Attributes:
      voice_disjoint: hold out whole voice families (accents), not only speakers.
      unseen_unknown: held-out ``_unknown_`` clips are words never heard in training.
      train_speakers: at most this many training speakers (None: all the split leaves).
      unknown_fraction, silence_fraction: as ``data.SpeechCommands``.
    """

    name: str
    voice_disjoint: bool = False
    unseen_unknown: bool = False
    train_speakers: int = None
    unknown_fraction: float = 0.1
    silence_fraction: float = 0.1


PROTOCOLS = {p.name: p for p in (
    Protocol("default"),
    Protocol("voices", voice_disjoint=True),
    Protocol("unknown", unseen_unknown=True, unknown_fraction=0.3, silence_fraction=0.2),
    Protocol("small", train_speakers=50),
    Protocol("hard", voice_disjoint=True, unseen_unknown=True, train_speakers=50,
             unknown_fraction=0.3, silence_fraction=0.2),
)}


def get(name):
    """The protocol called ``name``; a ValueError listing the choices otherwise."""
    if name not in PROTOCOLS:
        raise ValueError(f"--protocol {name!r} unknown; choose from {', '.join(PROTOCOLS)}.")
    return PROTOCOLS[name]


def ensure_pool(pool_dir, quick=False, log=print):
    """Generates the pool into ``pool_dir`` unless it is there (``generator.json``)."""
    if os.path.exists(os.path.join(pool_dir, "generator.json")):
        return pool_dir
    if os.path.isdir(pool_dir):  # an interrupted earlier run: start over
        import shutil

        shutil.rmtree(pool_dir)
    log(f"generating the protocol pool (20 auxiliary words) into {pool_dir}")
    generate.generate(pool_dir, seed=POOL_SEED, unknown_words=generate.AUX_WORDS,
                      **(QUICK_POOL_SIZE if quick else POOL_SIZE))
    return pool_dir


def _speakers(pool_dir):
    with open(os.path.join(pool_dir, "generator.json"), encoding="utf-8") as f:
        stats = json.load(f)
    return sorted(s for names in stats["speakers"].values() for s in names)


def assign(protocol, speakers, seed):
    """``{speaker: split}`` for ``speakers`` ("voice+variant") under ``protocol``.

    Voice-disjoint: the eight voice families in a fixed shuffled order form four folds of
    two test families; fold ``seed % 4`` tests, the next family validates. Otherwise the
    speakers are shuffled by ``seed`` and 1/6 validate, 1/6 test. ``train_speakers``
    then keeps that many training speakers (seeded).
    """
    rng = np.random.default_rng([seed, 16])
    if protocol.voice_disjoint:
        families = sorted({s.split("+")[0] for s in speakers})
        order = [families[i] for i in np.random.default_rng(16).permutation(len(families))]
        k = len(order)
        test = {order[(2 * seed + j) % k] for j in (0, 1)}
        valid = {order[(2 * seed + 2) % k]}
        split = {s: "testing" if s.split("+")[0] in test else
                 "validation" if s.split("+")[0] in valid else "training" for s in speakers}
    else:
        order = [speakers[i] for i in rng.permutation(len(speakers))]
        n = max(1, len(order) // 6)
        split = {s: "validation" for s in order[:n]}
        split.update({s: "testing" for s in order[n:2 * n]})
        split.update({s: "training" for s in order[2 * n:]})
    if protocol.train_speakers is not None:
        train = sorted(s for s, v in split.items() if v == "training")
        keep = set(train[i] for i in rng.permutation(len(train))[:protocol.train_speakers])
        split = {s: v for s, v in split.items() if v != "training" or s in keep}
    return split


def unknown_words_for(protocol, split_name, seed):
    """The auxiliary words a split may use for ``_unknown_``: all 20, or (unseen_unknown)
    a seeded half for training and the other half for validation and testing."""
    words = generate.AUX_WORDS
    if not protocol.unseen_unknown:
        return set(words)
    order = [words[i] for i in np.random.default_rng([seed, 17]).permutation(len(words))]
    half = len(order) // 2
    return set(order[:half] if split_name == "training" else order[half:])


def build(protocol, pool_dir, out_dir, seed):
    """Writes the protocol's view of ``pool_dir`` to ``out_dir`` (symbolic links and split
    lists, rebuilt every time); returns ``out_dir``."""
    import shutil

    speakers = _speakers(pool_dir)
    split = assign(protocol, speakers, seed)
    by_id = {generate.speaker_id(s): v for s, v in split.items()}
    if os.path.isdir(out_dir):
        shutil.rmtree(out_dir)
    os.makedirs(out_dir)
    os.symlink(os.path.abspath(os.path.join(pool_dir, kws_data.BACKGROUND_DIR)),
               os.path.join(out_dir, kws_data.BACKGROUND_DIR))
    lists = {"validation": [], "testing": []}
    allowed = {name: unknown_words_for(protocol, name, seed) for name in kws_data.SPLITS}
    for word in sorted(os.listdir(pool_dir)):
        folder = os.path.join(pool_dir, word)
        if word.startswith("_") or not os.path.isdir(folder):
            continue
        os.makedirs(os.path.join(out_dir, word))
        for name in sorted(os.listdir(folder)):
            where = by_id.get(name.split("_")[0])
            if where is None or (word not in kws_data.KEYWORDS and word not in allowed[where]):
                continue
            os.symlink(os.path.abspath(os.path.join(folder, name)), os.path.join(out_dir, word, name))
            if where in lists:
                lists[where].append(f"{word}/{name}")
    for list_name, key in ((kws_data.VALIDATION_LIST, "validation"),
                           (kws_data.TESTING_LIST, "testing")):
        with open(os.path.join(out_dir, list_name), "w", encoding="utf-8") as f:
            f.writelines(p + "\n" for p in sorted(lists[key]))
    with open(os.path.join(out_dir, "protocol.json"), "w", encoding="utf-8") as f:
        json.dump({"protocol": dataclasses.asdict(protocol), "seed": seed,
                   "speakers": {k: sorted(s for s, v in split.items() if v == k)
                                for k in kws_data.SPLITS}}, f, indent=1)
    return out_dir

"""An offline corpus in the Penn Treebank layout, built from the documentation strings of
the Python standard library installed on this machine (no download).

``python -m recipes.lm.generate OUT [--max-tokens N]`` writes ``OUT/ptb.{train,valid,test}.txt``
and ``OUT/generator.json``. The text is processed like PTB (Mikolov et al. 2010): lower
case, numbers replaced by ``N``, punctuation removed, one sentence per line, and words
outside the 10k most frequent training words replaced by ``<unk>``. Docstrings are read
with ``ast`` (no module is imported) from the standard library's ``.py`` files in sorted
order; each file goes to one split (every 20th file to validation, the next one to test),
so the splits do not share sentences. The same Python installation gives the same files.
"""

import argparse
import ast
import collections
import hashlib
import json
import os
import re
import sysconfig

from recipes.lm.data import EOS, MAX_VOCAB, SPLITS, UNK

_WORD = re.compile(r"[a-z]+(?:'[a-z]+)?|\d+(?:[.,]\d+)*")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n\s*\n")
_CODE_LINE = re.compile(r"^\s*(>>>|\.\.\.|\$|[-=~*#]{3,})")


def source_files(root=None):
    """Sorted ``.py`` files of the standard library (without tests and site-packages)."""
    root = root or sysconfig.get_paths()["stdlib"]
    skip = {"site-packages", "test", "tests", "idlelib", "lib2to3", "__pycache__", "turtledemo"}
    files = []
    for folder, dirs, names in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in skip and not d.startswith("."))
        files.extend(os.path.join(folder, n) for n in sorted(names) if n.endswith(".py"))
    return sorted(files)


def docstrings(path):
    """The module, class and function docstrings of one file ([] if it does not parse)."""
    try:
        with open(path, encoding="utf-8") as f:
            tree = ast.parse(f.read())
    except (SyntaxError, UnicodeDecodeError, ValueError):
        return []
    nodes = [tree] + [n for n in ast.walk(tree)
                      if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))]
    return [d for d in (ast.get_docstring(n) for n in nodes) if d]


def sentences(text):
    """PTB-style sentences of a docstring: lines of code examples and rules dropped."""
    prose = "\n".join(line for line in text.splitlines() if not _CODE_LINE.match(line))
    for chunk in _SENTENCE_END.split(prose):
        words = ["N" if w[0].isdigit() else w for w in _WORD.findall(chunk.lower())]
        if len(words) >= 3:
            yield words


def build(out, max_tokens=400_000, max_vocab=MAX_VOCAB, root=None):
    """Writes the three splits to ``out``; returns the ``generator.json`` dict. The
    training split stops at about ``max_tokens`` tokens, validation and test at a tenth
    of that each (PTB: 929k / 73k / 82k)."""
    if max_tokens < 1000:
        raise ValueError(f"--max-tokens must be >= 1000, got {max_tokens}.")
    limits = {"train": max_tokens, "valid": max_tokens // 10, "test": max_tokens // 10}
    lines = {s: [] for s in SPLITS}
    counts = {s: 0 for s in SPLITS}
    digest = hashlib.sha256()
    files = source_files(root)
    for i, path in enumerate(files):
        split = "valid" if i % 20 == 0 else "test" if i % 20 == 1 else "train"
        if counts[split] >= limits[split]:
            if all(counts[s] >= limits[s] for s in SPLITS):
                break
            continue
        for doc in docstrings(path):
            for words in sentences(doc):
                lines[split].append(words)
                counts[split] += len(words) + 1  # + <eos>
        digest.update(os.path.relpath(path, root or sysconfig.get_paths()["stdlib"]).encode())
    frequency = collections.Counter(w for words in lines["train"] for w in words)
    kept = set(sorted(frequency, key=lambda w: (-frequency[w], w))[:max_vocab - 2])  # + <unk>, <eos>
    os.makedirs(out, exist_ok=True)
    for split in SPLITS:
        if not lines[split]:
            raise ValueError(f"no {split} text found under {root or 'the standard library'}.")
        with open(os.path.join(out, f"ptb.{split}.txt"), "w", encoding="utf-8") as f:
            for words in lines[split]:
                f.write(" " + " ".join(w if w in kept else UNK for w in words) + " \n")
    info = {"source": "docstrings of the Python standard library", "files": len(files),
            "files_digest": digest.hexdigest()[:16], "max_tokens": max_tokens,
            "max_vocab": max_vocab, "tokens": counts, "vocabulary": len(kept) + 2,
            "special": [UNK, EOS]}
    with open(os.path.join(out, "generator.json"), "w", encoding="utf-8") as f:
        json.dump(info, f, indent=1)
    return info


def ensure(out, max_tokens=400_000):
    """The corpus in ``out``, built once (reused while its ``generator.json`` matches)."""
    path = os.path.join(out, "generator.json")
    if os.path.isfile(path):
        with open(path, encoding="utf-8") as f:
            if json.load(f).get("max_tokens") == max_tokens:
                return out
    build(out, max_tokens)
    return out


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m recipes.lm.generate", description=__doc__.split("\n\n")[0])
    p.add_argument("out")
    p.add_argument("--max-tokens", type=int, default=400_000)
    p.add_argument("--max-vocab", type=int, default=MAX_VOCAB)
    args = p.parse_args(argv)
    print(json.dumps(build(args.out, args.max_tokens, args.max_vocab), indent=1))


if __name__ == "__main__":
    main()

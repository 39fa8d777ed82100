"""Deterministic mutations of a `.tflite` model for the fuzz tests.

`mutant(model, seed, k)` returns the k-th mutant of `model` under `seed` and a short
description; the same (model, seed, k) always gives the same bytes, so a crash found in a
batch is reproduced with `python tests/fuzz/worker.py ... --start k --count 1`.

Two families:
- raw: random byte and bit flips and truncations of the file (most give an invalid
  flatbuffer, which the loaders must reject);
- structural: the model unpacked with `keras_events.tflite_file`, one field made to lie,
  packed again, so the flatbuffer stays valid and only the content is wrong: tensor,
  buffer, op-code and subgraph indices out of range, shapes, types, quantization
  parameters, truncated weight buffers and corrupted `KE_EGRU` option flexbuffers.
"""
from __future__ import annotations

import numpy as np

from keras_events import tflite_file

# Out-of-range values tried for an index field of a table with n entries.
def _bad_index(rng, n):
    return int(rng.choice([-1, -2, n, n + 1, n + 1000, 2**31 - 1, -(2**31)]))


def _raw(model: bytes, rng) -> tuple[bytes, str]:
    data = bytearray(model)
    kind = rng.integers(3)
    if kind == 0:
        n = int(rng.integers(1, 5))
        pos = rng.integers(0, len(data), n)
        for p in pos:
            data[p] = int(rng.integers(256))
        return bytes(data), f"bytes {list(map(int, pos))} set"
    if kind == 1:
        n = int(rng.integers(1, 4))
        pos = rng.integers(0, len(data) * 8, n)
        for p in pos:
            data[p // 8] ^= 1 << (p % 8)
        return bytes(data), f"bits {list(map(int, pos))} flipped"
    cut = int(rng.integers(0, len(data)))
    return bytes(data[:cut]), f"truncated to {cut} bytes"


def _custom_ops(m):
    return [(g, op) for g in m.subgraphs for op in g.operators
            if m.operatorCodes[op.opcodeIndex].customCode]


def _mutate_options(m, rng) -> str:
    ops = _custom_ops(m)
    if not ops:
        return "no custom op"
    _, op = ops[int(rng.integers(len(ops)))]
    opts = bytearray(bytes(op.customOptions)) if op.customOptions is not None else bytearray()
    kind = rng.integers(4)
    if kind == 0 and opts:
        for p in rng.integers(0, len(opts), int(rng.integers(1, 4))):
            opts[p] = int(rng.integers(256))
        what = "bytes set"
    elif kind == 1 and opts:
        p = int(rng.integers(len(opts) * 8))
        opts[p // 8] ^= 1 << (p % 8)
        what = "bit flipped"
    elif kind == 2:
        opts = opts[: int(rng.integers(0, len(opts) + 1))]
        what = f"truncated to {len(opts)}"
    else:
        from flatbuffers import flexbuffers
        value = rng.choice([0, -1, 1, 2**15, 2**31 - 1, -(2**31)])
        key = str(rng.choice(["units", "return_sequences", "streaming"]))
        current = tflite_file.custom_options(op) if op.customOptions is not None else {}
        if not isinstance(current, dict):
            current = {}
        current[key] = int(value)
        opts = bytearray(flexbuffers.Dumps(current))
        what = f"{key}={int(value)}"
    op.customOptions = np.frombuffer(bytes(opts), np.uint8) if opts else None
    return f"custom options: {what}"


def _mutate_field(m, rng) -> str:
    g = m.subgraphs[0]
    nt, nb, nc = len(g.tensors), len(m.buffers), len(m.operatorCodes)
    kind = int(rng.integers(11))
    if kind == 0:  # an operator's input or output tensor index
        op = g.operators[int(rng.integers(len(g.operators)))]
        lst = op.inputs if rng.integers(2) else op.outputs
        i = int(rng.integers(len(lst)))
        lst[i] = _bad_index(rng, nt)
        return f"operator tensor index -> {lst[i]}"
    if kind == 1:  # an operator's input index pointing at another (valid) tensor
        op = g.operators[int(rng.integers(len(g.operators)))]
        i = int(rng.integers(len(op.inputs)))
        op.inputs[i] = int(rng.integers(nt))
        return f"operator input {i} -> tensor {op.inputs[i]}"
    if kind == 2:  # a tensor's buffer index
        t = g.tensors[int(rng.integers(nt))]
        t.buffer = _bad_index(rng, nb) if rng.integers(2) else int(rng.integers(nb))
        return f"tensor buffer -> {t.buffer}"
    if kind == 3:  # an operator's op-code index
        op = g.operators[int(rng.integers(len(g.operators)))]
        op.opcodeIndex = _bad_index(rng, nc) & 0xFFFFFFFF if rng.integers(2) else int(rng.integers(nc))
        return f"opcode index -> {op.opcodeIndex}"
    if kind == 4:  # subgraph inputs/outputs
        lst = g.inputs if rng.integers(2) else g.outputs
        lst[0] = _bad_index(rng, nt) if rng.integers(2) else int(rng.integers(nt))
        return f"subgraph io -> {lst[0]}"
    if kind == 5:  # a tensor's shape
        t = g.tensors[int(rng.integers(nt))]
        shape = list(t.shape) if t.shape is not None else []
        choice = int(rng.integers(3))
        if choice == 0 and shape:
            shape[int(rng.integers(len(shape)))] = int(rng.choice([0, -1, 1, 2, 7, 2**20, 2**31 - 1]))
        elif choice == 1:
            shape = shape + [1]
        else:
            shape = shape[:-1]
        t.shape = np.asarray(shape, np.int32)
        t.shapeSignature = None
        return f"tensor shape -> {shape}"
    if kind == 6:  # a tensor's type
        t = g.tensors[int(rng.integers(nt))]
        t.type = int(rng.choice([0, 1, 2, 3, 4, 6, 7, 9, 17, 60]))
        return f"tensor type -> {t.type}"
    if kind == 7:  # quantization parameters
        t = g.tensors[int(rng.integers(nt))]
        q = t.quantization or tflite_file.schema().QuantizationParametersT()
        choice = int(rng.integers(4))
        if choice == 0:
            q.scale = np.asarray([rng.choice([0.0, -1.0, np.inf, np.nan, 1e-30, 1e30])], np.float32)
        elif choice == 1:
            q.zeroPoint = np.asarray([rng.choice([-129, 128, 2**31 - 1, -(2**31)])], np.int64)
        elif choice == 2:
            q.scale = np.ones(int(rng.integers(2, 9)), np.float32)
            q.zeroPoint = np.zeros(int(rng.integers(0, 9)), np.int64)
        else:
            q.quantizedDimension = int(rng.choice([-1, 1, 5, 2**31 - 1]))
            q.scale = np.ones(int(rng.integers(2, 9)), np.float32)
        t.quantization = q
        return f"quantization ({choice})"
    if kind == 8:  # a weight buffer shorter or longer than its tensor
        idx = [i for i, b in enumerate(m.buffers) if b.data is not None and len(b.data)]
        b = m.buffers[idx[int(rng.integers(len(idx)))]]
        n = len(b.data)
        new = int(rng.integers(0, n)) if rng.integers(2) else n + int(rng.integers(1, 64))
        b.data = np.resize(b.data, new).astype(np.uint8)
        return f"buffer {n} -> {new} bytes"
    if kind == 9:  # an op code's builtin number or custom name
        c = m.operatorCodes[int(rng.integers(nc))]
        if rng.integers(2):
            c.builtinCode = int(rng.integers(0, 210))
            c.deprecatedBuiltinCode = min(c.builtinCode, 127)
            c.customCode = None
            return f"op code -> builtin {c.builtinCode}"
        c.builtinCode, c.deprecatedBuiltinCode = 32, 32
        c.customCode = str(rng.choice(["KE_EGRU", "KE_NOPE", ""]))
        return f"op code -> custom {c.customCode!r}"
    # kind 10: a tensor's contents replaced by random bytes of the same length (weights,
    # index lists, offsets, scales all lie at once)
    idx = [i for i, b in enumerate(m.buffers) if b.data is not None and len(b.data)]
    b = m.buffers[idx[int(rng.integers(len(idx)))]]
    b.data = rng.integers(0, 256, len(b.data)).astype(np.uint8)
    return "buffer contents randomized"


def mutant(model: bytes, seed: int, k: int) -> tuple[bytes, str]:
    """The k-th mutant of `model`: raw (1/3), options (1/6), structural (1/2)."""
    rng = np.random.default_rng([seed, k])
    family = rng.integers(6)
    if family < 2:
        return _raw(model, rng)
    m = tflite_file.load(model)
    what = _mutate_options(m, rng) if family == 2 else _mutate_field(m, rng)
    try:
        return tflite_file.dump(m), what
    except Exception as e:  # the packer refused the value (e.g. an int32 overflow)
        return model[: len(model) // 2], f"{what} (unpackable: {type(e).__name__}; truncated)"

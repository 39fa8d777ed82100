"""`representative_data` of `to_tflite(..., quantize="int8")`: accepted forms, checked
before conversion.

Accepted: a numpy array (or anything `np.asarray` takes) of samples `(N, ...)`; a list or
tuple with one such array per model input; an iterable (list, generator) of sample arrays
or batches; a `tf.data.Dataset` of samples or batches (elements may be `(x, y)` pairs, as
for `fit`: `y` is ignored). Every input ends up as one float32 array `(N, ...)` that is
non-empty, finite, numeric and has the model input's rank and shape. The converter's
calibrator does none of these checks (an `inf` crashed it).
"""
from __future__ import annotations

import numpy as np

ARG = "`representative_data`"


def _as_array(x, what):
    if hasattr(x, "numpy"):  # tf.Tensor
        x = x.numpy()
    try:
        a = np.asarray(x)
    except Exception as e:  # ragged lists and the like
        raise ValueError(f"{ARG}: {what} cannot be read as an array ({e}); pass numpy arrays "
                         f"of input samples.") from None
    if a.dtype == object or a.dtype.kind not in "biuf":
        raise ValueError(f"{ARG}: {what} has dtype {a.dtype}; pass real numbers (float32 "
                         f"input samples).")
    return a


def _elements(data, n_inputs):
    """The per-input pieces of each element of an iterable / dataset."""
    for element in data:
        if isinstance(element, dict):
            raise ValueError(f"{ARG}: dataset elements are dicts; give arrays (or tuples of "
                             f"one array per model input).")
        if isinstance(element, (tuple, list)):
            if len(element) == n_inputs:
                yield list(element)
            elif len(element) == n_inputs + 1 or (n_inputs == 1 and len(element) == 2):
                yield list(element[:n_inputs])  # (x, y) pairs as for fit: y is ignored
            elif n_inputs == 1 and isinstance(element[0], (tuple, list)) and len(element[0]) == 1:
                yield list(element[0])
            else:
                raise ValueError(f"{ARG}: an element holds {len(element)} arrays; the model "
                                 f"has {n_inputs} input(s).")
        else:
            yield [element]


def _collect(data, n_inputs, input_ranks):
    """An iterable of samples or batches -> one array per input."""
    parts = [[] for _ in range(n_inputs)]
    for element in _elements(data, n_inputs):
        for k, x in enumerate(element):
            a = _as_array(x, f"input {k} of an element")
            if a.ndim == input_ranks[k] - 1:  # one sample: add the batch axis
                a = a[None]
            parts[k].append(a)
    if not parts[0]:
        raise ValueError(f"{ARG} is empty; give at least one calibration sample (a few "
                         f"hundred are typical).")
    out = []
    for k, p in enumerate(parts):
        shapes = {a.shape[1:] for a in p}
        if len(shapes) > 1:
            raise ValueError(f"{ARG}: input {k} has samples of different shapes {sorted(shapes)}.")
        out.append(np.concatenate(p))
    return out


def check_representative_data(model, data, streaming=False):
    """`data` as validated float32 arrays: one array `(N, ...)` for a single-input model,
    else a list with one per input. Raises ValueError naming the argument and the fix."""
    input_shapes = [tuple(t.shape) for t in model.inputs]
    n = len(input_shapes)
    ranks = [len(s) for s in input_shapes]
    if streaming:  # whole sequences (N, T, features), fed frame by frame later
        ranks = [3]
    if isinstance(data, np.ndarray) or (hasattr(data, "numpy") and hasattr(data, "shape")):
        arrays = [_as_array(data, "the array")]
    elif type(data).__name__ in ("DatasetV2", "DatasetV1") or hasattr(data, "as_numpy_iterator"):
        arrays = _collect(data.as_numpy_iterator(), n, ranks)
    elif isinstance(data, (list, tuple)) and n > 1 and len(data) == n and all(
            np.ndim(d) == r for d, r in zip(data, ranks)):
        arrays = [_as_array(d, f"input {k}") for k, d in enumerate(data)]
    elif isinstance(data, (list, tuple)) and data and all(np.ndim(d) == ranks[0] for d in data) \
            and n == 1 and not isinstance(data[0], (int, float)):
        arrays = [_as_array(np.concatenate([_as_array(d, "an element") for d in data]), "it")]
    elif isinstance(data, (list, tuple)) or not hasattr(data, "__iter__"):
        arrays = [_as_array(data, "it")]
    else:
        arrays = _collect(data, n, ranks)
    if len(arrays) != n:
        raise ValueError(f"{ARG} gives {len(arrays)} input(s); the model has {n}: pass a list "
                         f"with one array per input.")
    for k, (a, shape, rank) in enumerate(zip(arrays, input_shapes, ranks)):
        name = f"{ARG}" + (f" input {k}" if n > 1 else "")
        if a.size == 0:
            raise ValueError(f"{name} is empty (shape {a.shape}); give at least one "
                             f"calibration sample (a few hundred are typical).")
        if a.ndim != rank:
            want = "(sequences, frames, features)" if streaming else f"(samples, {', '.join(str(d) for d in shape[1:])})"
            raise ValueError(f"{name} has shape {a.shape}; expected rank {rank}: {want}.")
        expected = shape[1:] if not streaming else (None, shape[-1])
        if any(e is not None and e != d for e, d in zip(expected, a.shape[1:])):
            raise ValueError(f"{name} has samples of shape {a.shape[1:]}; the model input "
                             f"expects {tuple(expected)} (reshape the data or the model input).")
        bad = ~np.isfinite(a.astype(np.float64, copy=False)) if a.dtype.kind == "f" else None
        if bad is not None and bad.any():
            first = tuple(int(i) for i in np.argwhere(bad)[0])
            raise ValueError(f"{name} has {int(bad.sum())} non-finite value(s) (NaN or inf), "
                             f"the first at index {first}; calibration needs finite inputs: "
                             f"clean or drop those samples.")
    arrays = [a.astype(np.float32) for a in arrays]
    return arrays[0] if n == 1 else arrays

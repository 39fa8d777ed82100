"""Runs a batch of mutants through the loaders, in its own process (a crash must not kill
pytest): ``python tests/fuzz/worker.py PATHS MODEL SEED START COUNT``.

PATHS is a comma-separated list of ``tflite`` (keras_events.export.Interpreter: host TFLite + the project's op
library), ``tflm`` (keras_events.micro.Interpreter: host TFLite Micro) or ``cli`` (the
``python -m keras_events.micro run --board host`` entry point, called in-process).
For each mutant and path it prints ``BEGIN k path`` before running it and
``END k path <outcome>`` after (flushed), outcome ``ok`` or the exception's type; a process that dies leaves the
culprit as the last ``BEGIN`` without an ``END``. A failure must be one of the loaders'
documented errors: a ValueError while loading and allocating (a model is an argument), a
ValueError or RuntimeError while running; anything else prints ``BAD``.
"""
from __future__ import annotations

import contextlib
import io
import os
import pathlib
import sys
import tempfile

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from mutate import mutant  # noqa: E402

CLEAN = (ValueError, RuntimeError)
# "load" until a runner has an allocated interpreter, then "run" (set by the runners).
PHASE = ["load"]


def _inputs(details, rng):
    xs = []
    for d in details:
        shape, dtype = tuple(d["shape"]), np.dtype(d["dtype"])
        if np.prod(shape, dtype=np.int64) > 1 << 20:
            raise ValueError(f"fuzz: input shape {shape} too large to feed")
        if dtype.kind == "f":
            xs.append(rng.standard_normal(shape).astype(dtype))
        else:
            info = np.iinfo(dtype)
            xs.append(rng.integers(max(info.min, -128), min(info.max, 127) + 1, shape).astype(dtype))
    return xs


def run_tflite(model, rng):
    from keras_events.export import Interpreter
    interp = Interpreter(model_content=model)
    interp.allocate_tensors()
    PHASE[0] = "run"
    details = interp.get_input_details()
    for d, x in zip(details, _inputs(details, rng)):
        interp.set_tensor(d["index"], x)
    interp.invoke()
    for d in interp.get_output_details():
        interp.get_tensor(d["index"])


def run_tflm(model, rng):
    from keras_events.micro import Interpreter, host_interpreter
    # Straight to the C checks the firmware relies on (the CLI path keeps the Python ones).
    host_interpreter._check_structure = lambda *args: None
    with Interpreter(model, arena_size=64 * 1024) as interp:
        PHASE[0] = "run"
        xs = _inputs(interp.get_input_details(), rng)
        interp.run(*xs)
        interp.reset_state()
        interp.run(*xs)


def run_cli(model, rng, workdir=pathlib.Path(tempfile.mkdtemp(prefix="ke_fuzz_"))):
    from keras_events.micro.__main__ import main
    path = workdir / "model.tflite"
    path.write_bytes(model)
    np.save(workdir / "x.npy", run_cli.x)
    err = io.StringIO()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
        status = main(["run", str(path), "--input", str(workdir / "x.npy"), "--board", "host"])
    if status != 0:  # the CLI caught the exception and printed one `error:` line
        if not err.getvalue().startswith("error: "):
            raise AssertionError(f"exit {status} without an error line: {err.getvalue()!r}")
        raise ValueError(err.getvalue())


RUNNERS = {"tflite": run_tflite, "tflm": run_tflm, "cli": run_cli}


def main(argv):
    paths, model_path, seed, start, count = argv[0].split(","), argv[1], *map(int, argv[2:5])
    model = pathlib.Path(model_path).read_bytes()
    if "cli" in paths:  # an input of the unmutated model's shape: the CLI checks the rest
        run_cli.x = np.load(pathlib.Path(model_path).with_suffix(".x.npy"))
    # Warm up (build/load the op libraries) on the valid model: it must run.
    for path in paths:
        RUNNERS[path](model, np.random.default_rng(0))
    print("READY", flush=True)
    for k in range(start, start + count):
        bad, what = mutant(model, seed, k)
        for path in paths:
            print(f"BEGIN {k} {path} {what}", flush=True)
            PHASE[0] = "load" if path != "cli" else "run"  # the CLI reports one error line
            try:
                RUNNERS[path](bad, np.random.default_rng(k))
                outcome = "ok"
            except CLEAN as e:
                outcome = type(e).__name__
                if PHASE[0] == "load" and not isinstance(e, ValueError):
                    outcome = f"BAD {outcome} while loading (must be a ValueError): {str(e)[:200]!r}"
            except Exception as e:  # noqa: BLE001 (reported, the test fails on it)
                outcome = f"BAD {type(e).__name__}: {str(e)[:200]!r}"
            print(f"END {k} {path} {outcome}", flush=True)
    return 0


if __name__ == "__main__":
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    sys.exit(main(sys.argv[1:]))

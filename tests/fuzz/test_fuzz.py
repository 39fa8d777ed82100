"""Fuzzing the loaders: mutated float and int8 EGRU and delta-op models (tests/fuzz/mutate.py) through
the host TFLite path (`keras_events.export.Interpreter`), the host TFLite Micro path
(`keras_events.micro.Interpreter`, straight to the C checks of micro/harness/
ke_model_check.cc and the KE_EGRU Prepare) and `python -m keras_events.micro run --board
host`. Each batch runs in a subprocess (tests/fuzz/worker.py), so a crash fails the test
instead of killing pytest; a batch that dies is resumed after the mutant it died on, so
one run names every culprit. Asserted: no signal, every failure a clean error (ValueError
while loading and allocating, ValueError/RuntimeError while running).

Default: 5 models (EGRU float, int8, streaming float; KE_DELTA_GRU int8, KE_DELTA_LSTM float)
x 80 mutants x 3 paths (1,200 runs, fixed seed); the `slow` variant runs 5 x 2,000 mutants
(30,000 runs).

`test_fuzz_loaders_sanitized` (slow) runs the same corpus through the host TFLM paths
(tflm, cli: no TensorFlow in the worker) with the worker under AddressSanitizer/UBSan (the
ASan build of libke_tflm.so: TFLM, the kernels, the model checks): 5 x 1,000 mutants x 2
paths (10,000 runs) in `make test-all`, 5 x 80 (800 runs, KE_FUZZ_SANITIZE_COUNT=80) in
`make test-sanitize`. A sanitizer report aborts the worker and is quoted in the failure.
By hand:

    KERAS_BACKEND=numpy KE_MICRO_SANITIZE=1 ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 \
    UBSAN_OPTIONS=halt_on_error=1 LD_PRELOAD=$(gcc -print-file-name=libasan.so):$(gcc \
    -print-file-name=libubsan.so) python tests/fuzz/worker.py tflm,cli DIR/int8.tflite 3 0 300

on models written by `python tests/fuzz/make_models.py DIR`.
"""
import os
import pathlib
import re
import subprocess
import sys

import pytest

from make_models import write_models

pytestmark = pytest.mark.tensorflow_only

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parents[1]
PATHS = "tflite,tflm,cli"
# Fixed by default; KE_FUZZ_SEED / KE_FUZZ_COUNT explore further (a crash report names the
# seed in its reproduce command).
SEED = int(os.environ.get("KE_FUZZ_SEED", 19))
COUNT = int(os.environ.get("KE_FUZZ_COUNT", 80))
SANITIZE_COUNT = int(os.environ.get("KE_FUZZ_SANITIZE_COUNT", 1000))


@pytest.fixture(scope="module")
def seed_models(tmp_path_factory):
    return write_models(tmp_path_factory.mktemp("fuzz_models"))


def sanitizer_env() -> dict:
    """Environment of a worker under ASan/UBSan: gcc's runtimes preloaded (the Python binary
    is not instrumented), the ASan build of libke_tflm.so, no TensorFlow (Keras on numpy)."""
    def runtime(name):
        return subprocess.run(["gcc", f"-print-file-name={name}"], capture_output=True, text=True,
                              check=True).stdout.strip()
    return {"KERAS_BACKEND": "numpy", "KE_MICRO_SANITIZE": "1",
            "ASAN_OPTIONS": "detect_leaks=0:abort_on_error=1",
            "UBSAN_OPTIONS": "halt_on_error=1:print_stacktrace=1",
            "LD_PRELOAD": f"{runtime('libasan.so')}:{runtime('libubsan.so')}"}


def run_batch(model: pathlib.Path, start: int, count: int, timeout: float, paths: str = PATHS,
              extra_env: dict | None = None) -> tuple[dict, list]:
    """Outcome per (mutant, path) and the crashes as (mutant, path, description, status,
    the end of the worker's stderr)."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
               TF_CPP_MIN_LOG_LEVEL="3", **(extra_env or {}))
    outcomes, crashes, end = {}, [], start + count
    while start < end:
        proc = subprocess.run([sys.executable, str(HERE / "worker.py"), paths, str(model),
                               str(SEED), str(start), str(end - start)],
                              capture_output=True, text=True, timeout=timeout, env=env, cwd=ROOT)
        begun = None
        for line in proc.stdout.splitlines():
            if line.startswith("BEGIN "):
                begun = line.split(" ", 3)
            elif line.startswith("END "):
                _, k, path, outcome = line.split(" ", 3)
                outcomes[(int(k), path)] = outcome
                begun = None
        if proc.returncode == 0:
            break
        if begun is None:  # died outside a mutant (start-up): nothing to resume
            pytest.fail(f"fuzz worker failed (exit {proc.returncode}):\n{proc.stderr[-3000:]}")
        k = int(begun[1])
        crashes.append((k, begun[2], begun[3], proc.returncode, proc.stderr[-2000:]))
        start = k + 1  # resume with the next mutant
    return outcomes, crashes


def check(seed_models, count, timeout, paths=PATHS, extra_env=None):
    report = []
    runs = 0
    for name, model in seed_models.items():
        outcomes, crashes = run_batch(model, 0, count, timeout, paths, extra_env)
        runs += len(outcomes) + len(crashes)
        for k, path, what, status, stderr in crashes:
            report.append(f"{name} mutant {k} ({what}) killed the {path} path with "
                          f"{'signal ' + str(-status) if status < 0 else 'exit ' + str(status)}; "
                          f"reproduce: python tests/fuzz/worker.py {path} {model} {SEED} {k} 1"
                          + (f" (sanitized)\n{stderr}" if extra_env else ""))
        for (k, path), outcome in sorted(outcomes.items()):
            if outcome.startswith("BAD"):
                report.append(f"{name} mutant {k} via {path}: {outcome}")
        # Every path must both run some mutants and reject others (a fuzzer whose mutants
        # all fail at the door, or are all harmless, tests nothing).
        for path in paths.split(","):
            kinds = {o == "ok" for (k, p), o in outcomes.items() if p == path}
            assert kinds == {True, False}, f"{name} via {path}: outcomes {kinds}"
    assert not report, "\n".join(report)
    return runs


def test_fuzz_loaders(seed_models):
    runs = check(seed_models, COUNT, timeout=600 + COUNT)
    assert runs >= 300


@pytest.mark.slow
def test_fuzz_loaders_long(seed_models):
    runs = check(seed_models, 2000, timeout=7200)
    assert runs >= 5000


@pytest.fixture(scope="module")
def asan_host_lib():
    """The ASan/UBSan build of libke_tflm.so, built here (not under the preloaded runtimes)."""
    from keras_events.micro import host_lib
    return host_lib.build_host_library(True)


@pytest.mark.slow
def test_fuzz_loaders_sanitized(seed_models, asan_host_lib):
    """5 x SANITIZE_COUNT mutants x 2 paths under ASan/UBSan (`make test-sanitize`: 80,
    800 runs; `make test-all`: 1,000, 10,000 runs)."""
    runs = check(seed_models, SANITIZE_COUNT, timeout=1200 + 8 * SANITIZE_COUNT, paths="tflm,cli",
                 extra_env=sanitizer_env())
    assert runs >= min(5000, 6 * SANITIZE_COUNT)

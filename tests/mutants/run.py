"""Mutation check: break the library on purpose, one named mutant at a time, and check that
the default test run notices (`python tests/mutants/run.py`; `make test-mutants`).

Each mutant is an exact text replacement (the text must occur exactly once in the file,
or, for C, in exactly one of ``custom_ops/core/*.c|*.h``: the C core is being split
into shared primitives, so the snippet is located by search, not by file name). The
mutants are applied to a copy of the committed tree (``git archive HEAD`` into a
temporary directory; the repository itself is never modified), and only the test files
relevant to each mutant run -- all of them part of the default ``make test`` run.

A mutant is *killed* when its tests fail (pytest exit status 1, or a failing C unit
test binary; the report names which), *survived* when they pass, an *error* when they
cannot run (build or collection error: fix the runner, it proves nothing). Before the mutants, the same tests run on the
unmodified copy and must pass, so that a kill means the mutant and nothing else broke
them. Exit status 0 only if every mutant is killed.

    python tests/mutants/run.py                 # all mutants, TensorFlow backend
    python tests/mutants/run.py --list
    python tests/mutants/run.py output_stop_gradient reset_after_decay
    python tests/mutants/run.py --backend jax   # the Python mutants under JAX instead
"""

import argparse
import dataclasses
import glob
import os
import shutil
import subprocess
import sys
import tempfile
import time

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))

CELL = "keras_events/cells/egru.py"
SURROGATES = "keras_events/surrogates.py"
WRAPPER = "keras_events/sparsity/pruning_wrapper.py"
C_CORE = "custom_ops/core/*.[ch]"

GRADIENT_TESTS = ["tests/cells/test_egru_gradients.py"]
CELL_TESTS = ["tests/cells/test_egru.py", "tests/cells/test_egru_gradients.py"]
PRUNE_TESTS = ["tests/sparsity/test_prune.py::test_gradient_of_pruned_weights_is_zero_and_rnn_is_prunable",
               "tests/sparsity/test_prune.py::test_masks_stay_zero_through_training_and_a_keras_round_trip_continues"]
INT8_TESTS = ["tests/export/test_export_core.py::test_int8_kernel_bit_exact_with_numpy_model",
              "tests/export/test_export_int8.py::test_int8_op_output_is_bit_exact_with_numpy_model"]
# The C unit tests (`make test-core`), built from the copy's sources.
C_UNIT_TEST = "c-unit-test"


@dataclasses.dataclass
class Mutant:
    name: str
    what: str
    path: str                 # file, or a glob searched for the unique snippet (C core)
    edits: list               # [(old, new), ...] exact replacements, each old unique
    tests: list               # pytest node ids / files, or C_UNIT_TEST


MUTANTS = [
    Mutant("output_stop_gradient", "surrogate removed from the output path: y = c * stop_gradient(e)",
           CELL, [("y = c * e\n", "y = c * ops.stop_gradient(e)\n")], GRADIENT_TESTS),
    Mutant("reset_stop_gradient", "no gradient through the reset term: ĉ = c - stop_gradient(e ϑ)",
           CELL, [("c_next = c - e * threshold", "c_next = c - ops.stop_gradient(e * threshold)")],
           GRADIENT_TESTS),
    Mutant("threshold_gradient", "wrong threshold gradient: e = H(c - stop_gradient(ϑ))",
           CELL, [("e = self.surrogate(c - threshold)", "e = self.surrogate(c - ops.stop_gradient(threshold))")],
           GRADIENT_TESTS),
    Mutant("reset_after_decay", "reset applied after the (1 - u) decay: c = u z + (1 - u) c_{t-1} - e_{t-1} ϑ",
           CELL, [("c = u * z + (1.0 - u) * c_prev\n",
                   "c = u * z + (1.0 - u) * c_prev - u * ops.cast(ops.not_equal(y_prev, 0), c_prev.dtype)"
                   " * ops.cast(self.threshold, c_prev.dtype)\n")], CELL_TESTS),
    Mutant("psi_width_doubled", "triangle ψ twice as wide (derivative and antiderivative consistently)",
           SURROGATES, [("ops.relu(1.0 - ops.abs(x) / self.width)", "ops.relu(1.0 - ops.abs(x) / (2.0 * self.width))"),
                        ("xc = ops.clip(x, -self.width, self.width)",
                         "xc = ops.clip(x, -2.0 * self.width, 2.0 * self.width)"),
                        ("xc * ops.abs(xc) / (2.0 * self.width)", "xc * ops.abs(xc) / (4.0 * self.width)")],
           ["tests/test_surrogates.py"] + GRADIENT_TESTS),
    Mutant("recurrent_mask_dropped", "pruning mask not applied to the recurrent kernel (only the first "
           "prunable weight, the input kernel, is masked)",
           WRAPPER, [("for w, m in zip(self.pruned_weights, self.masks)}",
                      "for w, m in zip(self.pruned_weights[:1], self.masks[:1])}")], PRUNE_TESTS),
    Mutant("int8_requant_truncates", "int8 requantization truncates instead of rounding half up "
           "(C core, rounding shift)",
           C_CORE, [("return (x + ((int64_t)1 << (n - 1))) >> n;", "return x >> n;")],
           [C_UNIT_TEST] + INT8_TESTS),
]


def _locate(root, mutant):
    """The one file under ``root`` holding every ``old`` snippet exactly once."""
    candidates = sorted(glob.glob(os.path.join(root, mutant.path)))
    hits = []
    for path in candidates:
        with open(path, encoding="utf-8") as f:
            text = f.read()
        counts = [text.count(old) for old, _ in mutant.edits]
        if any(counts):
            hits.append((path, counts))
    if len(hits) != 1 or any(c != 1 for c in hits[0][1]):
        where = ", ".join(f"{os.path.relpath(p, root)} {c}" for p, c in hits) or "nowhere"
        raise RuntimeError(f"mutant {mutant.name}: each snippet must occur exactly once in one file of "
                           f"{mutant.path}; found {where}. Update tests/mutants/run.py.")
    return hits[0][0]


def _run_tests(root, tests, env, log):
    """{suite: status} for the C unit tests and pytest: 0 pass, 1 a test failed, other = could
    not run (collection or build error). Both suites always run, so the report shows each
    suite that kills a mutant."""
    status = {}
    pytest_targets = [t for t in tests if t != C_UNIT_TEST]
    if C_UNIT_TEST in tests:
        binary = os.path.join(root, "build", "mutant_test_core")
        os.makedirs(os.path.dirname(binary), exist_ok=True)
        sources = sorted(glob.glob(os.path.join(root, "custom_ops", "core", "*.c")))
        build = subprocess.run(["cc", "-std=c99", "-O2", "-o", binary,
                                os.path.join(root, "custom_ops", "tests", "test_core.c"), *sources, "-lm"],
                               cwd=root, capture_output=True, text=True)
        log.write(build.stdout + build.stderr)
        if build.returncode != 0:
            status["C unit tests"] = 2
        else:
            unit = subprocess.run([binary], cwd=root, capture_output=True, text=True)
            log.write(unit.stdout + unit.stderr)
            status["C unit tests"] = 1 if unit.returncode else 0
    if pytest_targets:
        done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider",
                               *pytest_targets], cwd=root, env=env, capture_output=True, text=True)
        log.write(done.stdout[-20000:] + done.stderr[-5000:])
        status["pytest"] = done.returncode
    log.flush()
    return status


def _copy_tree(dest):
    """The committed tree (HEAD) of the repository, without touching its git metadata."""
    archive = subprocess.run(["git", "-C", REPO, "archive", "--format=tar", "HEAD"], check=True,
                             capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", dest], input=archive, check=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", help="mutants to run (default: all)")
    parser.add_argument("--list", action="store_true", help="list the mutants and exit")
    parser.add_argument("--backend", default="tensorflow", help="KERAS_BACKEND for the pytest runs")
    parser.add_argument("--no-baseline", action="store_true", help="skip the unmutated run")
    parser.add_argument("--keep", action="store_true", help="keep the temporary copy and logs")
    args = parser.parse_args(argv)
    if args.list:
        for m in MUTANTS:
            print(f"{m.name:<24} {m.what}")
        return 0
    unknown = set(args.names) - {m.name for m in MUTANTS}
    if unknown:
        parser.error(f"unknown mutant(s) {sorted(unknown)}; see --list")
    selected = [m for m in MUTANTS if not args.names or m.name in args.names]

    root = tempfile.mkdtemp(prefix="ke-mutants-")
    env = dict(os.environ, KERAS_BACKEND=args.backend, PYTHONDONTWRITEBYTECODE="1",
               TF_CPP_MIN_LOG_LEVEL="3")
    if "TFLM_DIR" not in env:  # the Makefile exports it; otherwise the usual places
        candidates = [os.path.join(REPO, *[".."] * up, "shared", "third_party", "tflm") for up in (1, 2)]
        env["TFLM_DIR"] = os.path.abspath(next((c for c in candidates if os.path.isdir(c)), candidates[0]))
    env["PYTHONPATH"] = root  # the copy's keras_events, not an installed one
    results = []
    try:
        _copy_tree(root)
        print(f"copy of HEAD in {root} (backend {args.backend})", flush=True)
        with open(os.path.join(root, "mutants.log"), "w") as log:
            if not args.no_baseline:
                tests = list(dict.fromkeys(t for m in selected for t in m.tests))
                start = time.time()
                log.write("=== baseline\n")
                status = _run_tests(root, tests, env, log)
                failed = any(status.values())
                print(f"baseline (unmutated): {'FAIL' if failed else 'pass'} "
                      f"({time.time() - start:.0f} s)", flush=True)
                if failed:
                    print(f"the unmutated tests fail; see {root}/mutants.log")
                    args.keep = True
                    return 1
            for m in selected:
                path = _locate(root, m)
                with open(path, encoding="utf-8") as f:
                    original = f.read()
                mutated = original
                for old, new in m.edits:
                    mutated = mutated.replace(old, new)
                start = time.time()
                log.write(f"=== {m.name}: {os.path.relpath(path, root)}\n")
                try:
                    with open(path, "w", encoding="utf-8") as f:
                        f.write(mutated)
                    status = _run_tests(root, m.tests, env, log)
                finally:
                    with open(path, "w", encoding="utf-8") as f:
                        f.write(original)
                errors = {k: v for k, v in status.items() if v not in (0, 1)}
                killers = [k for k, v in status.items() if v == 1]
                verdict = (f"ERROR {errors}" if errors else "killed" if killers else "SURVIVED")
                results.append((m.name, verdict))
                by = f" by {' + '.join(killers)}" if killers else ""
                print(f"{m.name:<24} {verdict}{by} ({time.time() - start:.0f} s)  "
                      f"{os.path.relpath(path, root)}: {m.what}", flush=True)
    finally:
        if args.keep:
            print(f"kept {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)
    killed = sum(v == "killed" for _, v in results)
    print(f"{killed}/{len(results)} mutants killed")
    return 0 if killed == len(results) else 1


if __name__ == "__main__":
    sys.exit(main())

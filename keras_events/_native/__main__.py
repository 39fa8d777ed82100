"""``python -m keras_events._native build TARGET... | test core|sanitize | ops``.

The Makefile's native targets call this. ``build`` prints each output path; ``test`` builds
and runs the C unit tests of ``custom_ops/tests``; ``ops`` prints the manifest.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys

if __package__ in (None, ""):  # `python keras_events/_native` is not supported
    raise SystemExit("run: python -m keras_events._native ...")

from . import board, host, manifest, tflm  # noqa: E402


def _targets(jobs: int) -> dict:
    return {
        "ops": ("host TFLite op library keras_events/export/_ke_ops.so", host.build_ops_library),
        "core": ("core library keras_events/export/_ke_core.so (ctypes)", host.build_core_library),
        "test-core": ("C unit tests of custom_ops/core", host.build_core_tests),
        "logmel": ("log-mel front end, host shared library", host.build_logmel_library),
        "logmel-q": ("fixed-point log-mel front end, host shared library",
                     lambda: host.build_front_end_library("logmel_q")),
        "tflm-m4": ("TFLM static library, Cortex-M4F (cached)", lambda: tflm.build_library("m4", jobs=jobs, verbose=True)),
        "tflm-m0": ("TFLM static library, Cortex-M0 / ARMv6-M (cached)", lambda: tflm.build_library("m0", jobs=jobs, verbose=True)),
        "tflm-host": ("TFLM static library, x86-64 (cached)", lambda: tflm.build_library("host", jobs=jobs, verbose=True)),
        "tflm-host-asan": ("TFLM static library, x86-64 ASan/UBSan (cached)",
                           lambda: tflm.build_library("host-asan", jobs=jobs, verbose=True)),
        "host-lib": ("host TFLM library libke_tflm.so", board.build_host_library),
        "host-lib-asan": ("host TFLM library under ASan/UBSan", lambda: board.build_host_library(sanitize=True)),
        "plugin": ("QEMU instruction-count plugin", board.build_qemu_plugin),
        "logmel-m4": ("log-mel front end compiled for the Cortex-M4F (-Werror)",
                      board.build_logmel_m4_object),
    }


def _run_test(binary) -> int:
    env = dict(os.environ, ASAN_OPTIONS="detect_leaks=1:abort_on_error=1",
               UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1")
    return subprocess.run([str(binary)], env=env).returncode


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m keras_events._native", description=__doc__)
    sub = ap.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="build targets (cached), print their paths",
                       epilog="targets: " + "; ".join(f"{k}: {v[0]}" for k, v in _targets(2).items()))
    b.add_argument("targets", nargs="+", metavar="TARGET", choices=sorted(_targets(2)))
    b.add_argument("-j", "--jobs", type=int, default=2, help="parallel compiles (TFLM)")
    t = sub.add_parser("test", help="build and run C unit tests")
    t.add_argument("suite", choices=["core", "sanitize"],
                   help="core: test_core; sanitize: test_core and test_glue under ASan/UBSan")
    sub.add_parser("ops", help="list the manifest's ops")
    args = ap.parse_args(argv)
    if args.command == "build":
        targets = _targets(args.jobs)
        for name in args.targets:
            print(targets[name][1]())
        return 0
    if args.command == "test":
        if args.suite == "core":
            return _run_test(host.build_core_tests())
        return _run_test(host.build_core_tests(sanitize=True)) or \
            _run_test(host.build_glue_test(sanitize=True))
    for op in manifest.ops():
        print(f"{op.name} v{op.version}: {op.tflite_registration}, ke_micro::{op.tflm_registration}")
        print(f"  core    {' '.join(op.core)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""``python -m keras_events.micro run MODEL.tflite --input x.npy [--board B] [--json]``
prints the outputs, the instructions per invoke and the memory figures;
``python -m keras_events.micro bench`` runs benchmarks/micro_bench.py."""
import argparse
import json
import pathlib
import runpy
import sys

import numpy as np


def _run(args) -> int:
    from keras_events.micro import BOARDS, run
    model = pathlib.Path(args.model).read_bytes()
    inputs = [np.load(p) for p in args.input]
    result = run(model, inputs if len(inputs) > 1 else inputs[0], board=args.board,
                 arena_size=args.arena_size, reset_every=args.reset_every, timeout=args.timeout)
    if args.json:
        print(json.dumps(result.to_json()))
        return 0
    for i, outs in enumerate(result.outputs):
        count = "" if result.instructions is None else f"  instructions={result.instructions[i]}"
        print(f"invoke {i}:{count}")
        for k, a in enumerate(outs):
            print(f"  output {k} {a.dtype}{list(a.shape)}: {np.array2string(a.ravel(), threshold=64)}")
    print("memory: " + ", ".join(f"{k}={v}" for k, v in result.memory.items()))
    mem = result.memory
    if "board_flash_bytes" in mem:
        ram = mem.get("ram_used_bytes", mem["static_ram_bytes"])
        print(f"{args.board}: flash {mem['flash_bytes'] / 1024:.1f} of "
              f"{mem['board_flash_bytes'] / 1024:.0f} KiB, RAM {ram / 1024:.1f} of "
              f"{mem['board_ram_bytes'] / 1024:.0f} KiB used"
              + (" (static data + arena used + stack used)" if "ram_used_bytes" in mem else ""))
    if result.instructions is not None:
        print("instructions are guest instructions executed in Invoke (QEMU TCG plugin), not cycles")
    return 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m keras_events.micro", description=__doc__)
    sub = ap.add_subparsers(dest="command", required=True)
    r = sub.add_parser("run", help="run a .tflite on the emulated board or the host TFLM")
    r.add_argument("model")
    r.add_argument("--input", action="append", required=True,
                   help=".npy per model input (axis 0 = invoke when several); repeatable")
    r.add_argument("--board", default="mps2-an386", choices=["mps2-an386", "microbit", "host"],
                   help="mps2-an386: Cortex-M4F; microbit: Cortex-M0 (256 KiB flash, 16 KiB "
                        "RAM); host: TFLM on this machine")
    r.add_argument("--arena-size", type=int, default=None,
                   help="tensor arena bytes (default: 64 KiB; microbit: all free RAM)")
    r.add_argument("--reset-every", type=int, default=0,
                   help="streaming: reset the model state every N invokes (0: never)")
    r.add_argument("--timeout", type=float, default=120.0)
    r.add_argument("--json", action="store_true", help="print one JSON object")
    b = sub.add_parser("bench", help="run benchmarks/micro_bench.py")
    b.add_argument("rest", nargs=argparse.REMAINDER)
    args = ap.parse_args(argv)
    if args.command == "run":
        try:
            return _run(args)
        except Exception as e:  # a clear one-line reason for users and scripts
            print(f"error: {e}", file=sys.stderr)
            return 1
    script = pathlib.Path(__file__).resolve().parents[2] / "benchmarks" / "micro_bench.py"
    sys.argv = [str(script), *args.rest]
    runpy.run_path(str(script), run_name="__main__")
    return 0


if __name__ == "__main__":
    sys.exit(main())

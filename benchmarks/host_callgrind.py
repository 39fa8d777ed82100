"""Exact host instruction counts per invoke (valgrind callgrind) for the models of
benchmarks/export_bench.py: the converter's int8 GRU against the int8 `KE_EGRU` at each
weight sparsity / activity, and how much of each invoke is the KE_EGRU op itself.

Wall-clock latencies on a shared machine vary with load; instruction counts do not
(issue 17: "callgrind on the host interpreter is exact and load-proof").  Instructions are
not cycles: AVX2 gathers and divides count as one instruction each, so this table sits next to
export_bench.py's microseconds, it does not replace them.

    python benchmarks/host_callgrind.py [--out build/host_callgrind] [--json FILE]

Two phases: the parent builds the models (export_bench.py's recipe, same seeds) into --out
(unless `export_bench.py --save-models DIR` already wrote them there: the same models), then
runs itself under `valgrind --tool=callgrind` with collection only inside
`tflite::impl::Interpreter::Invoke()` and a dump after each invoke; each model is invoked
twice (a warm-up, then the counted one).  Needs valgrind (apt install valgrind); the child
imports TensorFlow under valgrind, which takes a few minutes.
"""
import argparse
import glob
import json
import os
import pathlib
import re
import subprocess
import sys

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
REPO_ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))
sys.path.insert(0, str(REPO_ROOT / "benchmarks"))

import numpy as np  # noqa: E402

INVOKE = "tflite::impl::Interpreter::Invoke()"


def build(out):
    """Writes gru_unrolled_int8.tflite, int8_<sparsity>_<target>.tflite, x.npy and
    meta.json (export_bench.py's models and input), unless meta.json is there."""
    if (out / "meta.json").exists():
        return
    import export_bench as eb
    from keras_events.export import to_tflite
    out.mkdir(parents=True, exist_ok=True)
    x = np.random.default_rng(1).normal(0, 1, (32, eb.T, eb.I)).astype(np.float32)
    np.save(out / "x.npy", x)
    (out / "gru_unrolled_int8.tflite").write_bytes(eb.gru_models(x)["gru_unrolled_int8"])
    meta = {"dense_macs": eb.T * (eb.I + eb.U) * 3 * eb.U, "rows": []}
    for sparsity in (0.0, 0.8):
        for target in (1.0, 0.3, 0.1):
            model = eb.egru_model(sparsity)
            activity, macs = eb.set_activity(model, x, target)
            name = f"int8_{sparsity}_{target}"
            (out / f"{name}.tflite").write_bytes(
                to_tflite(model, quantize="int8", representative_data=x))
            meta["rows"].append(dict(name=name, sparsity=sparsity, target=target,
                                     activity=activity, macs=macs))
    (out / "meta.json").write_text(json.dumps(meta, indent=1))


def child(out):
    """Under callgrind: invoke every model twice (warm-up, counted), in a fixed order."""
    from keras_events.export import Interpreter
    x = np.load(out / "x.npy")
    names = ["gru_unrolled_int8"] + [r["name"] for r in json.loads(
        (out / "meta.json").read_text())["rows"]]
    for name in names:
        model = (out / f"{name}.tflite").read_bytes()
        if name.startswith("gru"):
            import tensorflow as tf
            interp = tf.lite.Interpreter(model_content=model, num_threads=1)
        else:
            interp = Interpreter(model_content=model, num_threads=1)
        interp.allocate_tensors()
        d = interp.get_input_details()[0]
        xi = x[:1]
        if d["dtype"] == np.int8:
            scale, zp = d["quantization"]
            xi = np.clip(np.round(xi / scale) + zp, -128, 127).astype(np.int8)
        interp.set_tensor(d["index"], xi.astype(d["dtype"]))
        interp.invoke()
        interp.invoke()
    (out / "order.json").write_text(json.dumps(names))


def _totals(path):
    """(all instructions, instructions inclusive in KE Eval) of one callgrind dump."""
    text = pathlib.Path(path).read_text(errors="replace")
    total = int(re.search(r"^(?:summary|totals):\s+(\d+)", text, re.M).group(1))
    ann = subprocess.run(["callgrind_annotate", "--inclusive=yes", "--threshold=100", str(path)],
                         capture_output=True, text=True).stdout
    ke = 0
    for line in ann.splitlines():
        m = re.match(r"\s*([\d,]+)\s+\(.*?\)\s+(.*)", line)
        if m and "_ke_ops" in m.group(2) and re.search(
                r"\(anonymous namespace\)::Eval\(TfLiteContext\*, TfLiteNode\*\)", m.group(2)):
            ke = max(ke, int(m.group(1).replace(",", "")))
    return total, ke


def parent(out, json_path):
    build(out)
    for f in glob.glob(str(out / "callgrind.out.*")):
        os.remove(f)
    cmd = ["valgrind", "--tool=callgrind", "--collect-atstart=no", f"--toggle-collect={INVOKE}",
           f"--dump-after={INVOKE}", f"--callgrind-out-file={out}/callgrind.out.%p",
           sys.executable, __file__, "--child", "--out", str(out)]
    print("running under callgrind (a few minutes): " + " ".join(cmd), file=sys.stderr)
    subprocess.run(cmd, check=True, capture_output=True)
    dumps = sorted(glob.glob(str(out / "callgrind.out.*.*")),
                   key=lambda p: int(p.rsplit(".", 1)[1]))
    names = json.loads((out / "order.json").read_text())
    if len(dumps) != 2 * len(names):
        raise RuntimeError(f"expected {2 * len(names)} dumps, found {len(dumps)}")
    counts = {n: _totals(dumps[2 * i + 1]) for i, n in enumerate(names)}
    meta = json.loads((out / "meta.json").read_text())
    gru = counts["gru_unrolled_int8"][0]
    print(f"host instructions per invoke (callgrind, exact): converter int8 GRU {gru:,}")
    print(f"{'sparsity':>8} {'activity':>8} {'MAC ratio':>9} {'invoke instr':>13} {'KE_EGRU op':>11} "
          f"{'x GRU (instr)':>13} {'goal 0.5 x MAC':>14}")
    rows = []
    for r in meta["rows"]:
        total, ke = counts[r["name"]]
        mac_ratio = meta["dense_macs"] / r["macs"]
        row = dict(r, invoke_instructions=total, ke_egru_instructions=ke,
                   gru_invoke_instructions=gru, mac_ratio=mac_ratio,
                   instr_ratio_vs_gru=gru / total)
        rows.append(row)
        goal = "" if r["target"] > 0.3 else (
            "met" if gru / total >= 0.5 * mac_ratio else
            f"short {0.5 * mac_ratio / (gru / total):.2f}x")
        print(f"{r['sparsity']:>8.0%} {r['activity']:>8.1%} {mac_ratio:>9.1f} {total:>13,} "
              f"{ke:>11,} {gru / total:>13.2f} {goal:>14}")
    print("KE_EGRU op = instructions inside the KE op's Eval (the rest of the invoke: "
          "QUANTIZE, FULLY_CONNECTED head, DEQUANTIZE, interpreter).")
    if json_path:
        pathlib.Path(json_path).write_text(json.dumps({"gru_invoke_instructions": gru,
                                                       "rows": rows}, indent=1))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=pathlib.Path, default=REPO_ROOT / "build" / "host_callgrind")
    ap.add_argument("--json", type=pathlib.Path, default=None)
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args.out)
    else:
        parent(args.out, args.json)


if __name__ == "__main__":
    main()

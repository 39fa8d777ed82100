"""Instructions per EGRU step on the emulated Cortex-M4F (QEMU mps2-an386, TFLite Micro).

KE_EGRU int8 (Subramoney et al., ICLR 2023, event-driven kernel of custom_ops/core) at event
rate {100, 50, 20, 10} % x weight sparsity {0, 80, 90} %, hidden 64 and 128, 40 input
features, against
  (a) a dense int8 GRU in the same kernel style: KE_EGRU with every weight stored
      (sparse_weights=False) and every unit firing every step, i.e. all 3U(I+U) MACs;
  (b) what a user deploys today: the TFLite converter's builtin-op graph of
      keras.layers.GRU run by TFLM (CMSIS-NN kernels where TFLM has them):
      int8 from GRU(unroll=True) (the only form that converts to int8 in TF 2.21) and
      float32 from GRU(unroll=False) (a WHILE loop; float only).
Counts are guest instructions inside MicroInterpreter::Invoke (QEMU TCG plugin), divided by
the time steps of the sequence; QEMU does not model cycles. MACs/step of KE_EGRU are the
kernel's own count (host TFLM, same code and input); the MAC ratio is the physical limit of
the speed-up, printed next to the instruction ratio.

The event rate is set by construction: the candidate-gate bias is +1.5 for the first
activity*U units (c ~ 0.9 > threshold 0.5: an event every step) and -1.5 for the rest
(c < 0: never); kernels are small random weights, magnitude-pruned to the sparsity; inputs
are dense random (no zero inputs, so the input product is never skipped). The measured rate
is printed.

Run: python benchmarks/micro_bench.py [--units 64 128] [--time 10] [--out build/micro_bench]
     (or make micro-bench / python -m keras_events.micro bench). Writes a table, JSON, PNG.
"""
import argparse
import json
import os
import pathlib
import sys
import time as _time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
REPO_ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

import numpy as np  # noqa: E402

FEATURES = 40
ACTIVITIES = (1.0, 0.5, 0.2, 0.1)
SPARSITIES = (0.0, 0.8, 0.9)
ARENA = 256 * 1024


def _prune(w, sparsity):
    if sparsity > 0:
        w = w.copy()
        w[np.abs(w) <= np.quantile(np.abs(w), sparsity)] = 0.0
    return w


def egru_weights(units, activity, sparsity, seed=0):
    rng = np.random.default_rng(seed)
    kernel = _prune((0.05 * rng.standard_normal((FEATURES, 3 * units))).astype(np.float32), sparsity)
    rec = _prune((0.05 * rng.standard_normal((units, 3 * units))).astype(np.float32), sparsity)
    bias = np.zeros((2, 3 * units), np.float32)
    bias[0, :units] = 4.0  # update gate open: c follows the candidate
    n_active = int(round(activity * units))
    bias[0, 2 * units:2 * units + n_active] = 1.5
    bias[0, 2 * units + n_active:] = -1.5
    return [kernel, rec, bias, np.zeros((units,), np.float32)]  # threshold sigmoid(0) = 0.5


def _int8_kwargs(rep):
    import tensorflow as tf
    return dict(quantize="int8", representative_data=rep, inference_input_type=tf.int8,
                inference_output_type=tf.int8)


def egru_tflite(units, steps, activity, sparsity, rep, sparse_weights=True):
    import keras
    from keras_events import EGRU
    from keras_events.export import to_tflite
    model = keras.Sequential([keras.Input((steps, FEATURES), batch_size=1), EGRU(units)])
    model.layers[-1].cell.set_weights(egru_weights(units, activity, sparsity))
    return to_tflite(model, sparse_weights=sparse_weights, **_int8_kwargs(rep))


def gru_tflite(units, steps, rep, int8):
    """The converter's builtin-op graph of keras.layers.GRU (unrolled for int8, WHILE for float)."""
    import keras
    import tensorflow as tf
    model = keras.Sequential([keras.Input((steps, FEATURES), batch_size=1),
                              keras.layers.GRU(units, unroll=int8)])
    if int8:
        from keras_events.export import builtin_int8_tflite
        return builtin_int8_tflite(model, rep)
    return tf.lite.TFLiteConverter.from_keras_model(model).convert()


def quantized_input(model, x):
    from keras_events.micro.host_interpreter import Interpreter
    d = Interpreter(model, arena_size=ARENA).get_input_details()[0]
    if d["dtype"] == np.float32:
        return x.astype(np.float32)
    scale, zp = d["quantization"]
    return np.clip(np.round(x / scale) + zp, -128, 127).astype(np.int8)


def measure(model, x, steps):
    """Instructions/step on the board, KE_EGRU MACs/step and event rate on the host TFLM."""
    from keras_events.micro import qemu
    from keras_events.micro.host_interpreter import Interpreter, mac_count
    xq = quantized_input(model, x)
    res, mem = qemu.run_model(model, xq, arena_size=ARENA, timeout=600)
    interp = Interpreter(model, arena_size=ARENA)
    before = mac_count()
    (y,) = interp.run(xq)
    macs = (mac_count() - before) / steps
    zp = interp.get_output_details()[0]["quantization"][1] if y.dtype == np.int8 else 0
    return {"instructions_per_step": res.instructions[0] / steps, "macs_per_step": macs,
            "event_rate": float((y != zp).mean()), "flash_bytes": mem["flash_bytes"],
            "model_bytes": mem["flash_model_bytes"], "arena_used_bytes": mem["arena_used_bytes"]}


def run(units_list, steps, out_dir):
    rng = np.random.default_rng(7)
    rows, baselines = [], {}
    for units in units_list:
        x = rng.uniform(-1, 1, (1, steps, FEATURES)).astype(np.float32)
        rep = rng.uniform(-1, 1, (64, steps, FEATURES)).astype(np.float32)
        dense_macs = 3 * units * (FEATURES + units)
        base = {}
        t0 = _time.time()
        base["a_dense_ke_egru_int8"] = measure(
            egru_tflite(units, steps, 1.0, 0.0, rep, sparse_weights=False), x, steps)
        base["b_gru_unrolled_int8"] = measure(gru_tflite(units, steps, rep, int8=True), x, steps)
        try:
            base["b_gru_while_float"] = measure(gru_tflite(units, steps, rep, int8=False), x, steps)
        except Exception as e:  # report, do not hide, a baseline that does not run
            base["b_gru_while_float"] = {"error": str(e).splitlines()[0][:300]}
        for b in base.values():
            if "error" not in b:
                b["macs_per_step"] = b["macs_per_step"] or dense_macs
        baselines[units] = base
        for sparsity in SPARSITIES:
            for activity in ACTIVITIES:
                m = measure(egru_tflite(units, steps, activity, sparsity, rep), x, steps)
                m.update(units=units, activity=activity, sparsity=sparsity)
                a, b = base["a_dense_ke_egru_int8"], base["b_gru_unrolled_int8"]
                m["instr_ratio_vs_a"] = a["instructions_per_step"] / m["instructions_per_step"]
                m["mac_ratio_vs_a"] = a["macs_per_step"] / max(m["macs_per_step"], 1)
                m["instr_ratio_vs_b_int8"] = b["instructions_per_step"] / m["instructions_per_step"]
                rows.append(m)
        print(f"hidden {units}: {_time.time() - t0:.0f} s", file=sys.stderr)
    return rows, baselines


def report(rows, baselines, out_dir):
    out_dir.mkdir(parents=True, exist_ok=True)
    lines = ["Instructions per step on Cortex-M4F (QEMU mps2-an386, TFLM; guest instructions, "
             "not cycles), input 40 features", ""]
    for units, base in baselines.items():
        lines.append(f"hidden {units} baselines (instructions/step):")
        for name, b in base.items():
            lines.append(f"  {name:24s} " + (f"{b['instructions_per_step']:>12,.0f}  "
                         f"(flash {b['flash_bytes']:,} B, model {b['model_bytes']:,} B, arena used "
                         f"{b['arena_used_bytes']:,} B)" if "error" not in b else b["error"]))
    hdr = (f"{'U':>4} {'act':>5} {'rate':>5} {'sparse':>6} {'instr/step':>11} {'MACs/step':>10} "
           f"{'x vs (a)':>8} {'MAC x':>7} {'instr/MAC':>9} {'x vs (b)':>8} {'model B':>8}")
    lines += ["", "KE_EGRU int8; x vs (a) = dense KE_EGRU instr / this; MAC x = dense MACs / this;"
              " instr/MAC = (x vs (a)) / (MAC x); x vs (b) = int8 unrolled GRU graph instr / this", hdr]
    for r in rows:
        lines.append(f"{r['units']:>4} {r['activity']:>5.0%} {r['event_rate']:>5.2f} "
                     f"{r['sparsity']:>6.0%} {r['instructions_per_step']:>11,.0f} "
                     f"{r['macs_per_step']:>10,.0f} {r['instr_ratio_vs_a']:>8.2f} "
                     f"{r['mac_ratio_vs_a']:>7.2f} {r['instr_ratio_vs_a'] / r['mac_ratio_vs_a']:>9.2f} "
                     f"{r['instr_ratio_vs_b_int8']:>8.2f} {r['model_bytes']:>8,}")
    lines.append("")
    for units in baselines:
        goal = [r for r in rows if r["units"] == units and r["activity"] == 0.1 and r["sparsity"] == 0.8]
        if goal:
            g = goal[0]
            lines.append(f"goals, hidden {units}, 10 % activity, 80 % sparsity: "
                         f"{g['instr_ratio_vs_b_int8']:.1f}x fewer instructions than the int8 GRU "
                         f"graph (goal >= 5x: {'met' if g['instr_ratio_vs_b_int8'] >= 5 else 'NOT met'}); "
                         f"instruction ratio / MAC ratio = "
                         f"{g['instr_ratio_vs_a'] / g['mac_ratio_vs_a']:.2f} (goal >= 0.6: "
                         f"{'met' if g['instr_ratio_vs_a'] >= 0.6 * g['mac_ratio_vs_a'] else 'NOT met'})")
    text = "\n".join(lines)
    print(text)
    (out_dir / "micro_bench.txt").write_text(text + "\n")
    (out_dir / "micro_bench.json").write_text(json.dumps(
        {"rows": rows, "baselines": {str(k): v for k, v in baselines.items()},
         "unit": "guest instructions per time step (QEMU TCG plugin), not cycles"}, indent=1))
    _plot(rows, baselines, out_dir / "micro_bench.png")
    print(f"wrote {out_dir}/micro_bench.{{txt,json,png}}")


def _plot(rows, baselines, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, len(baselines), figsize=(6 * len(baselines), 4.5), squeeze=False)
    for ax, (units, base) in zip(axes[0], baselines.items()):
        for s in SPARSITIES:
            pts = sorted((r["activity"], r["instructions_per_step"]) for r in rows
                         if r["units"] == units and r["sparsity"] == s)
            ax.plot([100 * a for a, _ in pts], [v for _, v in pts], "o-",
                    label=f"KE_EGRU int8, {s:.0%} sparse")
        styles = {"a_dense_ke_egru_int8": ":", "b_gru_unrolled_int8": "--", "b_gru_while_float": "-."}
        for name, b in base.items():
            if "error" not in b:
                ax.axhline(b["instructions_per_step"], ls=styles[name], color="gray", label=name)
        ax.set_xlabel("event rate (% of units per step)")
        ax.set_ylabel("instructions per step")
        ax.set_yscale("log")
        ax.set_title(f"Cortex-M4F (QEMU), hidden {units}, input {FEATURES}")
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--units", type=int, nargs="+", default=[64, 128])
    ap.add_argument("--time", type=int, default=10, help="time steps per invoke")
    ap.add_argument("--out", type=pathlib.Path, default=REPO_ROOT / "build" / "micro_bench")
    args = ap.parse_args(argv)
    rows, baselines = run(args.units, args.time, args.out)
    report(rows, baselines, args.out)


if __name__ == "__main__":
    main()

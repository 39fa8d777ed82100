"""Instructions and estimated cycles per recurrent step on the emulated Cortex-M4F (QEMU
mps2-an386, TFLite Micro), KE_EGRU against the strongest dense kernels (issue 17).

Kernels (``kernel`` key of every row; hidden 64 and 128, 40 input features):
  dense_smlad_egru         the project's dense int8 kernel with SMLAD dual MACs
                           (custom_ops/core/ke_dense_smlad.c): every weight, every unit, the
                           same gates and tables as KE_EGRU, 3U(I+U) MACs; kernel only (a
                           plain-C firmware, benchmarks/micro/dense_smlad_main.c, no TFLM
                           invoke overhead), checked bit for bit against ke_egru_i8_step
  dense_ke_egru_scalar     KE_EGRU storing every weight (sparse_weights=False), every unit
                           firing every step: all 3U(I+U) MACs through the event kernel's
                           full-row path (ldm/sxtb16/smlabb on Cortex-M4 since the block-4
                           work; the name is kept for the JSON rows)
  fused_lstm_cmsis_nn      TFLM's builtin int8 UNIDIRECTIONAL_SEQUENCE_LSTM (CMSIS-NN
                           arm_lstm_unidirectional_s8), converted from
                           tf_keras.layers.LSTM(unroll=False), batch 1, fixed length: 4U(I+U) MACs
                           (Keras 3 layers carry no api_implements tag, so the converter never
                           fuses a Keras 3 LSTM)
  fc_matvec_cmsis_nn       a FULLY_CONNECTED int8 (CMSIS-NN arm_fully_connected_s8, SMLAD) of
                           [x_t, y_t-1] (I+U) -> 3U, one invoke per step: the products of a
                           dense GRU without its gates, through TFLM (a reference for the
                           SMLAD matvec of dense_smlad_egru; includes TFLM's per-invoke
                           overhead, so it is not a lower bound)
  gru_graph_unrolled_int8  (--with-graph-gru) the converter's int8 builtin-op graph of
                           keras.layers.GRU(unroll=True), the baseline of earlier READMEs
  ke_egru_pruning_only     KE_EGRU, weights pruned in 1 x 4 blocks (block-4 form, one index
                           per 4 weights; --prune-block 1: unstructured), every unit firing
  ke_egru_events_only      KE_EGRU, no pruning, activity 5/10/20/30 %
  ke_egru_events_pruning   KE_EGRU, pruned and activity 5/10/20/30 %

Counts are guest instructions inside MicroInterpreter::Invoke (QEMU TCG plugin), divided by
the time steps of the invoke; cycles are the plugin's estimate (keras_events.micro.qemu:
Cortex-M4 TRM timings, zero-wait-state memory, taken-branch refill P = 2). Effective MACs of
KE_EGRU are the kernel's own count (host TFLM, same code and input); of the dense kernels
their dense count. "vs strongest dense" = instructions (cycles) of the cheapest dense kernel
measured at that hidden size / this row's.

The event rate is set by construction: the candidate-gate bias is +1.5 for the first
activity*U units (c ~ 0.9 > threshold 0.5: an event every step) and -1.5 for the rest
(c < 0: never); kernels are small random weights, magnitude-pruned to the sparsity; inputs
are dense random (no zero inputs, so the input product is never skipped). The measured rate
is printed. At the goal point (hidden 128, 20 % events, 80 % pruning) a step profile splits
one step's instructions into per-invoke overhead, the fixed per-step cost (gate loop), the
input product and the recurrent product + firing (step_profile(); --no-profile skips it).

Run: python benchmarks/micro_bench.py [--units 64 128] [--activities 0.05 0.1 0.2 0.3]
     [--sparsity 0.8] [--time 10] [--prune-block 4] [--with-graph-gru] [--no-profile]
     [--json FILE] [--out build/micro_bench]
     (or make micro-bench / python -m keras_events.micro bench). Writes a table, JSON, PNG.
"""
import argparse
import itertools
import json
import os
import pathlib
import sys
import time as _time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
REPO_ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))
sys.path.insert(0, str(REPO_ROOT / "benchmarks"))  # micro_profile

import numpy as np  # noqa: E402

FEATURES = 40
ACTIVITIES = (0.05, 0.1, 0.2, 0.3)
SPARSITY = 0.8
ARENA = 256 * 1024
DENSE_KERNELS = ("dense_smlad_egru", "dense_ke_egru_scalar", "fused_lstm_cmsis_nn",
                 "gru_graph_unrolled_int8")
# Not a complete recurrent kernel (no gates): reported, never "the strongest dense kernel".
BOUND_KERNELS = ("fc_matvec_cmsis_nn",)
GOAL = dict(units=128, activity=0.2, sparsity=0.8)
# Pruned rows prune blocks of 1 x 4 output columns (the kernel's block-4 form, one index
# per 4 weights); the "..._unstructured" row prunes single weights (the plain form).
PRUNE_BLOCK = 4


def _prune(w, sparsity, block=1):
    """Magnitude pruning to ``sparsity``, in blocks of 1 x ``block`` columns ranked by their
    mean |w| (keras_events.sparsity's block_size=(1, block), pooling AVG)."""
    if sparsity > 0:
        w = w.copy()
        mag = np.abs(w).reshape(w.shape[0], -1, block).mean(axis=2)
        keep = np.repeat(mag > np.quantile(mag, sparsity), block, axis=1)
        w[~keep] = 0.0
    return w


def egru_weights(units, activity, sparsity, seed=0, block=None):
    block = PRUNE_BLOCK if block is None else block
    rng = np.random.default_rng(seed)
    kernel = _prune((0.05 * rng.standard_normal((FEATURES, 3 * units))).astype(np.float32),
                    sparsity, block)
    rec = _prune((0.05 * rng.standard_normal((units, 3 * units))).astype(np.float32), sparsity,
                 block)
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


def egru_tflite(units, steps, activity, sparsity, rep, sparse_weights=True, block=None):
    import keras
    from keras_events import EGRU
    from keras_events.export import to_tflite
    model = keras.Sequential([keras.Input((steps, FEATURES), batch_size=1), EGRU(units)])
    model.layers[-1].cell.set_weights(egru_weights(units, activity, sparsity, block=block))
    return to_tflite(model, sparse_weights=sparse_weights, **_int8_kwargs(rep))


def gru_tflite(units, steps, rep):
    """The converter's int8 builtin-op graph of keras.layers.GRU(unroll=True)."""
    import keras
    from keras_events.export import builtin_int8_tflite
    model = keras.Sequential([keras.Input((steps, FEATURES), batch_size=1),
                              keras.layers.GRU(units, unroll=True)])
    return builtin_int8_tflite(model, rep)


def fc_tflite(units, rep_steps):
    """FULLY_CONNECTED int8 (I+U) -> 3U: the matrix products of one dense GRU step."""
    import keras
    from keras_events.export import builtin_int8_tflite
    model = keras.Sequential([keras.Input((FEATURES + units,), batch_size=1),
                              keras.layers.Dense(3 * units)])
    return builtin_int8_tflite(model, rep_steps)


def measure_dense_smlad(units, steps):
    """The dense SMLAD kernel alone (recipes.common.dense_smlad: the recipe's cost table runs
    the same firmware)."""
    from recipes.common import dense_smlad
    m = dense_smlad.measure(units, FEATURES, steps)
    keep = ("instructions_per_step", "est_cycles_per_step", "est_cycles_range_per_step",
            "classes_per_step")
    return {**{k: m[k] for k in keep},
            "effective_macs_per_step": float(3 * units * (FEATURES + units)), "event_rate": 1.0}


def lstm_tflite(units, steps, rep, seed=0):
    """TFLM's fused int8 UNIDIRECTIONAL_SEQUENCE_LSTM from tf_keras.layers.LSTM(unroll=False)."""
    import tensorflow as tf
    import tf_keras
    tf_keras.utils.set_random_seed(seed)
    model = tf_keras.Sequential([tf_keras.Input((steps, FEATURES), batch_size=1),
                                 tf_keras.layers.LSTM(units, unroll=False)])
    conv = tf.lite.TFLiteConverter.from_keras_model(model)
    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    conv.representative_dataset = lambda: ([x[None]] for x in rep)
    conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    conv.inference_input_type = conv.inference_output_type = tf.int8
    model_bytes = conv.convert()
    from keras_events.micro import model_ops
    ops = model_ops.model_op_names(model_bytes)
    if "UNIDIRECTIONAL_SEQUENCE_LSTM" not in ops:
        raise RuntimeError(f"the converter did not fuse the LSTM (ops: {ops})")
    return model_bytes


def quantized_input(model, x, builtin_only=False):
    """``x`` in the model's input type; ``builtin_only``: read the quantization with TFLite's
    interpreter (the host TFLM library holds only the ops the project's tests need)."""
    if builtin_only:
        import tensorflow as tf
        d = tf.lite.Interpreter(model_content=model).get_input_details()[0]
        d = {"dtype": d["dtype"], "quantization": d["quantization"]}
    else:
        from keras_events.micro.host_interpreter import Interpreter
        d = Interpreter(model, arena_size=ARENA).get_input_details()[0]
    if d["dtype"] == np.float32:
        return x.astype(np.float32)
    scale, zp = d["quantization"]
    return np.clip(np.round(x / scale) + zp, -128, 127).astype(np.int8)


def measure(model, x, steps, dense_macs=None):
    """Per step on the board: instructions, instruction classes, estimated cycles; effective
    MACs (KE_EGRU: the kernel's count on the host TFLM; else ``dense_macs``) and event rate."""
    from keras_events.micro import qemu
    from keras_events.micro.host_interpreter import Interpreter, mac_count
    xq = quantized_input(model, x, builtin_only=dense_macs is not None)
    res, mem = qemu.run_model(model, xq, arena_size=ARENA, timeout=900)
    # one invoke of `steps` steps, or (fc_matvec) `steps` invokes of one step each
    c = {k: sum(d[k] for d in res.classes) for k in res.classes[0]}
    out = {"instructions_per_step": sum(res.instructions) / steps,
           "est_cycles_per_step": c["est_cycles"] / steps,
           "est_cycles_range_per_step": [c["est_cycles_min"] / steps, c["est_cycles_max"] / steps],
           "classes_per_step": {k: c[k] / steps for k in (*qemu.CLASSES, "taken_branches")},
           "flash_bytes": mem["flash_bytes"], "model_bytes": mem["flash_model_bytes"],
           "arena_used_bytes": mem["arena_used_bytes"]}
    if dense_macs is not None:
        out.update(effective_macs_per_step=float(dense_macs), event_rate=1.0)
        return out
    interp = Interpreter(model, arena_size=ARENA)
    before = mac_count()
    (y,) = interp.run(xq)
    zp = interp.get_output_details()[0]["quantization"][1]
    out.update(effective_macs_per_step=(mac_count() - before) / steps,
               event_rate=float((y != zp).mean()))
    return out


def configs(units, activities, sparsity, with_graph_gru):
    """(kernel, target activity, weight sparsity) of every row at one hidden size."""
    rows = [("dense_smlad_egru", 1.0, 0.0), ("dense_ke_egru_scalar", 1.0, 0.0),
            ("fused_lstm_cmsis_nn", 1.0, 0.0),
            ("fc_matvec_cmsis_nn", 1.0, 0.0)]
    if with_graph_gru:
        rows.append(("gru_graph_unrolled_int8", 1.0, 0.0))
    rows.append(("ke_egru_pruning_only", 1.0, sparsity))
    rows += [("ke_egru_events_only", a, 0.0) for a in activities]
    rows += [("ke_egru_events_pruning", a, sparsity) for a in activities]
    return rows


def run(units_list, steps, activities=ACTIVITIES, sparsity=SPARSITY, with_graph_gru=False,
        with_profile=True):
    rng = np.random.default_rng(7)
    rows = []
    for units in units_list:
        x = rng.uniform(-1, 1, (1, steps, FEATURES)).astype(np.float32)
        rep = rng.uniform(-1, 1, (64, steps, FEATURES)).astype(np.float32)
        gru_macs, lstm_macs = 3 * units * (FEATURES + units), 4 * units * (FEATURES + units)
        t0 = _time.time()
        for kernel, activity, sp in configs(units, activities, sparsity, with_graph_gru):
            if kernel == "dense_smlad_egru":
                m = measure_dense_smlad(units, steps)
            elif kernel == "dense_ke_egru_scalar":
                m = measure(egru_tflite(units, steps, 1.0, 0.0, rep, sparse_weights=False),
                            x, steps, gru_macs)
            elif kernel == "fused_lstm_cmsis_nn":
                m = measure(lstm_tflite(units, steps, rep), x, steps, lstm_macs)
            elif kernel == "fc_matvec_cmsis_nn":
                xy = rng.uniform(-1, 1, (steps, 1, FEATURES + units)).astype(np.float32)
                m = measure(fc_tflite(units, rng.uniform(-1, 1, (64, FEATURES + units))
                                      .astype(np.float32)), xy, steps, gru_macs)
            elif kernel == "gru_graph_unrolled_int8":
                m = measure(gru_tflite(units, steps, rep), x, steps, gru_macs)
            else:
                m = measure(egru_tflite(units, steps, activity, sp, rep), x, steps)
            m.update(kernel=kernel, hidden=units, target_activity=activity, weight_sparsity=sp)
            m["instructions_per_effective_mac"] = \
                m["instructions_per_step"] / max(m["effective_macs_per_step"], 1)
            rows.append(m)
            print(f"  {kernel} U={units} act={activity:.0%} sparse={sp:.0%}: "
                  f"{m['instructions_per_step']:,.0f} instr/step", file=sys.stderr)
        if units == GOAL["units"] and sparsity == GOAL["sparsity"] and with_profile:
            from micro_profile import step_profile
            prof = step_profile(sys.modules[__name__], units, steps, sparsity, GOAL["activity"],
                                rep, x)
            for r in rows:
                if (r["hidden"] == units and r["kernel"] == "ke_egru_events_pruning"
                        and r["target_activity"] == GOAL["activity"]):
                    r["step_profile"] = prof
        dense = [r for r in rows if r["hidden"] == units and r["kernel"] in DENSE_KERNELS]
        best = min(dense, key=lambda r: r["instructions_per_step"])
        for r in rows:
            if r["hidden"] == units:
                r["strongest_dense"] = best["kernel"]
                r["instr_ratio_vs_strongest_dense"] = \
                    best["instructions_per_step"] / r["instructions_per_step"]
                r["cycle_ratio_vs_strongest_dense"] = \
                    best["est_cycles_per_step"] / r["est_cycles_per_step"]
                r["mac_ratio_vs_dense_gru"] = gru_macs / max(r["effective_macs_per_step"], 1)
        print(f"hidden {units}: {_time.time() - t0:.0f} s", file=sys.stderr)
    return rows


JSON_KEYS = ("kernel", "hidden", "event_rate", "weight_sparsity", "instructions_per_step",
             "effective_macs_per_step", "instructions_per_effective_mac", "est_cycles_per_step")


def _goal_lines(rows):
    g = [r for r in rows if r["hidden"] == GOAL["units"] and r["kernel"] == "ke_egru_events_pruning"
         and r["target_activity"] == GOAL["activity"] and r["weight_sparsity"] == GOAL["sparsity"]]
    if not g:
        return [f"goals (hidden {GOAL['units']}, {GOAL['activity']:.0%} events, "
                f"{GOAL['sparsity']:.0%} pruning): not in this run's grid"]
    g = g[0]
    out = [f"goals, hidden {g['hidden']}, {g['target_activity']:.0%} events "
           f"(measured {g['event_rate']:.2f}), {g['weight_sparsity']:.0%} pruning:"]
    for name in ("dense_smlad_egru", "fused_lstm_cmsis_nn", "dense_ke_egru_scalar"):
        b = [r for r in rows if r["hidden"] == g["hidden"] and r["kernel"] == name]
        if b:
            ratio = b[0]["instructions_per_step"] / g["instructions_per_step"]
            out.append(f"  >= 5x fewer instructions than {name}: {ratio:.2f}x "
                       f"({'met' if ratio >= 5 else f'NOT met, {5 / ratio:.2f}x short'})")
    ipm = g["instructions_per_effective_mac"]
    out.append(f"  <= 3 instructions per effective MAC: {ipm:.2f} "
               f"({'met' if ipm <= 3 else f'NOT met, {ipm / 3:.2f}x over'})")
    for name in ("dense_smlad_egru", "dense_ke_egru_scalar"):
        d = [r for r in rows if r["hidden"] == g["hidden"] and r["kernel"] == name]
        if d:
            ir = d[0]["instructions_per_step"] / g["instructions_per_step"]
            mr = g["mac_ratio_vs_dense_gru"]
            out.append(f"  instruction ratio >= 0.5 x MAC ratio (vs {name}): "
                       f"{ir:.2f} / {mr:.2f} = {ir / mr:.2f} "
                       f"({'met' if ir >= 0.5 * mr else f'NOT met, {0.5 * mr / ir:.2f}x short'})")
    return out


def report(rows, out_dir, json_path=None):
    from keras_events.micro import qemu
    out_dir.mkdir(parents=True, exist_ok=True)
    lines = ["Per recurrent step on the emulated Cortex-M4F (QEMU mps2-an386, TFLM), input "
             f"{FEATURES} features. Cycles: estimate, {qemu.CYCLE_MODEL}.", "",
             f"{'kernel':24s} {'U':>4} {'act':>4} {'rate':>5} {'sparse':>6} {'instr/step':>11} "
             f"{'eff MACs':>9} {'instr/MAC':>9} {'est cyc/step':>12} {'cyc/MAC':>7} "
             f"{'x instr':>7} {'x cyc':>6} {'MAC x':>6} {'ld/st':>6} {'mul':>6} {'taken':>6}"]
    for r in rows:
        c = r["classes_per_step"]
        lines.append(
            f"{r['kernel']:24s} {r['hidden']:>4} {r['target_activity']:>4.0%} {r['event_rate']:>5.2f} "
            f"{r['weight_sparsity']:>6.0%} {r['instructions_per_step']:>11,.0f} "
            f"{r['effective_macs_per_step']:>9,.0f} {r['instructions_per_effective_mac']:>9.2f} "
            f"{r['est_cycles_per_step']:>12,.0f} "
            f"{r['est_cycles_per_step'] / max(r['effective_macs_per_step'], 1):>7.2f} "
            f"{r['instr_ratio_vs_strongest_dense']:>7.2f} {r['cycle_ratio_vs_strongest_dense']:>6.2f} "
            f"{r['mac_ratio_vs_dense_gru']:>6.2f} {c['load_store']:>6,.0f} {c['multiply']:>6,.0f} "
            f"{c['taken_branches']:>6,.0f}")
    strongest = sorted({(r["hidden"], r["strongest_dense"]) for r in rows})
    lines += ["", "x instr / x cyc: strongest dense kernel's instructions / cycles per step over "
              "this row's (" + ", ".join(f"hidden {u}: {k}" for u, k in strongest) + "); MAC x: "
              "dense GRU MACs 3U(I+U) / this row's effective MACs; ld/st, mul, taken: load/store "
              "and multiply instructions and taken branches per step.", ""]
    lines += _goal_lines(rows)
    from micro_profile import profile_lines
    lines += [line for r in rows if "step_profile" in r for line in profile_lines(r["step_profile"])]
    text = "\n".join(lines)
    print(text)
    (out_dir / "micro_bench.txt").write_text(text + "\n")
    (out_dir / "micro_bench.json").write_text(json.dumps(
        {"rows": rows, "cycle_model": qemu.CYCLE_MODEL,
         "unit": "per recurrent time step; instructions exact (QEMU TCG plugin), cycles estimated"},
        indent=1))
    if json_path:
        pathlib.Path(json_path).write_text(json.dumps(
            [{k: r[k] for k in JSON_KEYS} for r in rows], indent=1))
        print(f"wrote {json_path}")
    _plot(rows, out_dir / "micro_bench.png")
    print(f"wrote {out_dir}/micro_bench.{{txt,json,png}}")


def _plot(rows, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    units_list = sorted({r["hidden"] for r in rows})
    fig, axes = plt.subplots(1, len(units_list), figsize=(6 * len(units_list), 4.5), squeeze=False)
    for ax, units in zip(axes[0], units_list):
        mine = [r for r in rows if r["hidden"] == units]
        for kernel in ("ke_egru_events_only", "ke_egru_events_pruning"):
            pts = sorted((r["target_activity"], r["est_cycles_per_step"]) for r in mine
                         if r["kernel"] == kernel)
            ax.plot([100 * a for a, _ in pts], [v for _, v in pts], "o-", label=kernel)
        styles = itertools.cycle(["--", ":", "-.", (0, (1, 4)), (0, (5, 2, 1, 2))])
        for r in mine:
            if r["kernel"] in (*DENSE_KERNELS, *BOUND_KERNELS, "ke_egru_pruning_only"):
                ax.axhline(r["est_cycles_per_step"], ls=next(styles), color="gray", label=r["kernel"])
        ax.set_xlabel("event rate (% of units per step)")
        ax.set_ylabel("estimated Cortex-M4 cycles per step")
        ax.set_yscale("log")
        ax.set_title(f"Cortex-M4F (QEMU, cycle estimate), hidden {units}, input {FEATURES}")
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def rereport(json_in, out_dir, json_path=None):
    """Print and write the report again from a run's micro_bench.json (no QEMU)."""
    rows = json.loads(pathlib.Path(json_in).read_text())["rows"]
    report(rows, pathlib.Path(out_dir), json_path)


# ---- Delta-GRU / Delta-LSTM rows (KE_DELTA_GRU, KE_DELTA_LSTM), --delta / --delta-only ----
DELTA_FRACTIONS = (1.0, 0.5, 0.2, 0.1, 0.05)
DELTA_THRESHOLD = 0.02  # input and hidden; int8: |change| > 2 LSBs of the ~2/255 input scale
DELTA_GOAL = dict(fraction=0.2, ratio=4.0)  # >= 4x fewer instructions than dense SMLAD GRU


def delta_inputs(n, steps, fraction, seed=0):
    """Inputs whose first round(fraction * FEATURES) features change every step (uniform in
    [-1, 1]) while the rest stay 0: those are never sent, the others (almost) always."""
    rng = np.random.default_rng(seed)
    x = np.zeros((n, steps, FEATURES), np.float32)
    k = max(1, int(round(fraction * FEATURES)))
    x[:, :, :k] = rng.uniform(-1, 1, (n, steps, k))
    return x


def delta_weights(kind, units, fraction, seed=0):
    """Dense weights for which the first round(fraction * units) hidden units follow the input
    each step (GRU: update gate shut, z ~ 0; LSTM: input gate open, forget gate shut) and the
    others stay at 0 (GRU: z saturated at 1; LSTM: input gate shut), so the hidden delta
    fraction is set by construction; the kernel's MAC count measures it."""
    rng = np.random.default_rng(seed)
    gates = 3 if kind == "gru" else 4
    kernel = (0.3 * rng.standard_normal((FEATURES, gates * units))).astype(np.float32)
    rec = (0.1 * rng.standard_normal((units, gates * units))).astype(np.float32)
    active = np.arange(units) < max(1, int(round(fraction * units)))
    if kind == "gru":
        bias = np.zeros((2, 3 * units), np.float32)
        bias[0, :units] = np.where(active, -6.0, 12.0)  # z: h follows n / h stays 0
        return [kernel, rec, bias]
    bias = np.zeros(4 * units, np.float32)
    bias[:units] = np.where(active, 6.0, -12.0)  # i
    bias[units:2 * units] = np.where(active, -6.0, 0.0)  # f
    bias[3 * units:] = 6.0  # o
    return [kernel, rec, bias]


def delta_tflite(kind, units, steps, fraction):
    import keras
    from keras_events import DeltaGRUCell, DeltaLSTMCell
    from keras_events.export import to_tflite
    cell = {"gru": DeltaGRUCell, "lstm": DeltaLSTMCell}[kind](
        units, input_threshold=DELTA_THRESHOLD, hidden_threshold=DELTA_THRESHOLD)
    model = keras.Sequential([keras.Input((steps, FEATURES), batch_size=1),
                              keras.layers.RNN(cell)])
    cell.set_weights(delta_weights(kind, units, fraction))
    return to_tflite(model, **_int8_kwargs(delta_inputs(64, steps, fraction, seed=1)))


def delta_run(units_list, steps, fractions=DELTA_FRACTIONS):
    """Delta-GRU/LSTM rows at each delta fraction (inputs and hidden units alike) against the
    dense SMLAD int8 GRU and TFLM's fused CMSIS-NN LSTM of the same hidden size."""
    rows = []
    for units in units_list:
        macs = {"gru": 3 * units * (FEATURES + units), "lstm": 4 * units * (FEATURES + units)}
        base = {"dense_smlad_egru": measure_dense_smlad(units, steps),
                "fused_lstm_cmsis_nn": measure(lstm_tflite(units, steps, delta_inputs(
                    64, steps, 1.0, seed=1)), delta_inputs(1, steps, 1.0), steps, macs["lstm"])}
        for kernel, m in base.items():
            rows.append(dict(m, kernel=kernel, hidden=units, delta_fraction=1.0))
        for kind, fraction in itertools.product(("gru", "lstm"), fractions):
            m = measure(delta_tflite(kind, units, steps, fraction),
                        delta_inputs(1, steps, fraction), steps)
            m.pop("event_rate")  # (output != zero point): not a delta rate
            m.update(kernel=f"ke_delta_{kind}", hidden=units, delta_fraction=fraction,
                     measured_mac_fraction=m["effective_macs_per_step"] / macs[kind])
            for name, b in base.items():
                m[f"instr_ratio_vs_{name}"] = b["instructions_per_step"] / m["instructions_per_step"]
            rows.append(m)
            print(f"  ke_delta_{kind} U={units} deltas={fraction:.0%}: "
                  f"{m['instructions_per_step']:,.0f} instr/step", file=sys.stderr)
    return rows


def delta_report(rows):
    """The delta table and goal lines (text)."""
    lines = ["", "Delta ops, per step on the emulated Cortex-M4F, int8, input "
             f"{FEATURES}, thresholds {DELTA_THRESHOLD} (delta fraction = inputs and hidden "
             "units sent per step, set by construction; MAC frac = kernel's MACs / dense MACs)",
             f"{'kernel':22s} {'U':>4} {'deltas':>6} {'MAC frac':>8} {'instr/step':>11} "
             f"{'est cyc/step':>12} {'x SMLAD GRU':>11} {'x CMSIS LSTM':>12}"]
    for r in rows:
        lines.append(
            f"{r['kernel']:22s} {r['hidden']:>4} {r['delta_fraction']:>6.0%} "
            f"{r.get('measured_mac_fraction', 1.0):>8.3f} {r['instructions_per_step']:>11,.0f} "
            f"{r['est_cycles_per_step']:>12,.0f} "
            f"{r.get('instr_ratio_vs_dense_smlad_egru', float('nan')):>11.2f} "
            f"{r.get('instr_ratio_vs_fused_lstm_cmsis_nn', float('nan')):>12.2f}")
    for r in rows:
        if r["kernel"] == "ke_delta_gru" and r["delta_fraction"] == DELTA_GOAL["fraction"]:
            ratio = r["instr_ratio_vs_dense_smlad_egru"]
            lines.append(f"goal, hidden {r['hidden']}, {r['delta_fraction']:.0%} deltas: "
                         f">= {DELTA_GOAL['ratio']:.0f}x fewer instructions than dense SMLAD "
                         f"GRU: {ratio:.2f}x ("
                         + ("met" if ratio >= DELTA_GOAL["ratio"] else "NOT met") + ")")
    return lines


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--units", type=int, nargs="+", default=[64, 128])
    ap.add_argument("--activities", type=float, nargs="+", default=list(ACTIVITIES),
                    help="event rates of the event rows (fractions of units per step)")
    ap.add_argument("--sparsity", type=float, default=SPARSITY, help="weight sparsity of the pruned rows")
    ap.add_argument("--time", type=int, default=10, help="time steps per invoke")
    ap.add_argument("--prune-block", type=int, default=PRUNE_BLOCK, choices=(1, 4),
                    help="columns per pruned block (4: block-4 form; 1: unstructured)")
    ap.add_argument("--with-graph-gru", action="store_true",
                    help="also measure the converter's unrolled int8 GRU graph (slow to convert)")
    ap.add_argument("--no-profile", action="store_true",
                    help="skip the step profile at the goal point (4 more QEMU runs)")
    ap.add_argument("--json", type=pathlib.Path, default=None,
                    help="also write the rows (kernel, hidden, event_rate, ...) as a JSON list")
    ap.add_argument("--out", type=pathlib.Path, default=REPO_ROOT / "build" / "micro_bench")
    ap.add_argument("--delta", action="store_true",
                    help="also measure KE_DELTA_GRU/LSTM at --delta-fractions (own table, JSON rows)")
    ap.add_argument("--delta-only", action="store_true", help="only the delta rows and baselines")
    ap.add_argument("--delta-fractions", type=float, nargs="+", default=list(DELTA_FRACTIONS))
    args = ap.parse_args(argv)
    if args.delta or args.delta_only:
        delta_rows = delta_run(args.units, args.time, tuple(args.delta_fractions))
        print("\n".join(delta_report(delta_rows)))
        if args.delta_only:
            if args.json:
                args.json.write_text(json.dumps(delta_rows, indent=1))
                print(f"wrote {args.json}")
            return
    for a in args.activities:
        if not 0 < a <= 1:
            ap.error(f"--activities: {a} is not in (0, 1]")
    if not 0 <= args.sparsity < 1:
        ap.error(f"--sparsity: {args.sparsity} is not in [0, 1)")
    globals()["PRUNE_BLOCK"] = args.prune_block
    rows = run(args.units, args.time, tuple(args.activities), args.sparsity, args.with_graph_gru,
               not args.no_profile)
    report(rows, args.out, args.json)
    if args.delta and args.json:  # the delta rows after the others
        args.json.write_text(json.dumps(json.loads(args.json.read_text()) + delta_rows, indent=1))


if __name__ == "__main__":
    main()

"""Host latency of the KE_EGRU `.tflite` against the converter's `keras.layers.GRU` model.

Per sequence (batch 1, 49 frames x 40 features, 64 units, a Dense(12) head), at
activity 100/30/10 % (fraction of units emitting an event per step, set by the
threshold and measured) and weight sparsity 0/80 %, in float32 and int8.  The
GRU baselines are what the converter makes of `keras.layers.GRU`: float with a
fixed batch (a WHILE loop) and unrolled; int8 unrolled (int8 PTQ of the WHILE
form crashes the TF 2.21 calibrator).  Prints ratios measured in this run.

    python benchmarks/export_bench.py [--repeats 300] [--json out.json] [--save-models DIR]

--save-models writes the int8 models, the input and their MAC counts (meta.json), e.g. to
profile the same models under valgrind.
"""
import argparse
import json
import os
import sys
import time

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import keras  # noqa: E402
import numpy as np  # noqa: E402

from keras_events import EGRU  # noqa: E402
from keras_events.export import Interpreter, to_tflite  # noqa: E402
from keras_events.ops import egru, egru_native  # noqa: E402

T, I, U, CLASSES = 49, 40, 64, 12


def make_interpreter(tflite_bytes, x, ke_ops=True):
    """A ready-to-invoke single-thread interpreter holding one sequence of `x`."""
    if ke_ops:
        interpreter = Interpreter(model_content=tflite_bytes, num_threads=1)
    else:
        import tensorflow as tf
        interpreter = tf.lite.Interpreter(model_content=tflite_bytes, num_threads=1)
    interpreter.allocate_tensors()
    inp = interpreter.get_input_details()[0]
    if inp["dtype"] == np.int8:
        scale, zero_point = inp["quantization"]
        x = np.clip(np.round(x / scale) + zero_point, -128, 127).astype(np.int8)
    interpreter.set_tensor(inp["index"], x[:1].astype(inp["dtype"]))
    interpreter.invoke()
    return interpreter


def latencies(interpreters, repeats, rounds=10):
    """Seconds per invoke of each interpreter: the minimum over `rounds` interleaved
    rounds of `repeats / rounds` invokes (the machine is shared: interleaving gives
    every model the same background load, the minimum filters bursts)."""
    best = {name: float("inf") for name in interpreters}
    per_round = max(1, repeats // rounds)
    for _ in range(rounds):
        for name, interpreter in interpreters.items():
            start = time.perf_counter()
            for _ in range(per_round):
                interpreter.invoke()
            best[name] = min(best[name], (time.perf_counter() - start) / per_round)
    return best


def egru_model(sparsity, seed=0):
    model = keras.Sequential([keras.Input((T, I)), EGRU(U), keras.layers.Dense(CLASSES)])
    cell = model.layers[0].cell
    rng = np.random.default_rng(seed)
    for w in (cell.kernel, cell.recurrent_kernel):
        value = rng.normal(0, 0.25, w.shape)
        if sparsity:  # magnitude pruning, as keras_events.sparsity would leave it
            value[np.abs(value) < np.quantile(np.abs(value), sparsity)] = 0.0
        w.assign(value)
    cell.bias.assign(rng.normal(0, 0.3, cell.bias.shape))
    return model


def set_activity(model, x, target):
    """Chooses one threshold for all units so the event rate on `x` is near `target`."""
    cell = model.layers[0].cell
    w = egru.layer_weights(model.layers[0])
    kernel, recurrent, bias = w["kernel"], w["recurrent_kernel"], w["bias"]
    if target >= 1.0:  # every unit fires every step: c stays near 1 > theta
        bias = bias.copy()
        bias[0, :U] += 4.0       # update gate open
        bias[0, 2 * U:] += 4.0   # candidate near +1
        cell.bias.assign(bias)
        cell.threshold_param.assign(np.full(U, -8.0))
    else:
        lo, hi = -8.0, 8.0
        for _ in range(30):  # bisection on threshold_param; the rate falls as it rises
            mid = (lo + hi) / 2
            theta = np.full(U, 1 / (1 + np.exp(-mid)), np.float32)
            y, _ = egru_native.run_float(x, egru.pack_float(kernel, recurrent, bias, theta), U)
            lo, hi = (mid, hi) if (y != 0).mean() > target else (lo, mid)
        cell.threshold_param.assign(np.full(U, (lo + hi) / 2))
    packed = egru.pack_float(**egru.layer_weights(model.layers[0]))
    y, macs = egru_native.run_float(x, packed, U)
    return float((y != 0).mean()), macs / len(x)


def gru_models(x):
    """Converter outputs for keras.layers.GRU(U): {name: bytes}."""
    import tensorflow as tf

    out = {}
    for name, kwargs, batch in (("gru_while", {}, 1), ("gru_unrolled", {"unroll": True}, 1)):
        model = keras.Sequential([keras.Input((T, I), batch_size=batch),
                                  keras.layers.GRU(U, **kwargs), keras.layers.Dense(CLASSES)])
        converter = tf.lite.TFLiteConverter.from_keras_model(model)
        out[name] = converter.convert()
        if kwargs:
            converter = tf.lite.TFLiteConverter.from_keras_model(model)
            converter.optimizations = [tf.lite.Optimize.DEFAULT]
            converter.representative_dataset = lambda: ([x[i:i + 1]] for i in range(len(x)))
            out[name + "_int8"] = converter.convert()
    return out


def save_models(out, models, x, rows, dense_macs):
    """The int8 models (`<name>.tflite`), the input (x.npy) and MAC counts (meta.json)."""
    import pathlib
    out = pathlib.Path(out)
    out.mkdir(parents=True, exist_ok=True)
    for name, b in models.items():
        (out / f"{name}.tflite").write_bytes(b)
    np.save(out / "x.npy", x)
    meta = {"dense_macs": dense_macs, "rows": [
        dict(name=f"int8_{r['sparsity']}_{r['target']}", sparsity=r["sparsity"],
             target=r["target"], activity=r["activity"], macs=r["macs"]) for r in rows]}
    (out / "meta.json").write_text(json.dumps(meta, indent=1))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=300, help="invokes per model")
    parser.add_argument("--rounds", type=int, default=10, help="interleaved timing rounds")
    parser.add_argument("--json", help="also write the results here")
    parser.add_argument("--save-models", help="write the int8 models, input and MAC counts here")
    args = parser.parse_args()
    models = {}

    x = np.random.default_rng(1).normal(0, 1, (32, T, I)).astype(np.float32)
    gru_bytes = gru_models(x)
    models["gru_unrolled_int8"] = gru_bytes["gru_unrolled_int8"]
    interpreters = {name: make_interpreter(b, x, ke_ops=False) for name, b in gru_bytes.items()}
    dense_macs = T * (I + U) * 3 * U
    rows = []
    for sparsity in (0.0, 0.8):
        for target in (1.0, 0.3, 0.1):
            model = egru_model(sparsity)
            activity, macs = set_activity(model, x, target)
            key = f"{sparsity}_{target}"
            interpreters["float_" + key] = make_interpreter(to_tflite(model), x)
            models["int8_" + key] = to_tflite(model, quantize="int8", representative_data=x)
            interpreters["int8_" + key] = make_interpreter(models["int8_" + key], x)
            rows.append(dict(sparsity=sparsity, target=target, activity=activity, macs=macs))
    if args.save_models:
        save_models(args.save_models, models, x, rows, dense_macs)
    seconds = latencies(interpreters, args.repeats, args.rounds)
    gru = {name: seconds[name] for name in ("gru_while", "gru_unrolled", "gru_unrolled_int8")}
    for r in rows:
        key = f"{r['sparsity']}_{r['target']}"
        r["float_us"] = seconds["float_" + key] * 1e6
        r["int8_us"] = seconds["int8_" + key] * 1e6
    print(f"GRU baselines (us/sequence): " + ", ".join(f"{k} {v * 1e6:.0f}" for k, v in gru.items()))
    print(f"{'sparsity':>8} {'activity':>8} {'MACs':>8} {'MAC ratio':>9} {'float us':>9} "
          f"{'xGRU-while':>10} {'xGRU-unroll':>11} {'int8 us':>8} {'xGRU-int8':>9}")
    for r in rows:
        print(f"{r['sparsity']:>8.0%} {r['activity']:>8.1%} {r['macs']:>8.0f} "
              f"{dense_macs / r['macs']:>9.1f} {r['float_us']:>9.0f} "
              f"{gru['gru_while'] * 1e6 / r['float_us']:>10.2f} "
              f"{gru['gru_unrolled'] * 1e6 / r['float_us']:>11.2f} {r['int8_us']:>8.0f} "
              f"{gru['gru_unrolled_int8'] * 1e6 / r['int8_us']:>9.2f}")
    print("xGRU = GRU latency / KE_EGRU latency (>1: KE_EGRU faster); "
          "MAC ratio = dense GRU MACs / executed KE_EGRU MACs.")
    print("goal (issue 17): int8 speed-up vs the converter's int8 GRU >= 0.5 x MAC ratio at "
          "<= 30 % activity:")
    for r in rows:
        if r["target"] > 0.3:
            continue
        speedup = gru["gru_unrolled_int8"] * 1e6 / r["int8_us"]
        need = 0.5 * dense_macs / r["macs"]
        r["int8_goal_met"] = speedup >= need
        print(f"  {r['sparsity']:.0%} pruned, {r['activity']:.0%} events: {speedup:.2f}x, needs "
              f"{need:.2f}x ({'met' if speedup >= need else f'NOT met, {need / speedup:.2f}x short'})")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"gru_seconds": gru, "rows": rows, "dense_macs": dense_macs}, f, indent=1)


if __name__ == "__main__":
    main()

"""Runs of the int8 models on the emulated Cortex-M4 (QEMU mps2-an386) and on the host
TFLite Micro with the same code (``keras_events.micro.run``): instructions per inference,
flash/RAM, and whether the board's int8 outputs equal the host's."""

import numpy as np

from recipes.common.export import ARENA_SIZE, quantize
from recipes.common.stages import DENSE, EVENT, EVENT_MODELS

BOARD = "mps2-an386"


def board_available():
    """(True, "") when the emulated board can run, else (False, reason)."""
    import shutil

    missing = [t for t in ("qemu-system-arm", "arm-none-eabi-gcc") if shutil.which(t) is None]
    if missing:
        return False, f"{', '.join(missing)} not installed (make install-apt)"
    return True, ""


def memory(run):
    """Flash = code + model (not the embedded test inputs); RAM = static data + the arena
    actually used (the firmware reserves a larger arena)."""
    m = run.memory
    return {"flash_bytes": int(m["flash_code_bytes"] + m["flash_model_bytes"]),
            "ram_bytes": int(m["static_ram_bytes"] - m["arena_size"] + m["arena_used_bytes"])}


def arena_for(model_bytes, limit=3 * 1024 * 1024):
    """Arena for ``model_bytes`` on the board: at least 1 MiB and 2x what the host TFLM
    uses. TFLM's memory planner also plans inside the arena and fails with "Too many
    buffers" when it is tight, which the unrolled GRU (~100 ops per step) hits."""
    from keras_events.micro import Interpreter

    interp = Interpreter(bytes(model_bytes), arena_size=limit)
    used = interp.arena_used_bytes()
    interp.close()
    return int(min(limit, max(1024 * 1024, 2 * used)))


def dense_kernel_model(units, features, classes, frames, seed=0):
    """The "dense kernel" baseline of benchmarks/micro_bench.py for the board: a streaming
    EGRU op of the same size storing every weight (``sparse_weights=False``) whose units
    all fire every step (update gate open, candidate above threshold), i.e. all 3U(I+U)
    MACs per frame in the same kernel style. Instructions only: its outputs mean nothing.
    ``frames``: calibration inputs [..., features]."""
    import keras
    import tensorflow as tf
    from keras_events import EGRUCell, export

    rng = np.random.default_rng(seed)
    model = keras.Sequential([keras.Input(batch_shape=(1, 1, features)),
                              keras.layers.RNN(EGRUCell(units)), keras.layers.Dense(classes)])
    bias = np.zeros((2, 3 * units), np.float32)
    bias[0, :units] = 4.0  # update gate ~1: c follows the candidate
    bias[0, 2 * units:] = 1.5  # candidate ~0.9 > threshold 0.5: an event every step
    model.layers[0].cell.set_weights([
        (0.05 * rng.standard_normal((features, 3 * units))).astype(np.float32),
        (0.05 * rng.standard_normal((units, 3 * units))).astype(np.float32),
        bias, np.zeros((units,), np.float32)])
    from recipes.common.output import quiet_native

    with quiet_native():
        return export.to_tflite(model, quantize="int8", sparse_weights=False,
                                representative_data=np.asarray(frames, np.float32).reshape(-1, 1, features),
                                inference_input_type=tf.int8, inference_output_type=tf.int8)


def _total(est_cycles):
    """Sum of the per-invoke estimated cycles (None when the run had no class counts)."""
    return None if not est_cycles else float(sum(est_cycles))


def board_runs(tflite, clip, units, calibration):
    """Runs on QEMU mps2-an386 (Cortex-M4F) with ``keras_events.micro.run``:
      * ``egru``: the streaming event model ``tflite["egru_stream"]`` over ``clip`` (one
        frame per invoke);
      * ``delta_gru``: the streaming delta model ``tflite["delta_gru_stream"]`` likewise;
      * ``gru``: the unrolled int8 GRU ``tflite["gru"]`` on ``clip`` (one invoke);
      * ``dense_kernel``: ``dense_kernel_model`` streaming over ``clip``;
      * ``dense_smlad``: the dense SMLAD int8 GRU kernel (``recipes.common.dense_smlad``)
        of the same size, one step per frame of ``clip`` (kernel only, bit for bit
        against the event kernel inside the firmware).
    Each: instructions per inference (and per frame), flash/RAM, and whether the board's
    int8 outputs equal the host TFLM's (fraction of equal values). A model that fails
    (e.g. too large for the board) gets ``{"error": ...}`` and spares the others."""
    from keras_events import micro

    frames, features = clip.shape
    results = {}

    def streamed(name, model):
        details = micro.Interpreter(bytes(model), arena_size=ARENA_SIZE).get_input_details()[0]
        xq = quantize(clip, details).reshape(frames, *details["shape"])
        board = micro.run(bytes(model), xq, board=BOARD, arena_size=ARENA_SIZE, timeout=600)
        host = micro.run(bytes(model), xq, board="host", arena_size=ARENA_SIZE)
        equal = np.mean([np.array_equal(b[0], h[0]) for b, h in zip(board.outputs, host.outputs)])
        results[name] = {"instructions": int(sum(board.instructions)),
                         "instructions_per_frame": [int(i) for i in board.instructions],
                         "est_cycles": _total(board.est_cycles),
                         "host_equal": float(equal), **memory(board)}

    def dense_baseline(model):
        from keras_events.export import Interpreter

        arena = arena_for(model)
        details = Interpreter(model_content=model).get_input_details()[0]
        xq = quantize(clip[None], details)
        board = micro.run(model, xq, board=BOARD, arena_size=arena, timeout=600)
        host = micro.run(model, xq, board="host", arena_size=arena)
        results[DENSE] = {"instructions": int(board.instructions[0]),
                          "est_cycles": _total(board.est_cycles),
                          "host_equal": float(np.mean(board.outputs[0][0] == host.outputs[0][0])),
                          **memory(board)}

    def dense_kernel(stream):
        classes = micro.Interpreter(bytes(stream), ARENA_SIZE).get_output_details()[0]["shape"][-1]
        streamed("dense_kernel", dense_kernel_model(units, features, classes, calibration))

    def smlad():
        from recipes.common import dense_smlad

        m = dense_smlad.measure(units, features, frames, timeout=600)
        results["dense_smlad"] = {k: m[k] for k in (
            "instructions", "est_cycles", "instructions_per_step", "flash_bytes", "ram_bytes")}

    jobs = []
    for name in EVENT_MODELS:
        if f"{name}_stream" in tflite:
            jobs.append((name, lambda n=name: streamed(n, tflite[f"{n}_stream"])))
    if f"{EVENT}_stream" in tflite:
        jobs.append(("dense_kernel", lambda: dense_kernel(tflite[f"{EVENT}_stream"])))
    if DENSE in tflite:  # the SMLAD kernel is the dense GRU's row (its accuracy)
        jobs += [(DENSE, lambda: dense_baseline(bytes(tflite[DENSE]))), ("dense_smlad", smlad)]
    for name, job in jobs:
        try:
            job()
        except Exception as err:
            results[name] = {"error": str(err).splitlines()[0][:300]}
    return results

"""Always-on cost: instructions per second of audio, front end included, per model.

A keyword spotter runs forever, so what it costs is the work per second of audio at the
accuracy it reaches. Streaming (recurrent) models do their work once per 10 ms frame:
front end + model step, 100 times a second. A window classifier (DS-CNN) re-classifies
a 1 s window several times a second (4/s as deployed, 2/s also shown) on top of a
front end that runs once per 20 ms frame (50/s); overlapping windows share frames.

Every number comes from a run on the emulated Cortex-M4 (QEMU, instruction counts;
``est_cycles``: keras_events.micro.qemu.CYCLE_MODEL); what was not measured is listed
under ``missing`` with the reason, never filled in.
"""

FRAMES_PER_SECOND = 100          # 10 ms hop of the recurrent models' front end
DSCNN_FRAMES_PER_SECOND = 50     # 20 ms hop of the DS-CNN's MFCC frames
DSCNN_WINDOWS_PER_SECOND = (4, 2)  # first: the always-on figure, second: also printed
ORDER = ("egru_int8", "delta_gru_int8", "gru_dense_int8", "gru_converter_int8", "lstm_cmsis_int8", "dscnn_int8")


def _streaming(accuracy, run, frames, front_end, note):
    """Entry of a streaming model from its board run over one clip of ``frames`` frames."""
    per_frame = run["instructions"] / frames
    cycles = run.get("est_cycles")
    entry = {
        "test_accuracy": accuracy,
        "m4_instructions_per_inference": int(run["instructions"]),
        "m4_est_cycles_per_inference": None if cycles is None else int(cycles),
        "inference": f"one {frames}-frame clip ({frames} streaming steps)",
        "m4_instructions_per_frame": per_frame,
        "front_end_instructions_per_frame": front_end["instructions_per_frame"],
        "always_on_instructions_per_second": int(round(
            FRAMES_PER_SECOND * (per_frame + front_end["instructions_per_frame"]))),
        "flash_bytes": run.get("flash_bytes"),
        "arena_bytes": run.get("ram_bytes"),
        "note": note,
    }
    if cycles is not None and front_end.get("est_cycles_per_frame") is not None:
        entry["always_on_est_cycles_per_second"] = int(round(
            FRAMES_PER_SECOND * (cycles / frames + front_end["est_cycles_per_frame"])))
    return entry


def _dscnn(row, front_end):
    """A window classifier: the log-mel front end (+ the MFCC DCT when measured on the
    board: ``dct_instructions_per_frame``, q15 only) 50 times a second, the model
    ``rate`` times a second."""
    dct, dct_cycles = front_end.get("dct_instructions_per_frame"), \
        front_end.get("dct_est_cycles_per_frame")
    per_frame = front_end["instructions_per_frame"] + (dct or 0)
    fe = DSCNN_FRAMES_PER_SECOND * per_frame
    entry = {
        "test_accuracy": row["test_accuracy"],
        "m4_instructions_per_inference": int(row["mcu_instructions"]),
        "m4_est_cycles_per_inference": row.get("mcu_est_cycles"),
        "inference": "one 1 s window (49 x 10 MFCC)",
        "front_end_instructions_per_frame": per_frame,
        "front_end_frames_per_second": DSCNN_FRAMES_PER_SECOND,
        "flash_bytes": row.get("flash_bytes"),
        "arena_bytes": row.get("ram_bytes"),
        "note": ("front end: the recipe's log-mel every 20 ms + the 10 x 40 MFCC DCT "
                 f"(ke_dct_q.c, {dct:.0f} instructions per frame on the board)") if dct else
                ("front end: the recipe's log-mel every 20 ms; the 10 x 40 DCT per frame "
                 "(400 MACs) is not counted (measured with --frontend q15 only)"),
    }
    for rate in DSCNN_WINDOWS_PER_SECOND:
        entry[f"always_on_instructions_per_second_at_{rate}_windows"] = int(round(
            rate * row["mcu_instructions"] + fe))
    entry["always_on_instructions_per_second"] = \
        entry[f"always_on_instructions_per_second_at_{DSCNN_WINDOWS_PER_SECOND[0]}_windows"]
    cycles, fe_cycles = row.get("mcu_est_cycles"), front_end.get("est_cycles_per_frame")
    if cycles is not None and fe_cycles is not None and (dct is None or dct_cycles is not None):
        entry["always_on_est_cycles_per_second"] = int(round(
            DSCNN_WINDOWS_PER_SECOND[0] * cycles
            + DSCNN_FRAMES_PER_SECOND * (fe_cycles + (dct_cycles or 0))))
    return entry


def cost_table(results, board, front_end, frames):
    """{"models": {name: entry}, "missing": {name: reason}, "front_end": ...}.

    ``results``: the recipe's rows (``gru_int8``, ``egru_int8``, ``dscnn_int8``...);
    ``board``: ``recipes.common.board.board_runs`` output; ``front_end``: the front end's
    board run (``instructions_per_frame``, ``est_cycles_per_frame``, ``frontend``);
    ``frames``: frames of the clip the streaming models ran over."""
    board = board or {}
    models, missing = {}, {}
    if not front_end or front_end.get("status") != "ok":
        reason = "front end not measured on the board: " + str((front_end or {}).get("status"))
        return {"models": {}, "missing": {n: reason for n in ORDER}, "front_end": front_end}
    fe_name = front_end.get("frontend", "float")

    def streamed(name, row_name, run_name, note):
        row, run = results.get(row_name), board.get(run_name)
        if row is None:
            missing[name] = f"{row_name} not trained/exported (--models)"
        elif run is None or "instructions" not in run:
            missing[name] = f"not run on the board: {(run or {}).get('error', '--no-board?')}"
        else:
            models[name] = _streaming(row["test_accuracy"], run, frames, front_end, note)

    streamed("egru_int8", "egru_int8", "egru",
             f"streaming EGRU op, one frame per invoke; front end {fe_name}")
    streamed("delta_gru_int8", "delta_gru_int8", "delta_gru",
             "streaming Delta-GRU op (KE_DELTA_GRU), one frame per invoke: multiplies only "
             f"the weight rows of sent input/hidden deltas; front end {fe_name}")
    streamed("gru_dense_int8", "gru_int8", "dense_smlad",
             "the project's dense int8 GRU kernel with SMLAD dual MACs (ke_dense_smlad.c), "
             "the recipe's size, one step per frame: kernel only (no TFLM invoke overhead, "
             "no classifier head; flash = weights + constants, code not included), bit for "
             "bit against the event kernel on the board; accuracy: the converter GRU's")
    streamed("gru_converter_int8", "gru_int8", "gru",
             "converter's unrolled int8 GRU graph over the clip; per frame = clip / frames")
    row = results.get("lstm_int8")
    if row is None:
        missing["lstm_cmsis_int8"] = "lstm not trained (--models ...,lstm)"
    elif "mcu_instructions" not in row:
        missing["lstm_cmsis_int8"] = f"not run on the board: {row.get('board', row.get('error'))}"
    else:
        run = {"instructions": row["mcu_instructions"], "est_cycles": row.get("mcu_est_cycles"),
               "flash_bytes": row.get("flash_bytes"), "ram_bytes": row.get("ram_bytes")}
        models["lstm_cmsis_int8"] = _streaming(
            row["test_accuracy"], run, frames, front_end,
            "TFLM's fused int8 UNIDIRECTIONAL_SEQUENCE_LSTM (CMSIS-NN) over the clip, one "
            "invoke; per frame = clip / frames (the same kernel streams one step per frame)")
    row = results.get("dscnn_int8")
    if row is None:
        missing["dscnn_int8"] = "dscnn not trained (--models ...,dscnn)"
    elif "mcu_instructions" not in row:
        missing["dscnn_int8"] = f"not run on the board: {row.get('board', row.get('error'))}"
    else:
        models["dscnn_int8"] = _dscnn(row, front_end)
    return {"models": {n: models[n] for n in ORDER if n in models},
            "missing": {n: missing[n] for n in ORDER if n in missing},
            "front_end": {k: front_end.get(k) for k in
                          ("frontend", "instructions_per_frame", "est_cycles_per_frame",
                           "dct_instructions_per_frame", "dct_est_cycles_per_frame")}}


def format_cost(cost):
    """The printed always-on table (M = 10^6 instructions per second of audio)."""
    head = (f"{'always-on cost':<20}{'accuracy':>10}{'M4 instr/inf':>14}{'instr/s (M)':>13}"
            f"{'flash B':>10}{'arena B':>10}")
    lines = [head, "-" * len(head)]
    for name, e in cost["models"].items():
        lines.append(f"{name:<20}{e['test_accuracy']:>10.4f}{e['m4_instructions_per_inference']:>14d}"
                     f"{e['always_on_instructions_per_second'] / 1e6:>13.2f}"
                     f"{e.get('flash_bytes') or 0:>10d}{e.get('arena_bytes') or 0:>10d}")
        if name == "dscnn_int8":
            rate = DSCNN_WINDOWS_PER_SECOND[1]
            lines.append(f"{'  (at ' + str(rate) + ' windows/s)':<20}{'':>24}"
                         f"{e[f'always_on_instructions_per_second_at_{rate}_windows'] / 1e6:>13.2f}")
    fe = cost.get("front_end") or {}
    if fe.get("instructions_per_frame") is not None:
        lines.append(f"  front end ({fe.get('frontend')}): {fe['instructions_per_frame']:.0f} "
                     "instructions/frame, included above")
    if fe.get("dct_instructions_per_frame") is not None:
        lines.append(f"  MFCC DCT (dscnn_int8 only): {fe['dct_instructions_per_frame']:.0f} "
                     "instructions/frame, included above")
    for name, why in cost["missing"].items():
        lines.append(f"  {name}: not measured ({why})")
    return "\n".join(lines)


def plot_cost(cost, path):
    """Accuracy vs always-on instructions per second, one point per model (log x)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for name, e in cost["models"].items():
        x = e["always_on_instructions_per_second"] / 1e6
        ax.scatter([x], [100 * e["test_accuracy"]], s=40)
        ax.annotate(name, (x, 100 * e["test_accuracy"]), textcoords="offset points",
                    xytext=(5, 4), fontsize=8)
    ax.set_xscale("log")
    ax.set_xlabel("always-on M4 instructions per second of audio (millions, front end included)")
    ax.set_ylabel("test accuracy (%)")
    fe = (cost.get("front_end") or {}).get("frontend", "?")
    ax.set_title(f"Accuracy vs always-on cost (front end: {fe}; DS-CNN at 4 windows/s)")
    ax.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path

"""PNG plots of the keyword recipe: training curves, event raster of one utterance,
accuracy vs weight sparsity, Cortex-M4 instructions vs activity."""

import os

import numpy as np


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _example_index(labels):
    return int(np.flatnonzero(labels >= 2)[0]) if np.any(labels >= 2) else 0


def plot_event_raster(cfg, state, path):
    """Event raster of one test utterance: log-mel on top, EGRU events (y != 0) below."""
    import keras

    plt = _pyplot()
    model = state["models"]["egru"]
    probe = keras.Model(model.inputs, model.get_layer("egru").output)
    labels = state["y_testing"]
    index = _example_index(labels)
    x = state["x_testing"][index:index + 1]
    y = np.asarray(probe.predict(x, verbose=0))[0]  # (frames, units)
    fig, (ax0, ax1) = plt.subplots(2, 1, figsize=(8, 6), sharex=True)
    ax0.imshow(x[0].T, aspect="auto", origin="lower", cmap="magma")
    ax0.set_ylabel("mel band")
    ax0.set_title(f"'{state['class_names'][labels[index]]}': log-mel and EGRU events "
                  f"(rate {np.mean(y != 0):.3f})")
    t, u = np.nonzero(y)
    ax1.scatter(t, u, s=4, marker="|", color="k")
    ax1.set_xlim(-0.5, y.shape[0] - 0.5)
    ax1.set_ylim(-0.5, y.shape[1] - 0.5)
    ax1.set_xlabel("frame (10 ms)")
    ax1.set_ylabel("unit")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def plot_training(state, path):
    """Validation accuracy per epoch of every trained model."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 4))
    for name, r in state["results"].items():
        if "history" not in r:  # int8 rows
            continue
        ax.plot(np.arange(1, len(r["history"]["val_accuracy"]) + 1),
                r["history"]["val_accuracy"], label=name)
    ax.set_xlabel("epoch")
    ax.set_ylabel("validation accuracy")
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def plot_accuracy_vs_sparsity(state, path):
    """Test accuracy vs weight sparsity of every trained model (float and int8; with
    ``--sweep`` also the extra EGRUs)."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 4))
    points = list(state.get("sparsity_points", []))
    for name in ("gru_int8", "egru_int8"):
        r = state["results"].get(name)
        if r:
            points.append({"model": name, "weight_sparsity": r["weight_sparsity"],
                           "test_accuracy": r["test_accuracy"]})
    sweep = sorted((p for p in points if p["model"].startswith("egru@")),
                   key=lambda p: p["weight_sparsity"])
    if sweep:
        ax.plot([p["weight_sparsity"] for p in sweep], [p["test_accuracy"] for p in sweep],
                "o-", color="C1", alpha=0.5, label="EGRU sweep")
    markers = {"gru": ("s", "C0"), "gru_int8": ("s", "C2"), "egru": ("o", "C1"),
               "egru_int8": ("o", "C3")}
    for p in points:
        if p["model"] in markers:
            marker, color = markers[p["model"]]
            ax.scatter(p["weight_sparsity"], p["test_accuracy"], marker=marker, color=color,
                       s=50, label=p["model"], zorder=3)
    ax.set_xlabel("weight sparsity (recurrent layer kernels)")
    ax.set_ylabel("test accuracy")
    ax.set_xlim(-0.05, 1.0)
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def plot_instructions_vs_activity(state, path):
    """Instructions of each streaming invoke on the emulated Cortex-M4 vs the number of
    units that emitted an event in the previous frame (the rows of the recurrent
    product the event kernel reads; events from the host int8 whole-sequence run of the
    same clip)."""
    plt = _pyplot()
    board = state["board"]
    per_frame = np.asarray(board["egru"]["instructions_per_frame"])
    events = state["egru_int8_events"][_example_index(state["y_testing"])]  # [frames, units]
    active_prev = np.concatenate([[0], events.sum(axis=1)[:-1]])
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.scatter(active_prev, per_frame, s=12, label="EGRU int8 (event kernel), one frame")
    if len(per_frame) > 2 and np.ptp(active_prev) > 0:
        slope, intercept = np.polyfit(active_prev, per_frame, 1)
        xs = np.array([0, events.shape[1]])
        ax.plot(xs, intercept + slope * xs, color="C0", alpha=0.5,
                label=f"fit: {intercept:.0f} + {slope:.0f} per active unit")
    if "instructions" in board.get("dense_kernel", {}):
        dense = np.mean(board["dense_kernel"]["instructions_per_frame"])
        ax.axhline(dense, color="C3", ls="--", label=f"dense kernel ({dense:.0f}/frame)")
    if "instructions" in board.get("gru", {}):
        gru = board["gru"]["instructions"] / len(per_frame)
        ax.axhline(gru, color="C2", ls=":", label=f"converter int8 GRU ({gru:.0f}/frame)")
    ax.set_xlabel(f"units with an event in the previous frame (of {events.shape[1]})")
    ax.set_ylabel("Cortex-M4 instructions per frame")
    ax.set_ylim(bottom=0)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def write_all(cfg, state):
    """Writes every plot the state has data for; returns the file names."""
    written = []

    def save(name, fn, *args):
        fn(*args, os.path.join(cfg.out, name))
        written.append(name)

    save("training.png", plot_training, state)
    if "egru" in state["models"]:
        save("event_raster.png", plot_event_raster, cfg, state)
    if state.get("sparsity_points"):
        save("accuracy_vs_sparsity.png", plot_accuracy_vs_sparsity, state)
    if "instructions" in state.get("board", {}).get("egru", {}) and "egru_int8_events" in state:
        save("instructions_vs_activity.png", plot_instructions_vs_activity, state)
    return written

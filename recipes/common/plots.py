"""PNG plots of a recipe: training curves, event raster of one input, accuracy vs weight
sparsity, Cortex-M4 instructions vs activity."""

import os

import numpy as np

from recipes.common.stages import DENSE, EVENT


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_event_raster(state, path, example, feature_label="feature", input_name="input",
                      frame_label="frame"):
    """Event raster of test input ``example``: its features on top (``input_name``, rows
    labelled ``feature_label``), the event layer's events (y != 0) below."""
    import keras

    plt = _pyplot()
    model = state["models"][EVENT]
    probe = keras.Model(model.inputs, model.get_layer(EVENT).output)
    labels = state["y_testing"]
    x = state["x_testing"][example:example + 1]
    y = np.asarray(probe.predict(x, verbose=0))[0]  # (frames, units)
    fig, (ax0, ax1) = plt.subplots(2, 1, figsize=(8, 6), sharex=True)
    ax0.imshow(x[0].T, aspect="auto", origin="lower", cmap="magma")
    ax0.set_ylabel(feature_label)
    ax0.set_title(f"'{state['class_names'][labels[example]]}': {input_name} and {EVENT.upper()} events "
                  f"(rate {np.mean(y != 0):.3f})")
    t, u = np.nonzero(y)
    ax1.scatter(t, u, s=4, marker="|", color="k")
    ax1.set_xlim(-0.5, y.shape[0] - 0.5)
    ax1.set_ylim(-0.5, y.shape[1] - 0.5)
    ax1.set_xlabel(frame_label)
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
    """Test accuracy vs weight sparsity of every trained model (float and int8; with a
    sparsity sweep also the extra event models)."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 4))
    points = list(state.get("sparsity_points", []))
    for name in (f"{DENSE}_int8", f"{EVENT}_int8"):
        r = state["results"].get(name)
        if r:
            points.append({"model": name, "weight_sparsity": r["weight_sparsity"],
                           "test_accuracy": r["test_accuracy"]})
    sweep = sorted((p for p in points if p["model"].startswith(f"{EVENT}@")),
                   key=lambda p: p["weight_sparsity"])
    if sweep:
        ax.plot([p["weight_sparsity"] for p in sweep], [p["test_accuracy"] for p in sweep],
                "o-", color="C1", alpha=0.5, label=f"{EVENT.upper()} sweep")
    markers = {DENSE: ("s", "C0"), f"{DENSE}_int8": ("s", "C2"), EVENT: ("o", "C1"),
               f"{EVENT}_int8": ("o", "C3")}
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


def plot_accuracy_vs_event_rate(state, path):
    """Test accuracy vs measured event rate of the event models of ``--rate-sweep`` (and
    the main one), with the dense model's accuracy as a horizontal line."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 4))
    points = sorted(state.get("rate_points", []), key=lambda p: p["event_rate"])
    ax.plot([p["event_rate"] for p in points], [p["test_accuracy"] for p in points], "o-",
            color="C1", label=f"{EVENT.upper()} (target-rate sweep)")
    event = state["results"].get(EVENT)
    if event and "event_rate" in event:
        ax.scatter(event["event_rate"], event["test_accuracy"], marker="*", s=120, color="C3",
                   zorder=3, label=f"{EVENT.upper()} (recipe setting)")
    dense = state["results"].get(DENSE)
    if dense:
        ax.axhline(dense["test_accuracy"], color="C0", linestyle="--",
                   label=f"{DENSE.upper()} ({dense['test_accuracy']:.3f})")
    ax.set_xlabel("events per unit and step")
    ax.set_ylabel("test accuracy")
    ax.set_xlim(0.0, max([0.45] + [p["event_rate"] + 0.05 for p in points]))
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def plot_instructions_vs_activity(state, path, example):
    """Instructions of each streaming invoke on the emulated Cortex-M4 vs the number of
    units that emitted an event in the previous frame (the rows of the recurrent
    product the event kernel reads; events from the host int8 whole-sequence run of
    test input ``example``, the one the board ran)."""
    plt = _pyplot()
    board = state["board"]
    per_frame = np.asarray(board[EVENT]["instructions_per_frame"])
    events = state[f"{EVENT}_int8_events"][example]  # [frames, units]
    active_prev = np.concatenate([[0], events.sum(axis=1)[:-1]])
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.scatter(active_prev, per_frame, s=12, label=f"{EVENT.upper()} int8 (event kernel), one frame")
    if len(per_frame) > 2 and np.ptp(active_prev) > 0:
        slope, intercept = np.polyfit(active_prev, per_frame, 1)
        xs = np.array([0, events.shape[1]])
        ax.plot(xs, intercept + slope * xs, color="C0", alpha=0.5,
                label=f"fit: {intercept:.0f} + {slope:.0f} per active unit")
    if "instructions" in board.get("dense_kernel", {}):
        dense = np.mean(board["dense_kernel"]["instructions_per_frame"])
        ax.axhline(dense, color="C3", ls="--", label=f"dense kernel ({dense:.0f}/frame)")
    if "instructions" in board.get(DENSE, {}):
        gru = board[DENSE]["instructions"] / len(per_frame)
        ax.axhline(gru, color="C2", ls=":", label=f"converter int8 {DENSE.upper()} ({gru:.0f}/frame)")
    ax.set_xlabel(f"units with an event in the previous frame (of {events.shape[1]})")
    ax.set_ylabel("Cortex-M4 instructions per frame")
    ax.set_ylim(bottom=0)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def write_all(out, state, example, raster_labels=None):
    """Writes every plot the state has data for into ``out``; returns the file names.
    ``example``: the test input of the event raster (and of the board run);
    ``raster_labels``: keyword arguments of ``plot_event_raster`` naming the input."""
    written = []

    def save(name, fn, *args, **kwargs):
        fn(state, os.path.join(out, name), *args, **kwargs)
        written.append(name)

    save("training.png", plot_training)
    if EVENT in state["models"]:
        save("event_raster.png", plot_event_raster, example, **(raster_labels or {}))
    if state.get("sparsity_points"):
        save("accuracy_vs_sparsity.png", plot_accuracy_vs_sparsity)
    if state.get("rate_points"):
        save("accuracy_vs_event_rate.png", plot_accuracy_vs_event_rate)
    if "instructions" in state.get("board", {}).get(EVENT, {}) and f"{EVENT}_int8_events" in state:
        save("instructions_vs_activity.png", plot_instructions_vs_activity, example)
    return written

"""The acoustic-event recipe's own PNGs: confusion matrix and detection timeline (the
shared ``recipes.common.plots`` draws training curves, the event raster, accuracy vs
event rate and instructions vs activity)."""

import numpy as np

from recipes.common.plots import _pyplot


def plot_confusion(state, path, name):
    """Confusion matrix of model ``name`` on the fold-1 test clips (rows: true class)."""
    from recipes.aed.training import model_input

    plt = _pyplot()
    classes = state["class_names"]
    pred = state["models"][name].predict(model_input(name, state["x_testing"]), verbose=0).argmax(-1)
    m = np.zeros((len(classes), len(classes)), int)
    np.add.at(m, (state["y_testing"], pred), 1)
    fig, ax = plt.subplots(figsize=(7, 6))
    ax.imshow(m, cmap="Blues")
    for i, j in zip(*np.nonzero(m)):
        ax.text(j, i, str(m[i, j]), ha="center", va="center", fontsize=8,
                color="white" if m[i, j] > m.max() / 2 else "black")
    ax.set_xticks(range(len(classes)), classes, rotation=60, ha="right", fontsize=8)
    ax.set_yticks(range(len(classes)), classes, fontsize=8)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(f"{name}: fold {state.get('test_fold', 1)} test clips "
                 f"(accuracy {np.trace(m) / m.sum():.3f})")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def plot_timeline(state, path, seconds=60.0):
    """The first ``seconds`` of the detection stream: log-mel, true events, each model's
    top score and detections, and the EGRU's event raster under them."""
    plt = _pyplot()
    s = state["stream"]
    dt = s["frame_seconds"]
    n = min(s["frames"], int(seconds / dt))
    models = list(s["models"])
    rows = 2 + len(models) + ("egru_events" in s)
    fig, axes = plt.subplots(rows, 1, figsize=(11, 1.4 * rows + 1), sharex=True)
    axes[0].imshow(s["features"][:n].T, aspect="auto", origin="lower", cmap="magma",
                   extent=(0, n * dt, 0, s["features"].shape[1]))
    axes[0].set_ylabel("mel")
    names = state["class_names"]

    def spans(ax, events, color):
        for onset, offset, label in events:
            if onset < n * dt:
                ax.axvspan(onset, min(offset, n * dt), color=color, alpha=0.25)
                ax.text(onset, 0.85, names[label], fontsize=7, transform=ax.get_xaxis_transform())

    spans(axes[1], s["reference"], "C2")
    axes[1].set_yticks([])
    axes[1].set_ylabel("truth")
    t = np.arange(n) * dt
    for ax, name in zip(axes[2:], models):
        m = s["models"][name]
        ax.plot(t, m["scores"][:n].max(axis=1), color="k", lw=0.8)
        spans(ax, m["detected"], "C1")
        ax.set_ylim(0, 1.05)
        ax.set_ylabel(f"{name}\nF1 {m['f1']:.2f}", fontsize=8)
    if "egru_events" in s:
        ev = s["egru_events"][:n]
        ft, u = np.nonzero(ev)
        axes[-1].scatter(ft * dt, u, s=1, marker="|", color="k")
        axes[-1].set_ylabel(f"EGRU unit\n({ev.mean():.3f} ev.)", fontsize=8)
    axes[-1].set_xlabel("stream time (s)")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)

"""The sweep's results table, the "multiplies" check, ``results.json`` and the PNG plot of
perplexity vs effective MACs per token.

The compute reduction of a model is the dense GRU's recurrent MACs per token (every
weight, every step) over the model's effective MACs. For an EGRU it combines the two
sparsities: with weight density ``d = 1 − s`` and event rate ``r`` an event kernel does
about ``d · (I + r · U) · 3U`` MACs per step instead of ``3U(I + U)`` -- the factors
multiply (Mukherji et al. 2024 report ~20x fewer operations at a perplexity within a few
points of the dense model on PTB). ``weight_x_activity`` is the product of the reduction
from pruning alone and from activity alone; it matches the measured combined reduction
when the two are independent.
"""

import json
import os

COLUMNS = (
    ("valid_ppl", "valid ppl", "{:.1f}"),
    ("test_ppl", "test ppl", "{:.1f}"),
    ("event_rate", "events", "{:.3f}"),
    ("weight_sparsity", "w-sparsity", "{:.3f}"),
    ("effective_macs_per_token", "eff. MAC/tok", "{:.0f}"),
    ("reduction", "reduction", "{:.1f}x"),
    ("weight_x_activity", "w x act.", "{:.1f}x"),
    ("train_seconds", "train s", "{:.0f}"),
)


def add_reductions(rows):
    """Adds ``reduction`` (dense MACs / effective MACs) and, for event models,
    ``weight_x_activity`` = (dense / weight-only MACs) x (event model's reduction at
    sparsity 0), to every row."""
    dense_events = {r["model"]: r for r in rows if r["target_sparsity"] == 0}
    for r in rows:
        r["reduction"] = r["dense_macs_per_token"] / max(r["effective_macs_per_token"], 1.0)
        unpruned = dense_events.get(r["model"])
        if r["model"] != "gru" and unpruned is not None:
            activity = unpruned["reduction"]
            weight = 1.0 / max(1.0 - r["weight_sparsity"], 1e-9)
            r["weight_x_activity"] = weight * activity
    return rows


def format_table(rows):
    head = f"{'model':<8}{'target':>7}" + "".join(f"{label:>14}" for _, label, _ in COLUMNS)
    lines = [head, "-" * len(head)]
    for r in rows:
        cells = [fmt.format(r[k]) if r.get(k) is not None else "-" for k, _, fmt in COLUMNS]
        lines.append(f"{r['model']:<8}{r['target_sparsity']:>7g}" + "".join(f"{c:>14}" for c in cells))
    return "\n".join(lines)


def multiplies_line(rows):
    """The EGRU's combined reduction at the highest sparsity against the product of its
    weight and activity reductions (measured/product = 1: the factors multiply exactly;
    below 1: pruning hit the rows of active units harder or the event rate rose), the
    EGRU's advantage over the GRU at each sparsity, and the perplexity cost against the
    dense GRU. Informational: how close to 1 is close enough is the reader's call."""
    egru = sorted((r for r in rows if r["model"] == "egru" and "weight_x_activity" in r),
                  key=lambda r: r["target_sparsity"])
    gru = [r for r in rows if r["model"] == "gru" and r["target_sparsity"] == 0]
    if len(egru) < 2:
        return "  [n/a ] multiplies: needs EGRU rows at sparsity 0 and > 0"
    top = egru[-1]
    ratio = top["reduction"] / top["weight_x_activity"]
    text = (f"  [info] multiplies: EGRU at {top['weight_sparsity']:.2f} weight "
            f"sparsity and {top['event_rate']:.3f} events does {top['reduction']:.1f}x fewer MACs "
            f"per token than the dense GRU; weight ({1 / (1 - top['weight_sparsity']):.1f}x) x "
            f"activity ({egru[0]['reduction']:.1f}x) = {top['weight_x_activity']:.1f}x "
            f"(measured/product {ratio:.2f})")
    gru_at = {r["target_sparsity"]: r for r in rows if r["model"] == "gru"}
    ahead = [f"{r['target_sparsity']:g}: {r['reduction'] / gru_at[r['target_sparsity']]['reduction']:.1f}x"
             for r in egru if r["target_sparsity"] in gru_at]
    if ahead:
        text += f"; EGRU/GRU reduction at the same target sparsity {', '.join(ahead)}"
    if gru:
        text += f"; test ppl {top['test_ppl']:.1f} vs dense GRU {gru[0]['test_ppl']:.1f}"
    return text


def plot(rows, path):
    """Test perplexity vs effective MACs per token (log x), one line per model."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    for i, kind in enumerate(sorted({r["model"] for r in rows})):
        pts = sorted((r for r in rows if r["model"] == kind), key=lambda r: r["effective_macs_per_token"])
        ax.plot([r["effective_macs_per_token"] for r in pts], [r["test_ppl"] for r in pts], "o-",
                color=f"C{i}", label=kind.upper())
        for r in pts:
            ax.annotate(f"{r['weight_sparsity']:.0%}", (r["effective_macs_per_token"], r["test_ppl"]),
                        textcoords="offset points", xytext=(4, 4), fontsize=7)
    ax.set_xscale("log")
    ax.set_xlabel("effective MACs per token (recurrent layers)")
    ax.set_ylabel("test perplexity")
    ax.set_title("labels: weight sparsity")
    ax.legend()
    ax.grid(alpha=0.3, which="both")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return os.path.basename(path)


def write(out, summary):
    path = os.path.join(out, "results.json")
    with open(path, "w", encoding="utf-8") as f:
        json.dump(summary, f, indent=1)
    return path

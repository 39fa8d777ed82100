"""The report stage: the shared results table and target checks (``recipes.common.report``:
the issue's goal is the event models within 2 points of the GRU at <= 0.2 events), the
recipe's own table (fold mean ± std, detection F1, instructions per second of audio on
the Cortex-M4 and M0), ``results.json`` and the PNGs."""

import os

from recipes.aed import plots as aed_plots
from recipes.aed import stream as aed_stream
from recipes.aed.config import M0_CPI, M0_HZ, log
from recipes.common import plots as common_plots
from recipes.common import report

RASTER_LABELS = {"feature_label": "mel band", "input_name": "log-mel", "frame_label": "frame"}


def targets(cfg):
    return report.Targets(accuracy_gap=0.02, event_rate=0.2, weight_sparsity=cfg.target_sparsity,
                          train_minutes=15.0 * cfg.folds)


def _fmt(value, fmt):
    return "n/a" if value is None else fmt.format(value)


def aed_table(results):
    """model | accuracy mean ± std | event rate | detection P/R/F1 | M4 / M0 instr. per s."""
    head = (f"{'model':<18}{'accuracy (folds)':>20}{'events':>8}{'det. P':>8}{'det. R':>8}"
            f"{'det. F1':>8}{'M4 instr/s':>13}{'M0 instr/s':>13}")
    rows = [head, "-" * len(head)]
    for name, r in results.items():
        if "test_accuracy" not in r:
            rows.append(f"{name:<18}  {r.get('error', 'n/a')}")
            continue
        acc = f"{r['test_accuracy']:.4f}" + (f" ± {r['test_accuracy_std']:.4f}"
                                             if "test_accuracy_std" in r else "")
        rows.append(f"{name:<18}{acc:>20}{_fmt(r.get('event_rate'), '{:.3f}'):>8}"
                    f"{_fmt(r.get('detection_precision'), '{:.3f}'):>8}"
                    f"{_fmt(r.get('detection_recall'), '{:.3f}'):>8}"
                    f"{_fmt(r.get('detection_f1'), '{:.3f}'):>8}"
                    f"{_fmt(r.get('mcu_instructions_per_second'), '{:.3g}'):>13}"
                    f"{_fmt(r.get('m0_instructions_per_second'), '{:.3g}'):>13}")
    return "\n".join(rows)


def event_model_checks(state, cfg):
    """Each event model (Delta-GRU, eGRU too) against the GRU: within 2 points (fold
    mean) at <= 0.2 events; the eGRU on the M0 in real time."""
    r = state["results"]
    lines = []
    if "gru" not in r:
        return lines
    for name in ("egru", "delta_gru", "embedded_gru"):
        if name in r:
            gap = r["gru"]["test_accuracy"] - r[name]["test_accuracy"]
            ok = gap <= 0.02 and r[name].get("event_rate", 1.0) <= 0.2
            lines.append(f"  [{'PASS' if ok else 'FAIL'}] {name} {r[name]['test_accuracy']:.4f} vs "
                         f"GRU {r['gru']['test_accuracy']:.4f} over {len(state['folds'])} fold(s): "
                         f"{100 * gap:+.1f} points behind at {r[name].get('event_rate', 1.0):.3f} "
                         f"events (target <= 2 points at <= 0.2)")
    q15 = r.get("embedded_gru_q15", {})
    if "m0_instructions_per_second" in q15:
        lines.append(f"  [{'PASS' if q15['m0_real_time'] else 'FAIL'}] eGRU on the Cortex-M0: "
                     f"{q15['m0_instructions_per_second'] / 1e6:.2f} M instructions per second of "
                     f"audio vs {q15['m0_budget_instructions_per_second'] / 1e6:.0f} M budget "
                     f"({M0_HZ / 1e6:.0f} MHz / CPI {M0_CPI}): {q15['m0_real_time_factor']:.1f}x "
                     f"real time; host == M0: {q15['m0_host_equal']}")
    return lines


def stage_report(cfg, state):
    """Prints both tables and the checks; writes the PNGs and ``results.json``."""
    table = report.format_table(state["results"])
    checks = report.target_checks(state, targets(cfg))
    report.print_report(state, table, checks)
    extra = event_model_checks(state, cfg)
    print("\n".join(extra))
    aed = aed_table(state["results"])
    print(aed)
    plots = []
    if cfg.plots:
        plots = common_plots.write_all(cfg.out, state, 0, raster_labels=RASTER_LABELS)
        if "egru" in state["models"] and "accuracy_vs_event_rate.png" not in plots:
            common_plots.plot_accuracy_vs_event_rate(state, os.path.join(cfg.out, "accuracy_vs_event_rate.png"))
            plots.append("accuracy_vs_event_rate.png")
        for name in ("egru", "gru"):
            if name in state["models"]:
                aed_plots.plot_confusion(state, os.path.join(cfg.out, f"confusion_{name}.png"), name)
                plots.append(f"confusion_{name}.png")
        if state.get("stream", {}).get("models"):
            aed_plots.plot_timeline(state, os.path.join(cfg.out, "detection_timeline.png"))
            plots.append("detection_timeline.png")
    inputs = {"folds": state["folds"], "feature_norm": state["feature_norm"],
              "frame_ms": cfg.frame_ms, "skipped_files": state["dataset"].skipped,
              "m0_budget": {"hz": M0_HZ, "cpi": M0_CPI,
                            "instructions_per_second": M0_HZ / M0_CPI}}
    state["summary"] = report.summary(cfg, state, checks, table, plots, inputs,
                                      {"detection": aed_stream.summary(state.get("stream")),
                                       "event_model_checks": extra, "aed_table": aed})
    path = report.write_results(cfg.out, state["summary"])
    log(f"wrote {path} and {', '.join(plots) or 'no plots'}")
    return state

"""The keyword recipe's report stage: the shared table, target checks and plots
(``recipes.common.report``, ``recipes.common.plots``) plus the front end's parameters and
its run on the board."""

import os

from recipes.common import plots as common_plots
from recipes.common import report
from recipes.common.stages import NOT_BUILT
from recipes.kws import data as kws_data
from recipes.kws import features as kws_features
from recipes.kws.config import log

RASTER_LABELS = {"feature_label": "mel band", "input_name": "log-mel", "frame_label": "frame (10 ms)"}


def front_end_parameters():
    """The log-mel front end as stored in ``results.json``."""
    f = kws_features
    return {"sample_rate": f.SAMPLE_RATE, "window": f.WINDOW, "hop": f.HOP, "n_fft": f.N_FFT,
            "n_mels": f.N_MELS, "fmin": f.FMIN, "fmax": f.FMAX, "log_eps": f.EPS,
            "mel": "htk, unnormalised"}


def write_plots(cfg, state):
    """The PNG plots (event raster and board run of the first keyword test clip)."""
    example = kws_data.first_keyword_clip(state["y_testing"])
    return common_plots.write_all(cfg.out, state, example, raster_labels=RASTER_LABELS)


def stage_report(cfg, state):
    """Prints the table and target checks, writes ``results.json`` and the PNG plots."""
    table = report.format_table(state["results"])
    checks = report.target_checks(state)
    report.print_report(state, table, checks)
    board = state.get("front_end_board", {})
    if board.get("status") == "ok":
        print(f"  front end on Cortex-M4 (QEMU): {board['instructions_per_frame']:.0f} "
              f"instructions/frame, max |board - librosa| {board['max_abs_diff_vs_librosa']:.1e}")
    elif board:
        print(f"  front end on Cortex-M4: {board['status']}")
    plots = write_plots(cfg, state) if cfg.plots else []
    summary = report.summary(
        cfg, state, checks, table, plots,
        inputs={"augment_copies": state["augment_copies"], "feature_norm": state["feature_norm"],
                "front_end": front_end_parameters()},
        outputs={"front_end_board": state.get("front_end_board", {"status": NOT_BUILT})})
    path = report.write_results(cfg.out, summary)
    log(f"wrote {path} and {', '.join(plots) or 'no plots'}")
    state["summary"] = summary
    return state

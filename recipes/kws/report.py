"""The keyword recipe's report stage: the shared table, target checks, plots and
``results.json`` (``recipes.common.report``) plus the front end's parameters and its run
on the board."""

from recipes.common import report
from recipes.common.stages import NOT_BUILT
from recipes.kws import data as kws_data
from recipes.kws import features as kws_features
from recipes.kws.config import log

RASTER_LABELS = {"feature_label": "mel band", "input_name": "log-mel", "frame_label": "frame (10 ms)"}


def front_end_parameters(frontend="float"):
    """The log-mel front end as stored in ``results.json``."""
    f = kws_features
    return {"sample_rate": f.SAMPLE_RATE, "window": f.WINDOW, "hop": f.HOP, "n_fft": f.N_FFT,
            "n_mels": f.N_MELS, "fmin": f.FMIN, "fmax": f.FMAX, "log_eps": f.EPS,
            "mel": "htk, unnormalised", "implementation": frontend}


def front_end_lines(board):
    """The report lines of the C front end's board run (``deploy.front_end_on_board``)."""
    if board.get("status") == "ok":
        exact = ("" if "bit_exact_vs_host" not in board else
                 f", bit-exact vs host: {board['bit_exact_vs_host']}")
        return [f"  front end ({board.get('frontend', 'float')}) on Cortex-M4 (QEMU): "
                f"{board['instructions_per_frame']:.0f} instructions/frame, max |board - "
                f"librosa| {board['max_abs_diff_vs_librosa']:.1e}{exact}"]
    return [f"  front end on Cortex-M4: {board['status']}"] if board else []


def stage_report(cfg, state):
    """Prints the table, target checks and the always-on cost table (``recipes.common.cost``:
    front end + model per second of audio), writes ``results.json`` and the PNG plots."""
    from recipes.common.cost import cost_table

    cost = cost_table(state["results"], state.get("board"), state.get("front_end_board"),
                      frames=state["x_testing"].shape[1])
    return report.stage_report(
        cfg, state, kws_data.first_keyword_clip(state["y_testing"]), log=log,
        inputs={"augment_copies": state["augment_copies"], "feature_norm": state["feature_norm"],
                "front_end": front_end_parameters(getattr(cfg, "frontend", "float"))},
        outputs={"front_end_board": state.get("front_end_board", {"status": NOT_BUILT})},
        lines=front_end_lines(state.get("front_end_board", {})), raster_labels=RASTER_LABELS,
        cost=cost)

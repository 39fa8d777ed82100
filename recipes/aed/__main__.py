"""``python -m recipes.aed``: acoustic event detection with event RNNs (ESC-50 layout).

With no ``--data-dir`` a dataset is synthesized into ``<out>/data`` first
(``recipes.aed.generate``). Outputs under ``--out``: ``<model>.keras`` (fold 1),
``<model>_int8.tflite`` (and ``*_stream_int8.tflite`` for the event models),
``results.json`` and the PNGs (see recipes/aed/README.md).
"""

import argparse
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from recipes.common import output  # noqa: E402
from recipes.common.config import comma_floats


def parse_args(argv=None):
    from recipes.aed.config import MODELS, Config

    d = Config()
    p = argparse.ArgumentParser(prog="python -m recipes.aed",
                                description="Acoustic event detection with event RNNs.")
    p.add_argument("--data-dir", default=None,
                   help="ESC-50 checkout (meta/esc50.csv, audio/); default: generate one")
    p.add_argument("--subset", default=d.subset, help="esc50 (all rows) or esc10")
    p.add_argument("--out", default=d.out, help=f"output folder (default {d.out})")
    p.add_argument("--clips-per-class", type=int, default=d.clips_per_class,
                   help="generated data: clips per class, a multiple of 5")
    p.add_argument("--seconds", type=float, default=d.seconds, help="clip length")
    p.add_argument("--frame-ms", type=int, default=d.frame_ms,
                   help="feature frame period, a multiple of 10 ms")
    p.add_argument("--folds", type=int, default=d.folds,
                   help="test folds run (5: the full protocol, 1: quick)")
    p.add_argument("--models", default=",".join(d.models),
                   help=f"comma list of {','.join(MODELS)}")
    p.add_argument("--epochs", type=int, default=d.epochs, help="GRU and DS-CNN epochs")
    p.add_argument("--egru-epochs", type=int, default=None, help="default 2 x --epochs")
    p.add_argument("--delta-epochs", type=int, default=None, help="default 2 x --epochs")
    p.add_argument("--embedded-epochs", type=int, default=None, help="default 2 x --epochs")
    p.add_argument("--patience", type=int, default=d.patience or 0,
                   help="early stopping shared by every model: epochs without a better "
                        "validation accuracy (after the final pruning masks); 0: off")
    p.add_argument("--units", type=int, default=d.units)
    p.add_argument("--target-sparsity", type=float, default=d.target_sparsity)
    p.add_argument("--activity-reg", type=float, default=d.activity_reg)
    p.add_argument("--target-event-rate", type=float, default=d.target_event_rate)
    p.add_argument("--learning-rate", type=float, default=d.learning_rate)
    p.add_argument("--egru-learning-rate", type=float, default=d.egru_learning_rate)
    p.add_argument("--batch-size", type=int, default=d.batch_size)
    p.add_argument("--augment-copies", type=int, default=d.augment_copies)
    p.add_argument("--seed", type=int, default=d.seed)
    p.add_argument("--stream-clips", type=int, default=d.stream_clips,
                   help="test clips concatenated into the detection stream")
    p.add_argument("--gap-seconds", default=",".join(map(str, d.gap_seconds)),
                   help="low,high range of the background gaps between stream clips")
    p.add_argument("--score-window", type=float, default=d.score_window,
                   help="seconds of per-frame logits averaged into a detection score")
    p.add_argument("--detection-threshold", type=float, default=d.detection_threshold)
    p.add_argument("--min-event", type=float, default=d.min_event, help="seconds")
    p.add_argument("--onset-tolerance", type=float, default=d.onset_tolerance, help="seconds")
    p.add_argument("--no-gate", action="store_true",
                   help="no energy gate / score threshold tuned on a validation stream")
    p.add_argument("--rate-sweep", default="",
                   help="comma list of extra EGRU target event rates (fold 1)")
    p.add_argument("--quick", action="store_true", help="smoke test: tiny data, 1 fold, 2 epochs")
    p.add_argument("--no-board", action="store_true", help="skip the emulated M4 and M0")
    p.add_argument("--no-plots", action="store_true")
    p.add_argument("--verbose", action="store_true")
    args = p.parse_args(argv)
    output.set_verbose(args.verbose)
    try:
        gaps = comma_floats("--gap-seconds", args.gap_seconds)
        if len(gaps) != 2:
            raise ValueError(f"--gap-seconds must be two numbers low,high, got {args.gap_seconds!r}.")
        return Config(data_dir=args.data_dir, subset=args.subset, out=args.out,
                      clips_per_class=args.clips_per_class, seconds=args.seconds,
                      frame_ms=args.frame_ms, folds=args.folds,
                      models=tuple(m for m in args.models.split(",") if m), epochs=args.epochs,
                      egru_epochs=args.egru_epochs, delta_epochs=args.delta_epochs,
                      embedded_epochs=args.embedded_epochs, patience=args.patience or None,
                      units=args.units,
                      target_sparsity=args.target_sparsity, activity_reg=args.activity_reg,
                      target_event_rate=args.target_event_rate,
                      learning_rate=args.learning_rate,
                      egru_learning_rate=args.egru_learning_rate, batch_size=args.batch_size,
                      augment_copies=args.augment_copies, seed=args.seed,
                      stream_clips=args.stream_clips, gap_seconds=gaps,
                      score_window=args.score_window,
                      detection_threshold=args.detection_threshold, min_event=args.min_event,
                      onset_tolerance=args.onset_tolerance, gate=not args.no_gate,
                      rate_sweep=comma_floats("--rate-sweep", args.rate_sweep), quick=args.quick,
                      board=not args.no_board, plots=not args.no_plots)
    except ValueError as err:
        p.error(str(err))


def main(argv=None):
    from recipes.aed.data import DatasetError
    from recipes.aed.pipeline import run

    cfg = parse_args(argv)
    try:
        run(cfg)
    except DatasetError as err:
        raise SystemExit(f"error: {err}") from None


if __name__ == "__main__":
    main()

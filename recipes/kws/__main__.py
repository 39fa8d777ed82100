"""``python -m recipes.kws``: train keyword spotters (GRU baseline and EGRU).

With no ``--data-dir`` an offline dataset is generated with espeak-ng first.
Outputs under ``--out``: the dataset (if generated), cached features, ``gru.keras``,
``egru.keras`` (pruned), ``egru_int8.tflite``, ``egru_stream_int8.tflite``,
``gru_int8.tflite``, ``arduino/kws_egru/``, ``results.json`` and PNG plots; with
``--models ...,delta_gru`` also ``delta_gru.keras``, ``delta_gru_int8.tflite`` and
``delta_gru_stream_int8.tflite``.
"""

import argparse
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from recipes.common import output  # noqa: E402
from recipes.common.config import comma_floats, comma_ints


def parse_args(argv=None):
    from recipes.kws.config import Config

    d = Config()
    p = argparse.ArgumentParser(prog="python -m recipes.kws",
                                description="Train keyword spotters (GRU baseline and EGRU).")
    p.add_argument("--data-dir", default=None,
                   help="Speech Commands folder (default: generate offline data under --out)")
    p.add_argument("--out", default=d.out, help=f"output folder (default {d.out})")
    p.add_argument("--epochs", type=int, default=d.epochs, help="GRU epochs")
    p.add_argument("--egru-epochs", type=int, default=None, help="EGRU epochs (default 4 x --epochs)")
    p.add_argument("--units", type=int, default=d.units)
    p.add_argument("--target-sparsity", type=float, default=d.target_sparsity,
                   help="weight sparsity for the pruning stage")
    p.add_argument("--activity-reg", type=float, default=d.activity_reg,
                   help="EGRU event-rate penalty weight λ")
    p.add_argument("--target-event-rate", type=float, default=d.target_event_rate)
    p.add_argument("--activity-adapt", type=float, default=d.activity_adapt,
                   help="adapt λ by dual ascent, this step per batch (0: λ fixed)")
    p.add_argument("--activity-warmup", type=float, default=d.activity_warmup,
                   help="ramp the event-rate penalty in over this fraction of the EGRU steps")
    p.add_argument("--distill", type=float, default=d.distill, metavar="ALPHA",
                   help="distil the EGRU from the trained GRU; ALPHA = weight of the labels")
    p.add_argument("--distill-temperature", type=float, default=d.distill_temperature)
    p.add_argument("--revive", type=float, default=d.revive, metavar="FRACTION",
                   help="revive silent EGRU units after every epoch in this first fraction "
                        "of the EGRU epochs (0: off)")
    p.add_argument("--threshold-init", type=float, default=d.threshold_init,
                   help="initial EGRU threshold, in (0, 1)")
    p.add_argument("--surrogate-height", type=float, default=d.surrogate_height,
                   help="height of the triangle pseudo-derivative")
    p.add_argument("--surrogate-width", type=float, default=d.surrogate_width,
                   help="half-width of the triangle pseudo-derivative")
    p.add_argument("--tune", action="store_true",
                   help="search the EGRU knobs with KerasTuner first (needs keras-tuner: "
                        "pip install keras-events[tune]); the best values train the EGRU")
    p.add_argument("--tune-trials", type=int, default=d.tune_trials,
                   help="KerasTuner trials (budget: trials x --tune-epochs epochs)")
    p.add_argument("--tune-epochs", type=int, default=None,
                   help="epochs per trial (default: half of --egru-epochs)")
    p.add_argument("--prune-gru", action="store_true",
                   help="prune the GRU baseline to --target-sparsity too")
    p.add_argument("--learning-rate", type=float, default=d.learning_rate,
                   help="GRU Adam learning rate (cosine-decayed over training)")
    p.add_argument("--egru-learning-rate", type=float, default=d.egru_learning_rate,
                   help="EGRU Adam learning rate (cosine-decayed over training)")
    p.add_argument("--batch-size", type=int, default=d.batch_size)
    p.add_argument("--augment-copies", type=int, default=d.augment_copies,
                   help="augmented copies of the training set (time shift + noise); each "
                        "epoch trains on the clean set and the next copy (default: 8, "
                        "fewer if the features would pass 1 GiB)")
    p.add_argument("--keywords", default=",".join(d.keywords),
                   help="comma list of keyword folders; other words become _unknown_")
    p.add_argument("--models", default=",".join(d.models),
                   help="comma list of gru,egru,delta_gru,dscnn,lstm,embedded_gru (delta_gru: "
                        "keras_events.DeltaGRUCell; dscnn: MLPerf Tiny DS-CNN-S on 49x10 MFCC; "
                        "lstm: the fused CMSIS-NN LSTM baseline; embedded_gru: the eGRU)")
    p.add_argument("--delta-input-threshold", type=float, default=d.delta_input_threshold,
                   help="delta_gru: change an input component needs to be sent")
    p.add_argument("--delta-hidden-threshold", type=float, default=d.delta_hidden_threshold,
                   help="delta_gru: change a hidden component needs to be sent")
    p.add_argument("--delta-epochs", type=int, default=None,
                   help="delta_gru training epochs (default: 2 x --epochs)")
    p.add_argument("--seed", type=int, default=d.seed,
                   help="seed of the data split, initialisation, data order and augmentation "
                        "(same seed, same numbers on one machine)")
    p.add_argument("--seeds", default="",
                   help="comma list of seeds: one run each under <out>/seed-<s>/ (no board "
                        "runs) and a mean ± std table (seeds.json)")
    p.add_argument("--protocol", default=d.protocol,
                   help="evaluation protocol on generated data: default, voices (voice-"
                        "disjoint), unknown (unseen unknown words), small (~100 clips per "
                        "word), hard (all three); see recipes/kws/README.md")
    p.add_argument("--pool-dir", default=None,
                   help="clip pool of the protocols (default <out>/pool, generated once)")
    p.add_argument("--frontend", default=d.frontend,
                   help="feature front end: float (librosa-matched, default) or q15 "
                        "(fixed point, custom_ops/core/ke_logmel_q.c, bit-exact on the board)")
    p.add_argument("--quick", action="store_true",
                   help="smoke test: tiny data, 16 units, 1 epoch")
    p.add_argument("--prune-begin", type=float, default=d.prune_begin,
                   help="pruning starts at this fraction of the EGRU training steps")
    p.add_argument("--prune-end", type=float, default=d.prune_end,
                   help="target sparsity reached at this fraction of the EGRU training steps")
    p.add_argument("--prune-block", type=int, default=d.prune_block, metavar="N",
                   help="prune the EGRU's kernels in blocks of 1 x N output columns (1: "
                        "element by element; 4: block-4 form, the Cortex-M4 kernel's "
                        f"gather path; default {d.prune_block})")
    p.add_argument("--calibration-clips", type=int, default=d.calibration_clips,
                   help="training clips for int8 calibration")
    p.add_argument("--stream-check-clips", type=int, default=d.stream_check_clips,
                   help="test clips for the streaming == whole-sequence check")
    p.add_argument("--sweep", default="",
                   help="comma list of extra EGRU target sparsities (accuracy-vs-sparsity plot)")
    p.add_argument("--rate-sweep", default="",
                   help="comma list of extra EGRU target event rates, e.g. 0.05,0.1,0.2,0.4 "
                        "(accuracy_vs_event_rate.png, the GRU as a line)")
    p.add_argument("--no-board", action="store_true",
                   help="skip the emulated Cortex-M4 runs (QEMU)")
    p.add_argument("--no-arduino", action="store_true", help="skip the Arduino library")
    p.add_argument("--no-plots", action="store_true")
    p.add_argument("--verbose", action="store_true",
                   help="show TensorFlow's converter output (hidden by default)")
    args = p.parse_args(argv)
    output.set_verbose(args.verbose)
    try:
        return Config(data_dir=args.data_dir, out=args.out, epochs=args.epochs,
                      egru_epochs=args.egru_epochs, units=args.units,
                      target_sparsity=args.target_sparsity, activity_reg=args.activity_reg,
                      target_event_rate=args.target_event_rate, batch_size=args.batch_size,
                      activity_adapt=args.activity_adapt, distill=args.distill,
                      activity_warmup=args.activity_warmup,
                      distill_temperature=args.distill_temperature, prune_gru=args.prune_gru,
                      revive=args.revive,
                      threshold_init=args.threshold_init, surrogate_height=args.surrogate_height,
                      surrogate_width=args.surrogate_width, tune=args.tune,
                      tune_trials=args.tune_trials, tune_epochs=args.tune_epochs,
                      learning_rate=args.learning_rate,
                      egru_learning_rate=args.egru_learning_rate,
                      augment_copies=args.augment_copies,
                      delta_input_threshold=args.delta_input_threshold,
                      delta_hidden_threshold=args.delta_hidden_threshold,
                      delta_epochs=args.delta_epochs,
                      models=tuple(m for m in args.models.split(",") if m), seed=args.seed,
                      seeds=comma_ints("--seeds", args.seeds), protocol=args.protocol,
                      pool_dir=args.pool_dir,
                      frontend=args.frontend,
                      keywords=tuple(k for k in args.keywords.split(",") if k),
                      quick=args.quick, plots=not args.no_plots,
                      prune_begin=args.prune_begin, prune_end=args.prune_end,
                      prune_block=args.prune_block,
                      calibration_clips=args.calibration_clips,
                      stream_check_clips=args.stream_check_clips,
                      sweep=comma_floats("--sweep", args.sweep), board=not args.no_board,
                      rate_sweep=comma_floats("--rate-sweep", args.rate_sweep),
                      arduino=not args.no_arduino)
    except ValueError as err:
        p.error(str(err))


def main(argv=None):
    from recipes.kws.data import DatasetError
    from recipes.kws.pipeline import run, run_seeds

    cfg = parse_args(argv)
    try:
        run_seeds(cfg) if cfg.seeds else run(cfg)
    except (DatasetError, FileExistsError) as err:
        raise SystemExit(f"error: {err}") from None


if __name__ == "__main__":
    main()

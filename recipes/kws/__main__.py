"""``python -m recipes.kws``: train keyword spotters (GRU baseline and EGRU).

With no ``--data-dir`` an offline dataset is generated with espeak-ng first.
Outputs under ``--out``: the dataset (if generated), cached features, ``gru.keras``,
``egru.keras``, ``results.json``, ``training.png``, ``event_raster.png``.
"""

import argparse
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def parse_args(argv=None):
    from recipes.kws.train import Config

    d = Config()
    p = argparse.ArgumentParser(prog="python -m recipes.kws",
                                description="Train keyword spotters (GRU baseline and EGRU).")
    p.add_argument("--data-dir", default=None,
                   help="Speech Commands folder (default: generate offline data under --out)")
    p.add_argument("--out", default=d.out, help=f"output folder (default {d.out})")
    p.add_argument("--epochs", type=int, default=d.epochs, help="GRU epochs")
    p.add_argument("--egru-epochs", type=int, default=None, help="EGRU epochs (default 2 x --epochs)")
    p.add_argument("--units", type=int, default=d.units)
    p.add_argument("--target-sparsity", type=float, default=d.target_sparsity,
                   help="weight sparsity for the pruning stage")
    p.add_argument("--activity-reg", type=float, default=d.activity_reg,
                   help="EGRU event-rate penalty weight λ")
    p.add_argument("--target-event-rate", type=float, default=d.target_event_rate)
    p.add_argument("--batch-size", type=int, default=d.batch_size)
    p.add_argument("--augment-copies", type=int, default=d.augment_copies,
                   help="augmented copies of the training set (time shift + noise)")
    p.add_argument("--keywords", default=",".join(d.keywords),
                   help="comma list of keyword folders; other words become _unknown_")
    p.add_argument("--models", default=",".join(d.models), help="comma list of gru,egru")
    p.add_argument("--seed", type=int, default=d.seed)
    p.add_argument("--quick", action="store_true",
                   help="smoke test: tiny data, 16 units, 1 epoch")
    p.add_argument("--no-plots", action="store_true")
    args = p.parse_args(argv)
    try:
        return Config(data_dir=args.data_dir, out=args.out, epochs=args.epochs,
                      egru_epochs=args.egru_epochs, units=args.units,
                      target_sparsity=args.target_sparsity, activity_reg=args.activity_reg,
                      target_event_rate=args.target_event_rate, batch_size=args.batch_size,
                      augment_copies=args.augment_copies,
                      models=tuple(m for m in args.models.split(",") if m), seed=args.seed,
                      keywords=tuple(k for k in args.keywords.split(",") if k),
                      quick=args.quick, plots=not args.no_plots)
    except ValueError as err:
        p.error(str(err))


def main(argv=None):
    from recipes.kws.data import DatasetError
    from recipes.kws.train import run

    cfg = parse_args(argv)
    try:
        run(cfg)
    except (DatasetError, FileExistsError) as err:
        raise SystemExit(f"error: {err}") from None


if __name__ == "__main__":
    main()

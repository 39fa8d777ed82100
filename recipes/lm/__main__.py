"""``python -m recipes.lm``: the weight-sparsity sweep of EGRU and GRU language models.

Prints the results table (validation/test perplexity, event rate, weight sparsity,
effective MACs per token, compute reduction) and the "multiplies" check; writes
``<out>/results.json`` and ``<out>/ppl_vs_macs.png``.
"""

import os
import sys

from recipes.common.stages import Logger


def run(cfg, log=None):
    """Runs the sweep of ``cfg``; returns the ``results.json`` dict."""
    log = log or Logger("lm")
    from recipes.lm import distribute

    distribute.prepare(cfg.strategy, cfg.devices)  # before Keras is imported
    from recipes.lm import data, generate, report, train

    os.makedirs(cfg.out, exist_ok=True)
    data_dir = cfg.data_dir
    if data_dir is None:
        data_dir = generate.ensure(os.path.join(cfg.out, "data"), cfg.corpus_tokens)
        log(f"no --data-dir: generated corpus in {data_dir} (standard-library docstrings, PTB layout)")
    corpus = data.load(data_dir, cfg.vocab_cap)
    info = corpus.summary()
    log(f"{info['layout']} layout: vocabulary {info['vocabulary']} (cap {cfg.vocab_cap}), tokens "
        f"{info['train_tokens']} / {info['valid_tokens']} / {info['test_tokens']}")
    placement = distribute.Placement(cfg.strategy, cfg.devices)
    rows = []
    for kind in cfg.models:
        for target in cfg.sweep:
            _, row = train.fit_one(cfg, corpus, kind, target, placement, log=log)
            rows.append(row)
    report.add_reductions(rows)
    table = report.format_table(rows)
    line = report.multiplies_line(rows)
    print(table)
    print(line)
    plots = [report.plot(rows, os.path.join(cfg.out, "ppl_vs_macs.png"))] if cfg.plots and rows else []
    import dataclasses

    summary = {"config": dataclasses.asdict(cfg), "data": info, "strategy": placement.describe(),
               "models": rows, "table": table, "multiplies": line, "plots": plots}
    log(f"wrote {report.write(cfg.out, summary)} and {', '.join(plots) or 'no plots'}")
    return summary


def main(argv=None):
    from recipes.lm.config import parse_args

    try:
        cfg = parse_args(argv)
    except ValueError as error:
        raise SystemExit(f"error: {error}") from None
    run(cfg)


if __name__ == "__main__":
    main(sys.argv[1:])

"""recipes/common/seeds.py: mean ± std over seeds and the int8 gap line."""

import numpy as np

from recipes.common import seeds


def _rows(gru, egru, rate=0.18, sparsity=0.8):
    return {"gru_int8": {"test_accuracy": gru, "event_rate": 1.0},
            "egru_int8": {"test_accuracy": egru, "event_rate": rate, "weight_sparsity": sparsity}}


def test_aggregate_is_mean_and_sample_std():
    per_seed = {0: _rows(0.9, 0.85), 1: _rows(0.92, 0.90), 2: _rows(0.94, 0.86)}
    stats = seeds.aggregate(per_seed)
    mean, std, n = stats["egru_int8"]["test_accuracy"]
    assert n == 3 and mean == np.mean([0.85, 0.90, 0.86])
    assert std == np.std([0.85, 0.90, 0.86], ddof=1)
    table = seeds.format_table("hard", stats)
    assert "hard" in table and f"{mean:.4f} ± {std:.4f}" in table


def test_gap_line_says_by_how_much_the_goal_is_missed():
    per_seed = {0: _rows(0.90, 0.85), 1: _rows(0.92, 0.89)}  # gaps 5 and 3 points
    line = seeds.gap_line(per_seed)
    assert line.startswith("  [FAIL]") and "+4.0 ± 1.4 points" in line
    assert "gap missed by 2.5 points" in line
    ok = seeds.gap_line({0: _rows(0.90, 0.895), 1: _rows(0.90, 0.90)})
    assert ok.startswith("  [PASS]")
    slow = seeds.gap_line({0: _rows(0.90, 0.90, rate=0.25, sparsity=0.5)})
    assert "event rate missed by 0.050" in slow and "sparsity missed by 0.300" in slow


def test_collect_reads_the_seed_folders(tmp_path, capsys):
    import json

    for seed, (g, e) in {0: (0.9, 0.85), 2: (0.92, 0.9)}.items():
        folder = tmp_path / f"seed-{seed}"
        folder.mkdir()
        (folder / "results.json").write_text(json.dumps({"models": _rows(g, e)}))
    (tmp_path / "seed-1").mkdir()  # unfinished seed: no results.json
    assert sorted(seeds.collect(str(tmp_path))) == [0, 2]
    seeds.main([str(tmp_path), "hard"])
    out = capsys.readouterr().out
    assert "hard: mean ± std over seeds 0, 2" in out and "+3.5 ± 2.1 points" in out
    assert (tmp_path / "seeds.json").exists()

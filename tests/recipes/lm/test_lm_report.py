"""recipes.lm.report: reductions, the weight x activity product, the table and the plot."""

import pytest

from recipes.lm import report


def row(model, target, sparsity, effective, rate=1.0, ppl=100.0):
    return {"model": model, "target_sparsity": target, "weight_sparsity": sparsity,
            "event_rate": rate, "effective_macs_per_token": effective, "dense_macs_per_token": 1000.0,
            "valid_ppl": ppl, "test_ppl": ppl, "train_seconds": 1.0}


def test_reductions_and_the_multiplies_line(tmp_path):
    rows = report.add_reductions([
        row("egru", 0.0, 0.0, 400.0, rate=0.3), row("egru", 0.8, 0.8, 100.0, rate=0.35),
        row("gru", 0.0, 0.0, 1000.0), row("gru", 0.8, 0.8, 200.0)])
    egru0, egru8, _, gru8 = rows
    assert egru0["reduction"] == 2.5 and egru8["reduction"] == 10.0 and gru8["reduction"] == 5.0
    assert egru8["weight_x_activity"] == pytest.approx(5.0 * 2.5)  # 1/(1-0.8) x unpruned EGRU
    assert "weight_x_activity" not in gru8
    line = report.multiplies_line(rows)
    assert "10.0x fewer" in line and "= 12.5x (measured/product 0.80)" in line
    assert "0: 2.5x, 0.8: 2.0x" in line
    table = report.format_table(rows)
    assert table.splitlines()[3].split()[:2] == ["egru", "0.8"] and "12.5x" in table
    assert report.plot(rows, str(tmp_path / "p.png")) == "p.png" and (tmp_path / "p.png").stat().st_size > 0
    assert "[n/a ]" in report.multiplies_line(rows[2:])

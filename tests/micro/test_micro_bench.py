"""benchmarks/micro_bench.py without QEMU: the grid and the --json rows (synthetic numbers)."""
import importlib.util
import json
import pathlib

import pytest

BENCH = pathlib.Path(__file__).resolve().parents[2] / "benchmarks" / "micro_bench.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("micro_bench", BENCH)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_grid_has_the_breakdown(bench):
    rows = bench.configs(128, (0.05, 0.1, 0.2, 0.3), 0.8, with_graph_gru=False)
    kinds = [k for k, _, _ in rows]
    assert kinds[:4] == ["dense_smlad_egru", "dense_ke_egru_scalar", "fused_lstm_cmsis_nn",
                         "fc_matvec_cmsis_nn"]
    assert ("ke_egru_pruning_only", 1.0, 0.8) in rows
    assert [a for k, a, s in rows if k == "ke_egru_events_only" and s == 0.0] == [0.05, 0.1, 0.2, 0.3]
    assert [a for k, a, s in rows if k == "ke_egru_events_pruning" and s == 0.8] == [0.05, 0.1, 0.2, 0.3]


def _row(kernel, instr, macs, cycles, act=1.0, sparsity=0.0):
    return {"kernel": kernel, "hidden": 128, "target_activity": act, "event_rate": act,
            "weight_sparsity": sparsity, "instructions_per_step": instr,
            "effective_macs_per_step": macs, "instructions_per_effective_mac": instr / macs,
            "est_cycles_per_step": cycles, "classes_per_step": {
                "load_store": 1, "multiply": 1, "branch": 1, "divide": 0, "other": 1,
                "taken_branches": 1},
            "strongest_dense": "fused_lstm_cmsis_nn", "instr_ratio_vs_strongest_dense": 1.0,
            "cycle_ratio_vs_strongest_dense": 1.0, "mac_ratio_vs_dense_gru": 1.0}


def test_json_rows_and_goal_lines(bench, tmp_path, capsys):
    rows = [_row("dense_ke_egru_scalar", 350000, 64000, 480000),
            _row("fused_lstm_cmsis_nn", 230000, 86000, 300000),
            _row("fc_matvec_cmsis_nn", 150000, 64000, 200000),
            _row("ke_egru_events_pruning", 40000, 5000, 52000, act=0.2, sparsity=0.8)]
    rows[-1]["mac_ratio_vs_dense_gru"] = 64000 / 5000
    out = tmp_path / "rows.json"
    bench.report(rows, tmp_path, out)
    data = json.loads(out.read_text())
    assert [set(r) for r in data] == [set(bench.JSON_KEYS)] * 4
    text = capsys.readouterr().out
    assert "5.75x (met)" in text                      # 230000 / 40000 vs the fused LSTM
    assert "8.00 (NOT met, 2.67x over)" in text      # 8 instructions per effective MAC
    assert "8.75 / 12.80 = 0.68 (met)" in text        # (350000/40000) / 12.8 >= 0.5


@pytest.mark.qemu
@pytest.mark.parametrize("units,features", [(5, 7), (16, 40)])
def test_dense_smlad_kernel_is_bit_exact_on_the_m4(bench, tmp_path, units, features):
    """The firmware compares every step's int8 output of the SMLAD kernel with
    ke_egru_i8_step (every weight stored) and exits non-zero on a difference; odd sizes
    exercise the 4-, 2- and 1-column passes and the zero padding."""
    from keras_events.micro import qemu
    from prereq import require_tools
    from recipes.common import dense_smlad
    require_tools("arm-none-eabi-gcc", "qemu-system-arm", fix="make micro-toolchain")
    res = qemu.run_firmware(dense_smlad.elf(units, features, 6, tmp_path), timeout=120)
    assert res.ok and len(res.instructions) == 1
    (events,) = [int(l.split()[1]) for l in res.log if l.startswith("KE_EVENTS")]
    if units == 16:  # the comparison covered both firing and silent units
        assert 0 < events < 6 * units
    macs = 6 * 3 * units * (features + units)
    assert res.classes[0]["multiply"] >= macs // 2  # one SMLAD per two MACs

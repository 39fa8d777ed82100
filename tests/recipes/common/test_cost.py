"""The always-on cost table: front end + model per second of audio, from board runs."""

import pytest

from recipes.common import cost

FRONT_END = {"status": "ok", "frontend": "q15", "instructions_per_frame": 17000.0,
             "est_cycles_per_frame": 20000.0}


def _inputs():
    results = {"egru_int8": {"test_accuracy": 0.97}, "gru_int8": {"test_accuracy": 0.99},
               "dscnn_int8": {"test_accuracy": 0.98, "mcu_instructions": 7_700_000,
                              "mcu_est_cycles": 9_000_000, "flash_bytes": 1, "ram_bytes": 2}}
    board = {"egru": {"instructions": 980_000, "est_cycles": 1_200_000.0, "flash_bytes": 3,
                      "ram_bytes": 4},
             "gru": {"instructions": 9_800_000, "flash_bytes": 5, "ram_bytes": 6},
             "dense_kernel": {"instructions": 2_000_000},
             "dense_smlad": {"error": "too large"}}
    return results, board


def test_streaming_and_window_models_per_second():
    results, board = _inputs()
    table = cost.cost_table(results, board, FRONT_END, frames=98)
    egru = table["models"]["egru_int8"]
    # 100 frames/s x (980000 / 98 model + 17000 front end) = 2.7 M
    assert egru["always_on_instructions_per_second"] == 100 * (10_000 + 17_000)
    assert egru["always_on_est_cycles_per_second"] == round(100 * (1_200_000 / 98 + 20_000))
    assert table["models"]["gru_converter_int8"]["always_on_instructions_per_second"] == \
        100 * (100_000 + 17_000)
    dscnn = table["models"]["dscnn_int8"]
    # 4 windows/s x 7.7 M + 50 front-end frames/s (20 ms hop)
    assert dscnn["always_on_instructions_per_second"] == 4 * 7_700_000 + 50 * 17_000
    assert dscnn["always_on_instructions_per_second_at_2_windows"] == 2 * 7_700_000 + 50 * 17_000
    assert dscnn["arena_bytes"] == 2


def test_unmeasured_models_say_why():
    results, board = _inputs()
    table = cost.cost_table(results, board, FRONT_END, frames=98)
    assert "too large" in table["missing"]["gru_dense_int8"]
    assert "lstm not trained" in table["missing"]["lstm_cmsis_int8"]
    assert set(table["models"]) | set(table["missing"]) == set(cost.ORDER)
    text = cost.format_cost(table)
    assert "lstm_cmsis_int8: not measured" in text and "2 windows/s" in text
    none = cost.cost_table(results, board, {"status": "not built"}, frames=98)
    assert none["models"] == {} and set(none["missing"]) == set(cost.ORDER)


def test_plot_is_written(tmp_path):
    pytest.importorskip("matplotlib")
    results, board = _inputs()
    path = cost.plot_cost(cost.cost_table(results, board, FRONT_END, frames=98),
                          str(tmp_path / "cost.png"))
    assert (tmp_path / "cost.png").stat().st_size > 1000 and path.endswith("cost.png")


def test_dense_gru_row_is_the_smlad_kernel_not_the_scalar_one():
    results, board = _inputs()
    board["dense_smlad"] = {"instructions": 4_900_000, "est_cycles": 6_000_000.0,
                            "flash_bytes": 7, "ram_bytes": 8}
    row = cost.cost_table(results, board, FRONT_END, frames=98)["models"]["gru_dense_int8"]
    assert row["always_on_instructions_per_second"] == 100 * (50_000 + 17_000)
    assert (row["flash_bytes"], row["arena_bytes"]) == (7, 8) and "SMLAD" in row["note"]
    assert row["test_accuracy"] == results["gru_int8"]["test_accuracy"]


def test_dscnn_front_end_includes_the_dct_when_measured():
    results, board = _inputs()
    fe = {**FRONT_END, "dct_instructions_per_frame": 1_000.0, "dct_est_cycles_per_frame": 1_500.0}
    table = cost.cost_table(results, board, fe, frames=98)
    dscnn = table["models"]["dscnn_int8"]
    assert dscnn["always_on_instructions_per_second"] == 4 * 7_700_000 + 50 * (17_000 + 1_000)
    assert dscnn["always_on_est_cycles_per_second"] == 4 * 9_000_000 + 50 * (20_000 + 1_500)
    assert "ke_dct_q.c" in dscnn["note"] and "MFCC DCT" in cost.format_cost(table)
    # the streaming models do not pay for it
    assert table["models"]["egru_int8"]["always_on_instructions_per_second"] == 100 * 27_000


def test_lstm_row_from_the_recipes_fused_lstm_run():
    results, board = _inputs()
    results["lstm_int8"] = {"test_accuracy": 0.985, "mcu_instructions": 19_600_000,
                            "mcu_est_cycles": 24_500_000.0, "flash_bytes": 9, "ram_bytes": 10}
    row = cost.cost_table(results, board, FRONT_END, frames=98)["models"]["lstm_cmsis_int8"]
    assert row["always_on_instructions_per_second"] == 100 * (200_000 + 17_000)
    assert row["always_on_est_cycles_per_second"] == 100 * (250_000 + 20_000)
    assert (row["test_accuracy"], row["flash_bytes"]) == (0.985, 9)
    results["lstm_int8"] = {"test_accuracy": 0.985, "board": "not run: --no-board"}
    table = cost.cost_table(results, board, FRONT_END, frames=98)
    assert "--no-board" in table["missing"]["lstm_cmsis_int8"]


def test_delta_gru_row_from_its_streaming_board_run():
    results, board = _inputs()
    results["delta_gru_int8"] = {"test_accuracy": 0.975}
    board["delta_gru"] = {"instructions": 490_000, "est_cycles": 700_000.0,
                          "flash_bytes": 7, "ram_bytes": 8}
    table = cost.cost_table(results, board, FRONT_END, frames=98)
    delta = table["models"]["delta_gru_int8"]
    assert delta["test_accuracy"] == 0.975
    assert delta["m4_instructions_per_inference"] == 490_000
    assert delta["m4_est_cycles_per_inference"] == 700_000
    # streaming, front end included: 100 frames/s x (490000 / 98 + 17000)
    assert delta["always_on_instructions_per_second"] == 100 * (5_000 + 17_000)
    assert delta["always_on_est_cycles_per_second"] == round(100 * (700_000 / 98 + 20_000))
    assert (delta["flash_bytes"], delta["arena_bytes"]) == (7, 8)
    assert list(table["models"])[:2] == ["egru_int8", "delta_gru_int8"]
    assert "delta_gru_int8" in cost.format_cost(table)
    # not trained: listed as missing with the reason, never filled in
    del results["delta_gru_int8"]
    table = cost.cost_table(results, board, FRONT_END, frames=98)
    assert "delta_gru_int8" not in table["models"]
    assert "not trained" in table["missing"]["delta_gru_int8"]

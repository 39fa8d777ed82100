"""Accumulated RTRL gradients equal BPTT (float64), with and without activity sparsity
and pruning masks, on TensorFlow and JAX, for EGRU, GRU, Delta-GRU and Delta-LSTM."""

import keras
import numpy as np
import pytest
from backend_utils import float64
from helpers import (
    LOSS,
    bptt_gradients,
    make_model,
    masked,
    relative_error,
    sequence_data,
)

from keras_events.learning import OnlineTrainer

NARROW = {"class_name": "triangle", "config": {"width": 0.3}}
CASES = {
    # no activity sparsity: the straight-through surrogate makes every unit backward-active
    "egru-dense-activity": {"kind": "egru", "surrogate": "ste"},
    # a narrow triangle: units outside its support and without an event are skipped
    "egru-sparse-activity": {"kind": "egru", "threshold": 0.8, "surrogate": NARROW},
    "egru-sparse-activity-pruned": {"kind": "egru", "prune": 0.6, "threshold": 0.8, "surrogate": NARROW},
    "gru": {"kind": "gru"},
    "gru-pruned": {"kind": "gru", "prune": 0.5},
    # Delta-GRU, straight-through send mask (the cell's default): thresholds 0 send every
    # changed unit; with thresholds only the sent units' rows move.
    "delta-gru": {"kind": "delta_gru", "surrogate": None},
    "delta-gru-thresholds": {"kind": "delta_gru", "surrogate": None, "input_threshold": 0.3,
                             "hidden_threshold": 0.1},
    "delta-gru-thresholds-pruned": {"kind": "delta_gru", "surrogate": None, "input_threshold": 0.3,
                                    "hidden_threshold": 0.1, "prune": 0.5},
    # a surrogate on the send step adds |Δ| ψ(|Δ| - θ) to the send gain
    "delta-gru-surrogate": {"kind": "delta_gru", "surrogate": "triangle", "hidden_threshold": 0.1},
    # Delta-LSTM: two state blocks (h, c), the same send-gain logic over four gate blocks
    "delta-lstm": {"kind": "delta_lstm", "surrogate": None},
    "delta-lstm-thresholds": {"kind": "delta_lstm", "surrogate": None, "input_threshold": 0.3,
                              "hidden_threshold": 0.05},
    "delta-lstm-thresholds-pruned": {"kind": "delta_lstm", "surrogate": None, "input_threshold": 0.3,
                                     "hidden_threshold": 0.05, "prune": 0.5},
    "delta-lstm-surrogate": {"kind": "delta_lstm", "surrogate": "triangle", "hidden_threshold": 0.05},
}


# Eager runs (sparse and dense) on TensorFlow; the compiled step (static row buckets:
# jax.jit, TF with XLA) on JAX for one case of each cell, on TF for the Delta-GRU (XLA
# compiles slowly). Compiled float64 agrees to ~1e-8, not 1e-16: XLA's tanh differs from
# the eager kernel's in the last bit, and 1 - tanh² near saturation amplifies that.
COMPILED = (("egru-sparse-activity-pruned", "gru-pruned", "delta-gru-thresholds-pruned",
             "delta-lstm-thresholds-pruned")
            if keras.backend.backend() == "jax" else ("delta-gru-thresholds-pruned",))
_tf_only = pytest.mark.tensorflow_only
PARAMS = [pytest.param(case, mode, marks=() if mode == "compiled" else _tf_only, id=f"{case}-{mode}")
          for case in CASES for mode in ("sparse", "dense", "compiled")
          if mode != "compiled" or case in COMPILED]


@pytest.mark.parametrize("case, mode", PARAMS)
def test_rtrl_gradient_equals_bptt(case, mode):
    with float64():
        model = make_model(**CASES[case])
        x, y = sequence_data(time=9)
        trainer = OnlineTrainer(model, keras.optimizers.SGD(0.1), method="rtrl", loss=LOSS,
                                sparse=mode != "dense", run_eagerly=mode != "compiled",
                                jit_compile=mode == "compiled")
        rtrl = trainer.sequence_gradients(x, y)
        bptt = bptt_gradients(model, trainer.variables, x, y)
    masks = masked(model)
    for variable, g_rtrl, g_bptt in zip(trainer.variables, rtrl, bptt):
        assert np.linalg.norm(g_bptt) > 0, variable.path
        assert relative_error(g_rtrl, g_bptt) <= 1e-5, variable.path
        if id(variable) in masks:
            assert np.all(g_rtrl[masks[id(variable)] == 0] == 0), variable.path


@_tf_only
@pytest.mark.parametrize("case", ["egru-sparse-activity-pruned", "delta-gru-thresholds-pruned",
                                  "delta-lstm-thresholds-pruned"])
def test_activity_sparsity_is_exercised_and_exact(case):
    """The sparse case really skips rows, and skipping does not change the numbers."""
    with float64():
        model = make_model(**CASES[case])
        x, y = sequence_data(batch=1, time=9)
        dense = OnlineTrainer(model, "sgd", loss=LOSS, sparse=False, run_eagerly=True)
        sparse = OnlineTrainer(model, "sgd", loss=LOSS, sparse=True, track_cost=True, run_eagerly=True)
        g_dense = dense.sequence_gradients(x, y)
        g_sparse = sparse.sequence_gradients(x, y)
    units = model.layers[0].layer.cell.units
    propagated = [c["propagate"] for c in sparse.costs]
    if CASES[case]["kind"] == "egru":       # a Delta-GRU's gradient uses every row (∂y/∂h = 1)
        assert any(c["gradient"] < units * sparse.influence.n_columns for c in sparse.costs)
    assert sparse.influence.n_columns < dense.influence.n_columns      # pruned columns untracked
    assert min(propagated) < max(propagated)                           # activity varies per step
    for a, b in zip(g_sparse, g_dense):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("case", ["egru-sparse-activity-pruned", "delta-gru-thresholds-pruned",
                                  "delta-lstm-thresholds-pruned"])
def test_bptt_method_matches_reference(case):
    with float64():
        model = make_model(**CASES[case])
        x, y = sequence_data()
        trainer = OnlineTrainer(model, "sgd", method="bptt", loss=LOSS, run_eagerly=True)
        grads = trainer.sequence_gradients(x, y)
        reference = bptt_gradients(model, trainer.variables, x, y)
    for g, r in zip(grads, reference):
        assert relative_error(g, r) <= 1e-5

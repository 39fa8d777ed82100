"""Accumulated RTRL gradients equal BPTT (float64), with and without activity sparsity
and pruning masks, on TensorFlow and JAX."""

import keras
import numpy as np
import pytest
from backend_utils import float64
from helpers import LOSS, bptt_gradients, make_model, masked, relative_error, sequence_data

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
}


# JAX runs eagerly here (op by op, slow): it gets one sparse run of each kind of case.
ON_JAX = ("egru-sparse-activity-pruned", "gru-pruned")
_tf_only = pytest.mark.tensorflow_only


@pytest.mark.parametrize("sparse", [True, pytest.param(False, marks=_tf_only)], ids=["sparse", "dense"])
@pytest.mark.parametrize("case", [c if c in ON_JAX else pytest.param(c, marks=_tf_only) for c in CASES])
def test_rtrl_gradient_equals_bptt(case, sparse):
    with float64():
        model = make_model(**CASES[case])
        x, y = sequence_data()
        trainer = OnlineTrainer(model, keras.optimizers.SGD(0.1), method="rtrl", loss=LOSS, sparse=sparse,
                                run_eagerly=True)
        rtrl = trainer.sequence_gradients(x, y)
        bptt = bptt_gradients(model, trainer.variables, x, y)
    masks = masked(model)
    for variable, g_rtrl, g_bptt in zip(trainer.variables, rtrl, bptt):
        assert np.linalg.norm(g_bptt) > 0, variable.path
        assert relative_error(g_rtrl, g_bptt) <= 1e-5, variable.path
        if id(variable) in masks:
            assert np.all(g_rtrl[masks[id(variable)] == 0] == 0), variable.path


@_tf_only
def test_activity_sparsity_is_exercised_and_exact():
    """The sparse case really skips rows, and skipping does not change the numbers."""
    with float64():
        model = make_model(**CASES["egru-sparse-activity-pruned"])
        x, y = sequence_data(batch=1, time=9)
        dense = OnlineTrainer(model, "sgd", loss=LOSS, sparse=False, run_eagerly=True)
        sparse = OnlineTrainer(model, "sgd", loss=LOSS, sparse=True, track_cost=True, run_eagerly=True)
        g_dense = dense.sequence_gradients(x, y)
        g_sparse = sparse.sequence_gradients(x, y)
    units = model.layers[0].layer.cell.units
    propagated = [c["propagate"] for c in sparse.costs]
    assert any(c["gradient"] < units * sparse.influence.n_columns for c in sparse.costs)
    assert sparse.influence.n_columns < dense.influence.n_columns      # pruned columns untracked
    assert min(propagated) < max(propagated)                           # activity varies per step
    for a, b in zip(g_sparse, g_dense):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_bptt_method_matches_reference():
    with float64():
        model = make_model(**CASES["egru-sparse-activity-pruned"])
        x, y = sequence_data()
        trainer = OnlineTrainer(model, "sgd", method="bptt", loss=LOSS, run_eagerly=True)
        grads = trainer.sequence_gradients(x, y)
        reference = bptt_gradients(model, trainer.variables, x, y)
    for g, r in zip(grads, reference):
        assert relative_error(g, r) <= 1e-5

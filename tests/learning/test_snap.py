"""SnAp-n (Menick et al., ICLR 2021) against exact RTRL. TensorFlow only: the SnAp step is
the RTRL step of `test_rtrl_gradients` (checked on JAX there) plus a static mask, and JAX
runs it eagerly (slow)."""

import numpy as np
import pytest
from backend_utils import float64
from helpers import LOSS, make_model, relative_error, sequence_data

from keras_events import EGRUCell
from keras_events.learning import CellMath, Influence, OnlineTrainer

TIME = 5
pytestmark = pytest.mark.tensorflow_only


def _errors(model, orders, x, y):
    exact = OnlineTrainer(model, "sgd", method="rtrl", loss=LOSS, run_eagerly=True).sequence_gradients(x, y)
    errors = []
    for n in orders:
        approx = OnlineTrainer(model, "sgd", method=f"snap{n}", loss=LOSS, run_eagerly=True).sequence_gradients(x, y)
        # the cell's kernels only: the readout's gradient is exact in every method
        errors.append(max(relative_error(a, e) for a, e in zip(approx[:2], exact[:2])))
    return errors


@pytest.mark.parametrize("kind", ["egru", "gru", "delta_gru", "delta_lstm"])
def test_snap_error_shrinks_with_n_and_vanishes_at_sequence_length(kind):
    """A sparse recurrent kernel (80 % pruned) so that influence spreads over several steps."""
    with float64():
        options = {"surrogate": "ste"}
        if kind.startswith("delta"):     # the LSTM's small changes rarely pass 0.02: send them all
            options = {"surrogate": None, "hidden_threshold": 0.02 if kind == "delta_gru" else 0.0}
        model = make_model(kind, units=8, prune=0.8, seed=3, **options)
        if kind == "delta_lstm":
            _chain_recurrent_mask(model)
        x, y = sequence_data(time=TIME)
        errors = _errors(model, [1, 2, 3, TIME], x, y)
    assert errors[0] > errors[1] > errors[2] > 0, errors
    assert errors[-1] <= 1e-12, errors          # SnAp-n is exact while t <= n


def _chain_recurrent_mask(model, units=8, gates=4):
    """Unit j feeds unit j + 1 only (every gate): with four gate blocks a random 80 % mask
    already connects every unit within three steps, a chain needs n - 1 steps for n units."""
    wrapper = model.layers[0]
    mask = np.zeros((units, gates * units), "float32")
    for k in range(gates):
        mask[np.arange(units - 1), k * units + np.arange(1, units)] = 1
    for w, m in zip(wrapper.pruned_weights, wrapper.masks):
        if "recurrent" in w.path:
            m.assign(mask)


def test_snap2_is_exact_for_a_dense_recurrent_kernel():
    """With every unit feeding every unit, the 2-step pattern is already full (Menick et al.)."""
    with float64():
        model = make_model("egru", units=5, surrogate="ste")
        x, y = sequence_data(time=TIME)
        errors = _errors(model, [1, 2], x, y)
    assert errors[0] > 1e-3 and errors[1] <= 1e-12, errors


def test_snap_patterns():
    cell = EGRUCell(4)
    cell.build((None, 2))
    mask = np.zeros((4, 12), bool)
    mask[0, 1] = mask[1, 4 + 2] = True            # unit 0 feeds unit 1 (gate 0), unit 1 feeds unit 2 (gate 1)
    inf = Influence(CellMath(cell), masks=[None, mask, None, None])
    jac = inf.jacobian_pattern()
    assert jac[1, 0] and jac[2, 1] and not jac[2, 0] and jac.trace() == 4
    one, two, three = (inf.snap_pattern(n) for n in (1, 2, 3))
    assert (one.sum(axis=0)[:inf.n_local] == 1).all()     # each local parameter: its own unit
    assert (one <= two).all() and (two <= three).all()
    column = np.flatnonzero(inf.unit == 0)[0]       # a parameter of unit 0
    assert [p[:, column].nonzero()[0].tolist() for p in (one, two, three)] == [[0], [0, 1], [0, 1, 2]]
    with pytest.raises(ValueError, match="method"):
        Influence(CellMath(cell), method="snap0")

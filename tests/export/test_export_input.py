"""Bad export input gets an error naming the problem and the fix: unstripped pruning
wrappers, pruning twice, a TensorFlow op without a TFLite kernel (no silent unresolved
custom op), a missing LiteRT, `micro run` inputs of the wrong shape or dtype."""
import sys

import keras
import numpy as np
import pytest
from export_helpers import egru_model

from keras_events import sparsity
from keras_events.export import Interpreter, to_tflite

pytestmark = pytest.mark.tensorflow_only


def _pruned():
    model = egru_model(4, 3, 5, head=2)
    return sparsity.prune_low_magnitude(model, pruning_schedule=sparsity.ConstantSparsity(0.5, 0))


def test_unstripped_pruning_wrappers_raise():
    with pytest.raises(ValueError, match=r"strip_pruning") as e:
        to_tflite(_pruned())
    assert "PruneLowMagnitude" in str(e.value)


def test_stripped_model_exports():
    Interpreter(model_content=to_tflite(sparsity.strip_pruning(_pruned()))).allocate_tensors()


def test_pruning_a_pruned_model_raises():
    pruned = _pruned()
    with pytest.raises(ValueError, match=r"already pruned.*strip_pruning"):
        sparsity.prune_low_magnitude(pruned)
    wrapper = next(l for l in pruned.layers if isinstance(l, sparsity.PruneLowMagnitude))
    with pytest.raises(ValueError, match="already wrapped"):
        sparsity.prune_low_magnitude(wrapper)


def test_unsupported_tensorflow_op_names_the_layer():
    import tensorflow as tf
    model = keras.Sequential([keras.Input((4, 3)), keras.layers.Flatten(),
                              keras.layers.Lambda(tf.math.special.bessel_i1e, name="bessel"),
                              keras.layers.Dense(2)])
    with pytest.raises(ValueError, match=r"BesselI1e.*'bessel'.*KE_EGRU"):
        to_tflite(model)


def test_litert_backend_without_the_package_names_the_extra(monkeypatch):
    # `make test` installs the extra: hide it (a None entry makes the import fail).
    monkeypatch.setitem(sys.modules, "ai_edge_litert", None)
    monkeypatch.setitem(sys.modules, "ai_edge_litert.interpreter", None)
    with pytest.raises(ImportError, match=r"pip install keras-events\[litert\]"):
        Interpreter(model_content=b"", backend="litert")


@pytest.fixture(scope="module")
def float_model():
    return to_tflite(egru_model(4, 3, 5, head=2))


@pytest.mark.parametrize("bad, message", [
    (np.zeros((1, 4, 3), np.float64), "dtype float64"),
    (np.zeros((1, 4, 3), np.int8), "dtype int8"),
    (np.zeros((1, 3, 4), np.float32), r"shape \(1, 3, 4\)"),
    (np.zeros((12,), np.float32), "shape"),
    (np.zeros((0, 4, 3), np.float32), "shape"),
])
def test_micro_run_checks_input_shape_and_dtype(float_model, bad, message):
    from keras_events.micro import runner
    with pytest.raises(ValueError, match=message):
        runner.check_inputs(float_model, bad)


def test_micro_run_accepts_stacked_invokes(float_model):
    from keras_events.micro import runner
    for ok in (np.zeros((1, 4, 3), np.float32), np.zeros((5, 4, 3), np.float32),
               np.zeros((5, 1, 4, 3), np.float32), np.zeros((4, 3), np.float32)):
        runner.check_inputs(float_model, ok)


def test_micro_run_cli_reports_bad_input(float_model, tmp_path):
    from keras_events.micro.__main__ import main
    (tmp_path / "m.tflite").write_bytes(float_model)
    np.save(tmp_path / "x.npy", np.zeros((1, 4, 3), np.float64))
    assert main(["run", str(tmp_path / "m.tflite"), "--input", str(tmp_path / "x.npy"),
                 "--board", "host"]) == 1

"""`to_tflite(..., quantize="int8", representative_data=...)`: the accepted forms give the
same model as a plain array; bad data raises a ValueError naming the argument before the
converter runs (an `inf` used to crash the calibrator)."""
import numpy as np
import pytest
from export_helpers import egru_model

from keras_events.export import to_tflite
from keras_events.export.representative import check_representative_data

pytestmark = pytest.mark.tensorflow_only


@pytest.fixture(scope="module")
def model():
    return egru_model(4, 3, 5, sparsity=0.3)


X = np.random.default_rng(0).normal(0, 1, (6, 4, 3)).astype(np.float32)


def test_forms_give_the_same_samples(model):
    import tensorflow as tf
    forms = {
        "array": X,
        "float64 array": X.astype(np.float64),
        "list of samples": list(X),
        "list of batches": [X[:2], X[2:]],
        "generator": (x for x in X),
        "dataset of samples": tf.data.Dataset.from_tensor_slices(X),
        "dataset of batches": tf.data.Dataset.from_tensor_slices(X).batch(4),
        "dataset of (x, y)": tf.data.Dataset.from_tensor_slices((X, np.zeros(6))).batch(2),
    }
    for name, data in forms.items():
        got = check_representative_data(model, data)
        assert got.dtype == np.float32, name
        np.testing.assert_array_equal(got, X, err_msg=name)


BAD = {
    "inf": (lambda: np.where(np.arange(X.size).reshape(X.shape) == 5, np.inf, X), "non-finite"),
    "nan": (lambda: np.full_like(X, np.nan), "non-finite"),
    "empty": (lambda: X[:0], "empty"),
    "empty list": (lambda: [], "empty"),
    "wrong rank": (lambda: X[0], "rank"),
    "wrong features": (lambda: X[..., :2], "expects"),
    "wrong time": (lambda: X[:, :3], "expects"),
    "strings": (lambda: np.array([["a"]]), "dtype"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_data_raises_naming_the_argument(model, case):
    make, message = BAD[case]
    with pytest.raises(ValueError, match=message) as e:
        to_tflite(model, quantize="int8", representative_data=make())
    assert "representative_data" in str(e.value)


def test_inf_in_an_exported_model_raises_not_crashes(model):
    """The reported crash: an inf in the calibration data (SIGSEGV in the calibrator)."""
    x = X.copy()
    x[2, 1, 0] = -np.inf
    with pytest.raises(ValueError, match=r"index \(2, 1, 0\)"):
        to_tflite(model, quantize="int8", representative_data=x)


def test_dataset_exports(model):
    import tensorflow as tf
    from keras_events.export import Interpreter
    data = tf.data.Dataset.from_tensor_slices(X).batch(3)
    interp = Interpreter(model_content=to_tflite(model, quantize="int8", representative_data=data))
    interp.allocate_tensors()
    interp.invoke()

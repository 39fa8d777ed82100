"""The event-op registry and the EGRU op module: lookup, the NumPy reference step against
the Keras cell, MAC accounting against the C kernel's own count."""

import keras
import numpy as np
import pytest

from keras_events import EGRUCell, ops
from keras_events.ops import egru, packing

I, U, B = 5, 7, 4


def _cell(seed=0):
    cell = EGRUCell(U)
    cell.build((None, I))
    rng = np.random.default_rng(seed)
    kernel = rng.normal(0, 0.8, cell.kernel.shape) * (rng.random(cell.kernel.shape) > 0.4)
    cell.kernel.assign(kernel)
    cell.recurrent_kernel.assign(rng.normal(0, 0.8, cell.recurrent_kernel.shape))
    cell.bias.assign(rng.normal(0, 0.4, cell.bias.shape))
    cell.threshold_param.assign(rng.normal(-1.0, 0.5, U))
    return cell


def test_registry_and_native_manifest_list_the_same_ops():
    # Each manifest line imports its op module; the module registers the op under the
    # manifest's name with the manifest's version (the registerers announce that one).
    from keras_events._native import manifest

    assert ops.names() == sorted(manifest.names())
    for line in manifest.ops():
        assert ops.get(line.name).version == line.version, line.name


def test_egru_is_registered_and_found_for_its_cell():
    assert "KE_EGRU" in ops.names()
    op = ops.get("KE_EGRU")
    assert op is egru.EGRU and isinstance(op, ops.EventOp)
    assert op in ops.all_ops()
    assert ops.for_cell(EGRUCell(4)) is op
    assert ops.for_cell(keras.layers.GRUCell(4)) is None


def test_unknown_name_raises_a_clear_key_error():
    with pytest.raises(KeyError, match="Unknown event op 'KE_NOPE'.*KE_EGRU"):
        ops.get("KE_NOPE")


def test_a_second_op_under_a_taken_name_is_refused():
    class Impostor(egru.EGRUOp):
        pass

    with pytest.raises(ValueError, match="already registered"):
        ops.register(Impostor())
    assert ops.register(egru.EGRU) is egru.EGRU  # registering the same op again is harmless


def test_reference_step_equals_the_keras_cell():
    cell = _cell()
    rng = np.random.default_rng(1)
    x = rng.normal(0, 1, (B, I)).astype(np.float32)
    y_prev = rng.random((B, U)).astype(np.float32) * (rng.random((B, U)) < 0.5)
    c_prev = rng.normal(0, 0.3, (B, U)).astype(np.float32)
    out, (y, c_hat) = cell(x, [y_prev, c_prev])
    weights = {k: v.astype(np.float64) for k, v in egru.EGRU.layer_weights(cell).items()}
    ref_out, (ref_y, ref_c_hat) = egru.EGRU.reference_step(
        weights, x.astype(np.float64), [y_prev.astype(np.float64), c_prev.astype(np.float64)])
    events = ref_y != 0
    assert 0.1 < events.mean() < 0.9, f"the case should be partly active, got {events.mean()}"
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(y) != 0, events)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(out), ref_out, atol=1e-5)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(y), ref_y, atol=1e-5)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(c_hat), ref_c_hat, atol=1e-5)


def test_float_packing_round_trips_and_names_the_op_inputs():
    weights = egru.EGRU.layer_weights(_cell())
    packed = egru.EGRU.pack_float(weights)
    assert tuple(packed) == egru.EGRU.float_inputs
    w = packing.unpack_rows(packed["w_values"], packed["w_index"], packed["w_offsets"], 3 * U)
    np.testing.assert_array_equal(w, weights["kernel"])
    assert packed["w_offsets"][-1] == np.count_nonzero(weights["kernel"])  # zeros not stored
    int8 = egru.EGRU.pack_int8(weights, 0.05, 3, egru.Y_SCALE, egru.Y_ZERO_POINT)
    assert tuple(int8) == egru.EGRU.int8_inputs


def test_step_macs_equal_the_c_kernels_count():
    from keras_events.ops import egru_native

    weights = egru.EGRU.layer_weights(_cell(seed=2))
    x = np.random.default_rng(3).normal(0, 1, (1, 12, I)).astype(np.float32)
    x[np.abs(x) < 0.5] = 0.0  # the kernel skips zero inputs
    y, macs = egru_native.run_float(x, egru.EGRU.pack_float(weights), U)
    prev = np.concatenate([np.zeros((1, 1, U)), y[:, :-1]], axis=1) != 0
    expected = egru.EGRU.step_macs(weights, prev, active_inputs=x != 0)
    assert expected.shape == (1, 12)
    assert 0 < (y != 0).mean() < 1
    assert expected.sum() == macs
    assert egru.EGRU.dense_macs(weights) == I * 3 * U + U * 3 * U


class _ScaleCell(keras.layers.Layer):
    """A toy recurrent cell (output = x W, no recurrence) for a second, test-only op."""

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units, self.state_size, self.output_size = units, units, units

    def build(self, input_shape):
        self.kernel = self.add_weight(shape=(input_shape[-1], self.units), name="kernel")

    def call(self, inputs, states):
        y = keras.ops.matmul(inputs, self.kernel)
        return y, [y]


class _ScaleOp(ops.EventOp):
    name = "KE_TEST_SCALE"
    cell_name = "_ScaleCell"
    float_inputs = ("kernel",)
    matrix_names = ("kernel",)

    def serves(self, cell):
        return isinstance(cell, _ScaleCell)

    def layer_weights(self, layer):
        return {"kernel": keras.ops.convert_to_numpy(layer.cell.kernel).astype(np.float32)}

    def options(self, layer):
        return {"units": layer.cell.units, "gain": 1.5}

    def output_shape(self, layer, input_shape):
        return (input_shape[0], input_shape[1], layer.cell.units)

    def pack_float(self, weights, keep_zeros=False):
        return dict(weights)

    def pack_int8(self, weights, x_scale, x_zero_point, y_scale, y_zero_point, keep_zeros=False):
        raise NotImplementedError

    def tf_reference(self, layer):
        import tensorflow as tf

        return lambda x, kernel: tf.einsum("bti,iu->btu", x, kernel)

    def reference_step(self, weights, x, states):
        y = x @ weights["kernel"]
        return y, [y]

    def step_macs(self, weights, prev_events, active_inputs=None):
        return np.count_nonzero(weights["kernel"]) + 0 * np.asarray(prev_events).sum(-1)

    def kernel_state_bytes(self, input_tensor, output_tensor):
        return 0


@pytest.mark.tensorflow_only
def test_a_new_op_exports_through_the_registry_alone():
    """The export names no op: registering a second one is enough for `to_tflite`
    (float) and `summary` to handle it."""
    from keras_events import tflite_file
    from keras_events.export import summary, to_tflite
    from keras_events.ops import registry

    op = ops.register(_ScaleOp())
    try:
        model = keras.Sequential([keras.Input((3, 2)),
                                  keras.layers.RNN(_ScaleCell(4), return_sequences=True)])
        tflite_bytes = to_tflite(model)
        assert tflite_file.op_names(tflite_bytes) == ["KE_TEST_SCALE"]
        flat = tflite_file.load(tflite_bytes)
        (custom,) = flat.subgraphs[0].operators
        options = tflite_file.custom_options(custom)
        assert options["units"] == 4 and options["gain"] == pytest.approx(1.5)
        assert options["version"] == op.version and options["layer_id"] == 0
        assert summary(tflite_bytes)["op_counts"] == {"KE_TEST_SCALE": 1}
    finally:
        registry._REGISTRY.pop(op.name)
    assert "KE_TEST_SCALE" not in ops.names()

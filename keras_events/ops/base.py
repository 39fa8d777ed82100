"""`EventOp`: what one event op tells the export, the quantizer, the summary and the tools.

An op module (``keras_events/ops/<op>.py``) subclasses `EventOp`, fills in the class
attributes and methods below and registers one instance with
`keras_events.ops.register`. The rest of the package then handles the op without naming
it: `export.to_tflite` finds the op of each RNN layer with `for_cell`, traces its
`tf_reference` as a fusable composite function carrying `options`, and the int8 pass
swaps the float weight tensors for `pack_int8`'s; `export.summary` adds
`kernel_state_bytes` to its arena estimate.

Shared conventions (`custom_ops/README.md`): the op's inputs are ``x`` then the packed
weight tensors named by `float_inputs` (float model) or `int8_inputs` (int8 model); its
one output is the layer's output; options are a flexbuffer map.
"""
import abc

import numpy as np


class EventOp(abc.ABC):
    """One custom op of the `.tflite` export.

    Class attributes:
        name: Custom-op code in the `.tflite` (what the TFLite/TFLM resolvers register).
        version: Written as the ``version`` option; bump when the inputs or options change.
        cell_name: The Keras cell class it exports (for messages).
        supported: What layer configurations it exports (completes "<name> supports ...").
        float_inputs, int8_inputs: Names of the packed weight tensors after ``x``, in the
            op's input order, as keys of `pack_float` / `pack_int8`'s dicts.
        matrix_names: The `layer_weights` entries that are multiplied (for `dense_macs`).
    """

    name = None
    version = 1
    cell_name = None
    supported = "forward, non-stateful layers without returned states"
    float_inputs = ()
    int8_inputs = ()
    matrix_names = ()

    # --- which layers
    @abc.abstractmethod
    def serves(self, cell):
        """Whether this op exports `cell` (a Keras RNN cell instance)."""

    def check_layer(self, layer):
        """Problems (list of short strings) that keep the RNN `layer` from exporting."""
        problems = []
        if layer.go_backwards:
            problems.append("go_backwards=True")
        if layer.stateful:
            problems.append("stateful=True")
        if layer.return_state:
            problems.append("return_state=True")
        return problems

    # --- weights and options
    @abc.abstractmethod
    def layer_weights(self, layer):
        """The cell's float weights as a dict of float32 NumPy arrays (`pack_*`'s input)."""

    def options(self, layer):
        """The op's own flexbuffer options for `layer` (an ordered dict of bool/int/float);
        the exporter adds ``version``, ``layer_id`` and ``streaming``. Default: the
        recurrent ops' ``units`` and ``return_sequences``."""
        return {"units": layer.cell.units, "return_sequences": bool(layer.return_sequences)}

    def output_shape(self, layer, input_shape):
        """Shape of the op's output for a `(batch, time, features)` input shape. Default:
        ``(batch, time, units)`` with ``return_sequences``, else ``(batch, units)``."""
        units = layer.cell.units
        if layer.return_sequences:
            return (input_shape[0], input_shape[1], units)
        return (input_shape[0], units)

    @abc.abstractmethod
    def pack_float(self, weights, keep_zeros=False):
        """float32 weight tensors: a dict keyed by `float_inputs`."""

    @abc.abstractmethod
    def pack_int8(self, weights, x_scale, x_zero_point, y_scale, y_zero_point, keep_zeros=False):
        """int8-model weight tensors for the given input/output quantization: a dict keyed
        by `int8_inputs`."""

    @abc.abstractmethod
    def tf_reference(self, layer):
        """A TensorFlow function ``(x, *float tensors) -> output``: the body the converter
        fuses into the custom op (so it is also a runnable definition of the op)."""

    # --- reference and accounting
    @abc.abstractmethod
    def reference_step(self, weights, x, states):
        """One step in NumPy: ``(output, new_states)`` with the cell's state order."""

    @abc.abstractmethod
    def step_macs(self, weights, prev_events, active_inputs=None):
        """Multiply-accumulates the event-driven kernel executes per step (NumPy array
        over the leading axes of `prev_events`)."""

    def dense_macs(self, weights):
        """MACs per step of the dense layer of the same size (every weight)."""
        return sum(int(np.size(weights[k])) for k in self.matrix_names)

    @abc.abstractmethod
    def kernel_state_bytes(self, input_tensor, output_tensor):
        """Working memory the kernel keeps per op besides its tensors (state, active
        list, scratch); tensors are dicts with ``dtype`` (``"int8"``...) and ``shape``."""

    def __repr__(self):
        return f"<EventOp {self.name} v{self.version} ({self.cell_name})>"

"""`to_tflite`: a Keras model with event layers -> `.tflite` with one custom op per layer.

Each `keras.layers.RNN` whose cell an event op serves (`keras_events.ops.for_cell`, e.g.
an `EGRUCell`, including `keras_events.EGRU`) is replaced, for tracing only, by a
TensorFlow function carrying an `experimental_implements` signature (`name: "<op name>"
attr { key: "tfl_fusable_op" ... }`).  The TFLite converter fuses such a function into
one `CUSTOM` op: its arguments (input, then the op's packed weight tensors, see
`custom_ops/README.md`) become the op's inputs as constants, its other attrs the
flexbuffer options.  Everything else stays a builtin op.  For `quantize="int8"` the
converter quantizes the builtin ops (calibrating with the op's float kernel) and
`keras_events.export.quantize` then turns each event op into its int8 form.
"""
import tempfile

import numpy as np

from keras_events import ops


def _check_event_layer(layer, op):
    """Raises a ValueError naming `layer` if `op` cannot export its configuration."""
    problems = op.check_layer(layer)
    if problems:
        raise ValueError(
            f"Layer {layer.name!r} ({type(layer).__name__}) cannot be exported: "
            f"{', '.join(problems)}. {op.name} supports {op.supported}.")


def _check_model(model):
    """Finds the event layers and their ops; rejects what the export cannot represent."""
    import keras

    from keras_events.sparsity.pruning_wrapper import PruneLowMagnitude

    wrapped = [layer.name for layer in model.layers if isinstance(layer, PruneLowMagnitude)]
    if wrapped:
        raise ValueError(
            f"Layers {wrapped} are still wrapped for pruning (PruneLowMagnitude): call "
            f"`model = keras_events.sparsity.strip_pruning(model)` before to_tflite, which "
            f"applies the masks and removes the wrappers.")
    event_layers = []
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            raise ValueError(
                f"Layer {layer.name!r} is a nested model; to_tflite exports flat Sequential/"
                f"Functional models. Rebuild the model without nesting.")
        if isinstance(layer, keras.layers.Masking) or getattr(layer, "mask_zero", False):
            raise ValueError(
                f"Layer {layer.name!r} produces a mask; masking is not supported by the event "
                f"ops (pad sequences with zeros instead, or remove the mask).")
        if isinstance(layer, keras.layers.RNN):
            op = ops.for_cell(layer.cell)
            if op is None:
                cells = ", ".join(o.cell_name for o in ops.all_ops())
                raise ValueError(
                    f"Layer {layer.name!r} is an RNN with cell {type(layer.cell).__name__}; "
                    f"to_tflite supports event cells ({cells}). Convert models with other "
                    f"recurrent layers with tf.lite.TFLiteConverter directly.")
            _check_event_layer(layer, op)
            event_layers.append((layer, op))
        elif isinstance(layer, keras.layers.Bidirectional):
            raise ValueError(f"Layer {layer.name!r}: Bidirectional is not supported by the "
                             f"event ops.")
    return event_layers


def _attr(value):
    """A Python option value as the NameAttrList `value { ... }` body."""
    if isinstance(value, (bool, np.bool_)):
        return f"b: {'true' if value else 'false'}"
    if isinstance(value, (int, np.integer)):
        return f"i: {int(value)}"
    if isinstance(value, (float, np.floating)):
        return f"f: {float(value)!r}"
    raise TypeError(f"Event-op option values must be bool, int or float; got {value!r}.")


def _implements(op, layer, layer_id, streaming=False):
    """The NameAttrList text the converter's composite-function fusion looks for."""
    attrs = {"tfl_fusable_op": True, **op.options(layer), "version": op.version,
             "layer_id": layer_id}
    if streaming:  # absent: the kernels stream iff the input has one time step
        attrs["streaming"] = True
    body = " ".join(f'attr {{ key: "{k}" value {{ {_attr(v)} }} }}' for k, v in attrs.items())
    return f'name: "{op.name}" {body}'


def _export_layer(layer, op, layer_id, sparse_weights, streaming=False):
    """A stand-in Keras layer that calls the fusable composite function."""
    import keras
    import tensorflow as tf

    packed = op.pack_float(op.layer_weights(layer), keep_zeros=not sparse_weights)
    fused = tf.function(op.tf_reference(layer),
                        experimental_implements=_implements(op, layer, layer_id, streaming))

    class _EventOpLayer(keras.layers.Layer):
        def call(self, x, mask=None, training=None, initial_state=None):
            # Functional cloning replays the original call's keyword arguments.
            if mask is not None or initial_state is not None:
                raise ValueError(f"Layer {layer.name!r}: masks and initial states are not "
                                 f"supported by {op.name}.")
            return fused(x, *[tf.constant(packed[n]) for n in op.float_inputs])

        def compute_output_shape(self, input_shape):
            return op.output_shape(layer, input_shape)

    # The name (e.g. "<layer>_ke_egru") ends up in the .tflite tensor names.
    return _EventOpLayer(name=f"{layer.name}_{op.name.lower()}")


def _convert(model, event_layers, sparse_weights, quantize, representative_data,
             inference_input_type, inference_output_type, streaming=False):
    import keras
    import tensorflow as tf

    found = {id(layer): (layer_id, op) for layer_id, (layer, op) in enumerate(event_layers)}

    def stand_in(layer):
        if id(layer) not in found:
            return layer
        layer_id, op = found[id(layer)]
        return _export_layer(layer, op, layer_id, sparse_weights, streaming)

    clone = keras.models.clone_model(model, clone_function=stand_in)
    specs = [tf.TensorSpec((None,) + tuple(t.shape[1:]), t.dtype, name=f"input_{i}")
             for i, t in enumerate(model.inputs)]
    # Through Keras' ExportArchive (a SavedModel whose variables the converter can
    # freeze): from_concrete_functions freezes variables by inlining every call,
    # which dissolves the composite functions; a plain tf.saved_model.save of the
    # Keras variables leaves them as unfrozen VAR_HANDLE ops.
    archive = keras.export.ExportArchive()
    archive.track(clone)
    archive.add_endpoint("serve", lambda *xs: clone(list(xs) if len(xs) > 1 else xs[0]),
                         input_signature=specs)
    with tempfile.TemporaryDirectory(prefix="ke_export_") as saved:
        archive.write_out(saved, verbose=False)
        converter = tf.lite.TFLiteConverter.from_saved_model(saved)
        return _run_converter(converter, quantize, representative_data,
                              inference_input_type, inference_output_type)


def _run_converter(converter, quantize, representative_data, inference_input_type,
                   inference_output_type):
    import tensorflow as tf

    converter.allow_custom_ops = True
    if quantize == "int8":
        from keras_events.export.runtime import load_ops

        samples = representative_data if isinstance(representative_data, (list, tuple)) \
            else [representative_data]
        samples = [np.asarray(s, np.float32) for s in samples]

        def dataset():
            for i in range(len(samples[0])):
                yield [s[i:i + 1] for s in samples]

        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.representative_dataset = dataset
        # The calibrator runs the float model, so it needs the event ops' float kernels.
        converter.target_spec._experimental_custom_op_registerers = [load_ops()]
        if inference_input_type is not None:
            converter.inference_input_type = inference_input_type
        if inference_output_type is not None:
            converter.inference_output_type = inference_output_type
    return converter.convert()


def _check_custom_ops(tflite_bytes, model):
    """Raises a ValueError if the converter wrote a custom op that is not one of the
    project's event ops: `allow_custom_ops` (needed for those) would otherwise let an
    unsupported TensorFlow op through as an unresolved custom op, failing only at load."""
    from keras_events import tflite_file

    m = tflite_file.load(tflite_bytes)
    known = set(ops.names())
    unknown = {}
    for g in m.subgraphs:
        for op in g.operators:
            name = tflite_file.op_name(m.operatorCodes[op.opcodeIndex])
            code = tflite_file.builtin_code(m.operatorCodes[op.opcodeIndex])
            if code == tflite_file.schema().BuiltinOperator.CUSTOM and name not in known:
                tensors = [g.tensors[t].name.decode(errors="replace") for t in op.outputs]
                unknown.setdefault(name, []).extend(tensors)
    if unknown:
        import re

        # Tensor names hold the traced layer scope, e.g. "sequential_3_1/bessel_1/...".
        names = [layer.name for layer in model.layers]
        culprits = sorted({n for ts in unknown.values() for t in ts for n in names
                           if re.search(rf"(^|/){re.escape(n)}(_\d+)?/", t)})
        where = f" in layer(s) {culprits}" if culprits else ""
        raise ValueError(
            f"The model uses TensorFlow op(s) {sorted(unknown)}{where} that TFLite has no "
            f"builtin kernel for (output tensors {sorted({t for ts in unknown.values() for t in ts})}). "
            f"to_tflite supports the TFLite builtin ops and the project's event ops "
            f"{sorted(known)}: replace the layer or express it with supported ops.")


def _stream_frames(model, representative_data):
    """Whole calibration sequences (N, T, F) -> their frames in time order (N*T, 1, F)."""
    data = np.asarray(representative_data, np.float32)
    if data.ndim != 3:
        raise ValueError(f"streaming=True needs `representative_data` shaped (sequences, "
                         f"frames, features); got shape {data.shape}.")
    features = model.inputs[0].shape[-1]
    if data.shape[-1] != features:
        raise ValueError(f"`representative_data` has {data.shape[-1]} features per frame; the "
                         f"model expects {features}.")
    return data.reshape(-1, 1, features)


def to_tflite(model, quantize=None, representative_data=None, sparse_weights=True,
              inference_input_type=None, inference_output_type=None, streaming=False):
    """Converts a Keras model with event layers to `.tflite` bytes.

    Each event layer (a `keras.layers.RNN` whose cell a registered event op
    serves: `EGRUCell`, e.g. `keras_events.EGRU`) becomes one custom op;
    everything else is converted by the TFLite converter.  Run the result with
    `keras_events.export.Interpreter`.

    Args:
        model: A built Sequential or Functional Keras model (TensorFlow backend).
        quantize: None (float32) or "int8" (full-integer: int8 activations,
            per-channel int8 weights, int16 state; needs `representative_data`).
        representative_data: Calibration inputs, an array (N, ...) or a list
            of arrays for multi-input models; a few hundred samples suffice.
            An iterable of sample arrays or batches and a `tf.data.Dataset`
            (elements `x` or `(x, y)`) are accepted too. Checked before
            conversion: non-empty, finite, the model input's rank and shape.
        sparse_weights: Store only non-zero weights (the `.tflite` shrinks and
            the kernel skips pruned weights).  False stores every entry.
        inference_input_type, inference_output_type: For int8, the model's
            interface types (`tf.int8` or `tf.float32`, default float32), as
            the TFLite converter's options of the same name.
        streaming: One frame per invoke with the recurrent state kept between
            invokes (an always-on detector): `model` must take one frame,
            `keras.Input(batch_shape=(1, 1, features))`; each event op gets the
            option `streaming: true` (host TFLite and TFLite Micro keep the state;
            reset it with `Interpreter.reset_state()`). For int8, give whole
            sequences `(N, T, features)` as `representative_data`: they are fed
            frame by frame, in order, so calibration sees the states of real streams
            (calibrating on frames from the zero state narrows the ranges of the
            layers after the event layer and saturates later frames).

    Returns:
        The `.tflite` flatbuffer as `bytes`.

    Raises:
        ValueError: unsupported layer or configuration (the message names the
            layer), or bad arguments.

    Example:

    >>> import keras, numpy as np
    >>> from keras_events import EGRU
    >>> from keras_events.export import to_tflite, Interpreter
    >>> model = keras.Sequential([keras.Input((10, 4)), EGRU(8), keras.layers.Dense(2)])
    >>> tflite_bytes = to_tflite(model)  # doctest: +SKIP
    """
    import keras

    if keras.backend.backend() != "tensorflow":
        raise ValueError(f"to_tflite needs the TensorFlow backend (KERAS_BACKEND=tensorflow); "
                         f"the current backend is {keras.backend.backend()!r}. Save the model "
                         f"(.keras) and export it from a TensorFlow-backend process.")
    if quantize not in (None, "int8"):
        raise ValueError(f"Argument `quantize` must be None or 'int8', got {quantize!r}.")
    if quantize == "int8" and representative_data is None:
        raise ValueError("quantize='int8' needs `representative_data` (calibration inputs).")
    if not model.built or not getattr(model, "inputs", None):
        raise ValueError("Argument `model` must be a built Sequential/Functional model with "
                         "known inputs (start it with keras.Input(shape)).")
    if any(t.shape[1] is None for t in model.inputs if len(t.shape) == 3):
        raise ValueError("to_tflite needs a fixed number of time steps: build the model with "
                         "keras.Input((timesteps, features)).")
    event_layers = _check_model(model)
    if quantize == "int8":
        from keras_events.export.representative import check_representative_data

        representative_data = check_representative_data(model, representative_data, streaming)
    if streaming:
        shapes = [tuple(t.shape) for t in model.inputs]
        if len(shapes) != 1 or len(shapes[0]) != 3 or shapes[0][0] not in (None, 1) \
                or shapes[0][1] != 1:
            raise ValueError(f"streaming=True exports one frame per invoke: build the model with "
                             f"keras.Input(batch_shape=(1, 1, features)); its inputs are {shapes}.")
        if representative_data is not None:
            representative_data = _stream_frames(model, representative_data)
    tflite_bytes = _convert(model, event_layers, sparse_weights, quantize, representative_data,
                            inference_input_type, inference_output_type, streaming)
    _check_custom_ops(tflite_bytes, model)
    if quantize == "int8":
        from keras_events.export.quantize import quantize_event_ops

        tflite_bytes = quantize_event_ops(tflite_bytes, model, event_layers, representative_data,
                                          sparse_weights)
    return tflite_bytes

"""Post-processing of a converter-quantized model: event ops to their int8 form.

The converter's full-integer quantization (with the event ops' float kernels in the
calibrator) quantizes every builtin op but leaves the custom ops in float
between DEQUANTIZE/QUANTIZE ops (or float model inputs/outputs).  For each
event op (a custom op of `keras_events.ops`) this pass, with the schema object API
(`keras_events.tflite_file`):
- feeds it an int8 input: the DEQUANTIZE's int8 source, the int8 output of a
  preceding event op, or a new QUANTIZE op (scale from the Keras model's
  activations on the representative data);
- writes an int8 output: the tensor of a consuming QUANTIZE op (whose scale the
  converter calibrated), else a new tensor; a DEQUANTIZE op keeps any float
  consumer working;
- replaces its float weights by the int8 ones of the op's `pack_int8` (which may
  add inputs, e.g. per-column scales);
then drops DEQUANTIZE/QUANTIZE ops and tensors nothing uses any more.
"""
import numpy as np

from keras_events import tflite_file


def _affine_int8(lo, hi):
    """TFLite-style asymmetric int8 (scale, zero point) covering [lo, hi] and 0."""
    lo, hi = min(float(lo), 0.0), max(float(hi), 0.0)
    if hi - lo < 1e-6:
        hi = lo + 1e-6
    scale = (hi - lo) / 255.0
    zero_point = int(np.clip(np.round(-128 - lo / scale), -128, 127))
    return np.float32(scale), zero_point


def activation_ranges(model, event_layers, representative_data, batch_size=32):
    """(min, max) of each event layer's input and output on the representative data."""
    import keras

    probe = keras.Model(model.inputs, [layer.input for layer in event_layers]
                        + [layer.output for layer in event_layers])
    outputs = probe.predict(representative_data, batch_size=batch_size, verbose=0)
    outputs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
    n = len(event_layers)
    ranges = [(float(np.min(o)), float(np.max(o))) for o in outputs]
    return ranges[:n], ranges[n:]


class _Graph:
    """Small helpers over one SubGraphT of a ModelT."""

    def __init__(self, model, subgraph):
        self.model, self.g = model, subgraph
        self.schema = tflite_file.schema()

    def op_name(self, op):
        """Builtin name or custom code of `op`."""
        return tflite_file.op_name(self.model.operatorCodes[op.opcodeIndex])

    def is_builtin(self, op, name):
        code = self.model.operatorCodes[op.opcodeIndex]
        return tflite_file.builtin_code(code) == getattr(self.schema.BuiltinOperator, name)

    def opcode_index(self, name):
        code = getattr(self.schema.BuiltinOperator, name)
        for i, c in enumerate(self.model.operatorCodes):
            if tflite_file.builtin_code(c) == code and not c.customCode:
                return i
        new = self.schema.OperatorCodeT()
        new.builtinCode, new.deprecatedBuiltinCode, new.version = code, min(code, 127), 1
        self.model.operatorCodes.append(new)
        return len(self.model.operatorCodes) - 1

    def producer(self, tensor):
        for op in self.g.operators:
            if tensor in list(op.outputs):
                return op
        return None

    def consumers(self, tensor):
        return [op for op in self.g.operators if tensor in list(op.inputs)]

    def add_tensor(self, name, tensor_type, shape, data=None, quant=None, like=None):
        s = self.schema
        t = s.TensorT()
        t.name = name.encode() if isinstance(name, str) else name
        t.type = tensor_type
        t.shape = np.asarray(shape, np.int32)
        if like is not None and like.shapeSignature is not None:
            t.shapeSignature = np.asarray(like.shapeSignature, np.int32)
        buf = s.BufferT()
        if data is not None:
            buf.data = np.frombuffer(np.ascontiguousarray(data).tobytes(), np.uint8)
        self.model.buffers.append(buf)
        t.buffer = len(self.model.buffers) - 1
        if quant is not None:
            q = s.QuantizationParametersT()
            q.scale = [float(quant[0])]
            q.zeroPoint = [int(quant[1])]
            q.quantizedDimension = 0
            t.quantization = q
        self.g.tensors.append(t)
        return len(self.g.tensors) - 1

    def add_op(self, name, inputs, outputs, position):
        s = self.schema
        op = s.OperatorT()
        op.opcodeIndex = self.opcode_index(name)
        op.inputs = np.asarray(inputs, np.int32)
        op.outputs = np.asarray(outputs, np.int32)
        options = {"QUANTIZE": "QuantizeOptions", "DEQUANTIZE": "DequantizeOptions"}[name]
        op.builtinOptionsType = getattr(s.BuiltinOptions, options)
        op.builtinOptions = getattr(s, options + "T")()
        self.g.operators.insert(position, op)
        return op

    def quant(self, tensor):
        q = self.g.tensors[tensor].quantization
        return float(q.scale[0]), int(q.zeroPoint[0])


def quantize_event_ops(tflite_bytes, model, event_layers, representative_data, sparse_weights=True):
    """Returns `tflite_bytes` with every event op in int8 (see module docstring).

    `event_layers`: the `(layer, EventOp)` pairs of the export, indexed by each op's
    ``layer_id`` option.
    """
    tt = tflite_file.schema().TensorType
    flat = tflite_file.load(tflite_bytes)
    layers = [layer for layer, _ in event_layers]
    in_ranges, out_ranges = activation_ranges(model, layers, representative_data)
    op_names = {op.name for _, op in event_layers}
    for g_index, subgraph in enumerate(flat.subgraphs):
        graph = _Graph(flat, subgraph)
        int8_of = {}  # float tensor -> int8 tensor holding the same values
        position = 0
        while position < len(subgraph.operators):
            op = subgraph.operators[position]
            if graph.op_name(op) not in op_names:
                position += 1
                continue
            layer_index = int(tflite_file.custom_options(op)["layer_id"])
            layer, event_op = event_layers[layer_index]
            x_float, y_float = int(op.inputs[0]), int(op.outputs[0])

            # --- int8 input
            source = graph.producer(x_float)
            if x_float in int8_of:
                x_q = int8_of[x_float]
            elif source is not None and graph.is_builtin(source, "DEQUANTIZE") and \
                    subgraph.tensors[source.inputs[0]].type == tt.INT8:
                x_q = int(source.inputs[0])
            else:
                like = subgraph.tensors[x_float]
                x_q = graph.add_tensor(like.name + b"_int8", tt.INT8, like.shape,
                                       quant=_affine_int8(*in_ranges[layer_index]), like=like)
                graph.add_op("QUANTIZE", [x_float], [x_q], position)
                position += 1
            int8_of[x_float] = x_q

            # --- int8 output
            like = subgraph.tensors[y_float]
            quantizers = [c for c in graph.consumers(y_float) if graph.is_builtin(c, "QUANTIZE")
                          and subgraph.tensors[c.outputs[0]].type == tt.INT8]
            if quantizers:
                y_q = int(quantizers[0].outputs[0])
                subgraph.operators.remove(quantizers[0])
            else:
                y_q = graph.add_tensor(like.name + b"_int8", tt.INT8, like.shape,
                                       quant=_affine_int8(*out_ranges[layer_index]), like=like)
            int8_of[y_float] = y_q
            x_scale, x_zero_point = graph.quant(x_q)
            y_scale, y_zero_point = graph.quant(y_q)

            # --- int8 weights
            packed = event_op.pack_int8(event_op.layer_weights(layer), x_scale, x_zero_point,
                                        y_scale, y_zero_point, keep_zeros=not sparse_weights)
            types = {np.dtype(np.int8): tt.INT8, np.dtype(np.int16): tt.INT16,
                     np.dtype(np.int32): tt.INT32, np.dtype(np.float32): tt.FLOAT32}
            weights = [graph.add_tensor(f"{layer.name}/{name}", types[packed[name].dtype],
                                        packed[name].shape, data=packed[name])
                       for name in event_op.int8_inputs]
            op.inputs = np.asarray([x_q] + weights, np.int32)
            op.outputs = np.asarray([y_q], np.int32)
            # Float consumers of y (and a float model output) read it back.
            graph.add_op("DEQUANTIZE", [y_q], [y_float], position + 1)
            position += 2

        _drop_dead_converters(graph)
        _compact(flat, g_index)
    _clear_unused_buffers(flat)
    return tflite_file.dump(flat)


def _drop_dead_converters(graph):
    """Removes (DE)QUANTIZE ops whose output nothing reads (repeat until stable)."""
    g = graph.g
    changed = True
    while changed:
        changed = False
        outputs = set(int(t) for t in g.outputs)
        for op in list(g.operators):
            if not (graph.is_builtin(op, "DEQUANTIZE") or graph.is_builtin(op, "QUANTIZE")):
                continue
            out = int(op.outputs[0])
            if out not in outputs and not graph.consumers(out):
                g.operators.remove(op)
                changed = True


def _compact(flat, g_index):
    """Drops tensors no operator or subgraph input/output refers to; renumbers the rest."""
    g = flat.subgraphs[g_index]
    used = set(int(t) for t in g.inputs) | set(int(t) for t in g.outputs)
    for op in g.operators:
        used |= set(int(t) for t in op.inputs if t >= 0) | set(int(t) for t in op.outputs)
    new_index = {}
    kept = []
    for old, tensor in enumerate(g.tensors):
        if old in used:
            new_index[old] = len(kept)
            kept.append(tensor)
    remap = lambda ids: np.asarray([new_index[int(t)] if t >= 0 else -1 for t in ids], np.int32)
    g.tensors = kept
    g.inputs, g.outputs = remap(g.inputs), remap(g.outputs)
    for op in g.operators:
        op.inputs, op.outputs = remap(op.inputs), remap(op.outputs)
    for signature in flat.signatureDefs or []:
        if signature.subgraphIndex == g_index:
            for t in list(signature.inputs or []) + list(signature.outputs or []):
                t.tensorIndex = new_index[int(t.tensorIndex)]


def _clear_unused_buffers(flat):
    """Empties buffers no tensor refers to (buffer indices stay valid)."""
    used = {t.buffer for g in flat.subgraphs for t in g.tensors}
    used |= {int(m.buffer) for m in (flat.metadata or [])}
    for i, buf in enumerate(flat.buffers):
        if i not in used:
            buf.data = None

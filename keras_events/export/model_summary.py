"""`summary(tflite_bytes)`: ops, tensor sizes, weight bytes and an arena estimate."""
import numpy as np

from keras_events import ops as event_ops
from keras_events import tflite_file

_ITEM_BYTES = {0: 4, 1: 2, 2: 4, 3: 1, 4: 8, 6: 1, 7: 2, 9: 1, 10: 8, 11: 8, 16: 4, 17: 2}


class Summary(dict):
    """A dict (`ops`, `op_counts`, `tensors`, `weight_bytes`, `arena_bytes_estimate`,
    `model_bytes`) that prints as a table."""

    def __str__(self):
        lines = [f"{'#':>3}  {'op':<18} {'inputs -> outputs'}"]
        for i, op in enumerate(self["ops"]):
            shapes = lambda ts: ", ".join(f"{self['tensors'][t]['dtype']}{self['tensors'][t]['shape']}"
                                          for t in ts if t >= 0)
            lines.append(f"{i:>3}  {op['name']:<18} {shapes(op['inputs'])} -> {shapes(op['outputs'])}")
        lines.append(f"model {self['model_bytes']} B, constant tensors {self['weight_bytes']} B, "
                     f"arena estimate {self['arena_bytes_estimate']} B")
        lines.append("ops: " + ", ".join(f"{k} x{v}" for k, v in self["op_counts"].items()))
        return "\n".join(lines)


def _kernel_state_bytes(op_name, tensors, op):
    """Working memory an event op's kernel keeps besides its tensors (0 for other ops)."""
    if op_name not in event_ops.names():
        return 0
    return event_ops.get(op_name).kernel_state_bytes(tensors[op["inputs"][0]],
                                                     tensors[op["outputs"][0]])


def summary(tflite_bytes):
    """Describes a `.tflite` model: its ops, tensors, weight bytes and arena estimate.

    The arena estimate is the peak of simultaneously live activation tensors
    (batch 1, tensors live from their producer to their last consumer) plus the
    event-op kernels' own buffers; TFLite's planner may do better.

    Returns:
        A `Summary` (a dict that prints as a table).
    """
    model = tflite_file.load(tflite_bytes)
    g = model.subgraphs[0]
    tensors = []
    weight_bytes = 0
    for t in g.tensors:
        shape = [max(int(d), 1) for d in (t.shape if t.shape is not None else [])]
        data = model.buffers[t.buffer].data if t.buffer < len(model.buffers) else None
        constant = data is not None and len(data) > 0
        nbytes = int(np.prod(shape, dtype=np.int64)) * _ITEM_BYTES.get(t.type, 4)
        weight_bytes += len(data) if constant else 0
        tensors.append({"name": t.name.decode(errors="replace"),
                        "dtype": tflite_file.tensor_type_name(t.type),
                        "shape": shape, "bytes": nbytes, "constant": constant})
    ops, counts = [], {}
    for op in g.operators:
        name = tflite_file.op_name(model.operatorCodes[op.opcodeIndex])
        counts[name] = counts.get(name, 0) + 1
        ops.append({"name": name, "inputs": [int(i) for i in op.inputs],
                    "outputs": [int(o) for o in op.outputs]})
    # Liveness of activation tensors over the op order.
    last_use = {}
    for i, op in enumerate(ops):
        for t in op["inputs"] + op["outputs"]:
            last_use[t] = i
    for t in g.outputs:
        last_use[int(t)] = len(ops)
    live = {int(t) for t in g.inputs}
    peak = sum(tensors[t]["bytes"] for t in live)
    for i, op in enumerate(ops):
        live |= {t for t in op["outputs"] if not tensors[t]["constant"]}
        current = sum(tensors[t]["bytes"] for t in live) + _kernel_state_bytes(op["name"], tensors, op)
        peak = max(peak, current)
        live = {t for t in live if last_use.get(t, -1) > i}
    return Summary(ops=ops, op_counts=counts, tensors=tensors, weight_bytes=weight_bytes,
                   arena_bytes_estimate=peak, model_bytes=len(tflite_bytes))

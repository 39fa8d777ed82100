"""One entry point for running a ``.tflite`` on a board (QEMU) or on the host TFLM.

``run(model, inputs, board=...)`` returns a ``MicroRun`` with per-invoke outputs, the
instruction count per invoke (boards only) and the memory figures. Inputs follow the
firmware's convention (``firmware.input_bytes``): one array holding one or more invokes'
worth of the input tensor, consumed in order.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

from keras_events.micro import firmware, qemu

# Every emulated board (keras_events._native.board.BOARDS: the Cortex-M4F "mps2-an386", the
# Cortex-M0 "microbit") and the host TFLM.
BOARDS = ("mps2-an386", "microbit", "host")


@dataclass
class MicroRun:
    board: str
    outputs: list                       # per invoke: list of arrays (one per model output)
    instructions: list | None           # per invoke (boards), None on the host
    memory: dict = field(default_factory=dict)
    # per invoke (boards): instructions by class and estimated Cortex-M4 cycles
    # (keras_events.micro.qemu.instruction_classes, model: qemu.CYCLE_MODEL)
    instruction_classes: list | None = None

    @property
    def est_cycles(self) -> list | None:
        return None if self.instruction_classes is None else \
            [c["est_cycles"] for c in self.instruction_classes]

    def to_json(self) -> dict:
        d = asdict(self)
        d["outputs"] = [[{"dtype": str(a.dtype), "shape": list(a.shape), "values": a.ravel().tolist()}
                         for a in outs] for outs in self.outputs]
        return d


def run(model: bytes, inputs, board: str = "mps2-an386", arena_size: int | None = None,
        reset_every: int = 0, timeout: float = 120.0) -> MicroRun:
    """Run ``model`` over all invokes in ``inputs`` on ``board``; raises on any error.

    ``arena_size``: TFLM tensor arena bytes; None: the board's default (mps2-an386 and host
    64 KiB; microbit all the RAM its image leaves). A model, inputs or arena that do not fit
    the board raise ``keras_events.micro.firmware.BoardFitError`` (a ValueError) saying by
    how much; an arena too small for the model, the firmware's "arena too small" error.
    """
    if board not in BOARDS:
        raise ValueError(f"board={board!r}; choose one of {BOARDS}")
    check_inputs(model, inputs)
    if board == "host":
        return _run_host(model, inputs, arena_size or firmware.DEFAULT_ARENA, reset_every)
    res, mem = qemu.run_model(model, inputs, arena_size=arena_size, reset_every=reset_every,
                              timeout=timeout, board=board)
    return MicroRun(board, res.outputs, res.instructions, mem, res.classes)


def model_inputs(model: bytes) -> list[tuple[tuple, np.dtype]]:
    """(shape, dtype) of each input of the model's main subgraph."""
    from keras_events import tflite_file
    tflite_file.check_structure(model, "model")
    s = tflite_file.schema()
    g = s.Model.GetRootAs(bytes(model), 0).Subgraphs(0)
    out = []
    for k in range(g.InputsLength()):
        t = g.Tensors(g.Inputs(k))
        name = tflite_file.tensor_type_name(t.Type())
        try:
            dtype = np.dtype(name)
        except TypeError:
            raise ValueError(f"model input {k} has type {name}, which the runner cannot feed") from None
        out.append((tuple(int(d) for d in t.ShapeAsNumpy()) if t.ShapeLength() else (), dtype))
    return out


def check_inputs(model: bytes, inputs) -> None:
    """Raises a ValueError unless each input array has its model input's dtype and shape
    (leading axes count invokes: an array ends with the input shape, leading 1s aside)."""
    arrays = list(inputs) if isinstance(inputs, (list, tuple)) else [inputs]
    expected = model_inputs(model)
    if len(arrays) != len(expected):
        raise ValueError(f"got {len(arrays)} input array(s); the model has {len(expected)} "
                         f"input(s) {[s for s, _ in expected]}")
    for k, (a, (shape, dtype)) in enumerate(zip(arrays, expected)):
        a = np.asarray(a)
        core = shape
        while core and core[0] == 1:
            core = core[1:]
        if a.dtype != dtype:
            raise ValueError(f"input {k} has dtype {a.dtype}; the model input is {dtype} with "
                             f"shape {shape} (convert with .astype(np.{dtype}))")
        if a.size == 0 or tuple(a.shape[a.ndim - len(core):]) != core or a.ndim < len(core):
            raise ValueError(f"input {k} has shape {a.shape}; the model input has shape {shape} "
                             f"(give an array of shape {shape}, or several invokes stacked "
                             f"along axis 0)")


def _run_host(model, inputs, arena_size, reset_every) -> MicroRun:
    from keras_events.micro.host_interpreter import Interpreter
    interp = Interpreter(model, arena_size=arena_size)
    details = interp.get_input_details()
    data, types = firmware.input_bytes(inputs)
    want = [firmware.TFLITE_TYPE[d["dtype"]] for d in details]
    if types != want:
        raise ValueError(f"input dtypes {types} do not match the model's {want} (TfLiteType codes)")
    per_invoke = sum(d["bytes"] for d in details)
    if per_invoke == 0 or len(data) % per_invoke:
        raise ValueError("input data size is not a multiple of the model's input bytes per invoke")
    outputs, pos = [], 0
    for i in range(len(data) // per_invoke):
        if reset_every and i and i % reset_every == 0:
            interp.reset_state()
        for d in details:
            chunk = np.frombuffer(data[pos:pos + d["bytes"]], dtype=d["dtype"]).reshape(d["shape"])
            interp.set_input(d["index"], chunk)
            pos += d["bytes"]
        interp.invoke()
        outputs.append([interp.get_output(k) for k in range(len(interp.get_output_details()))])
    mem = {"arena_size": arena_size, "arena_used_bytes": interp.arena_used_bytes()}
    interp.close()
    return MicroRun("host", outputs, None, mem)

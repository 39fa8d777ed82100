"""ctypes binding of the host TFLM library (``libke_tflm.so``, see ``host_lib``).

``Interpreter(model_content, arena_size)`` runs a ``.tflite`` through TFLM's
``MicroInterpreter`` on x86-64 with the project's kernels: the same code as the firmware,
with numpy in/out. A model TFLM cannot set up (malformed, too-small arena, a kernel's
Prepare rejecting it: TFLM's AllocateTensors) raises ``MicroModelError``, a ValueError; a
failing invoke/reset raises ``MicroInvokeError``, a RuntimeError; both are
``MicroInterpreterError`` and carry TFLM's printed reason.

Re-exported as ``keras_events.micro.Interpreter``; it imports neither Keras nor TensorFlow,
so it also runs under AddressSanitizer (``make test-sanitize-micro``).
"""
from __future__ import annotations

import ctypes
import os
import pathlib

import numpy as np

from keras_events import tflite_file
from keras_events.micro import firmware, host_lib

_MAX_DIMS = 8


class MicroInterpreterError(Exception):
    """TFLM rejected the model or failed to run it; the message is TFLM's reason."""


class MicroModelError(MicroInterpreterError, ValueError):
    """The model cannot be set up (structure, AllocateTensors, a kernel's Prepare, the
    arena): a malformed or unsupported model is a bad argument."""


class MicroInvokeError(MicroInterpreterError, RuntimeError):
    """A set-up interpreter failed while running (invoke, reset, tensor copies)."""


_LIBS: dict = {}

# The library checks the model too (micro/harness/ke_model_check.cc, shared with the
# firmware); the Python check adds the data-flow order and names the argument. The fuzz
# tests turn it off to reach the C checks.
_check_structure = tflite_file.check_structure


def load_library(sanitize: bool | None = None) -> ctypes.CDLL:
    """Load (building if needed) ``libke_tflm.so``; ``KE_MICRO_SANITIZE=1`` selects the
    ASan/UBSan build."""
    if sanitize is None:
        sanitize = os.environ.get("KE_MICRO_SANITIZE", "") not in ("", "0")
    if sanitize in _LIBS:
        return _LIBS[sanitize]
    path = os.environ.get("KE_MICRO_HOST_LIB") or str(host_lib.build_host_library(sanitize))
    lib = ctypes.CDLL(path)
    p, i, sz = ctypes.c_void_p, ctypes.c_int, ctypes.c_size_t
    ip = ctypes.POINTER(ctypes.c_int)
    lib.ke_tflm_create.argtypes = [p, sz, sz]
    lib.ke_tflm_create.restype = p
    lib.ke_tflm_destroy.argtypes = [p]
    lib.ke_tflm_last_error.restype = ctypes.c_char_p
    lib.ke_tflm_num_inputs.argtypes = [p]
    lib.ke_tflm_num_outputs.argtypes = [p]
    lib.ke_tflm_tensor_info.argtypes = [p, i, i, ip, ip, ip, i, ctypes.POINTER(sz),
                                        ctypes.POINTER(ctypes.c_float),
                                        ctypes.POINTER(ctypes.c_int32)]
    for name in ("ke_tflm_set_input", "ke_tflm_get_output"):
        getattr(lib, name).argtypes = [p, i, p, sz]
    lib.ke_tflm_invoke.argtypes = [p]
    lib.ke_tflm_reset.argtypes = [p]
    lib.ke_tflm_arena_used_bytes.argtypes = [p]
    lib.ke_tflm_arena_used_bytes.restype = sz
    lib.ke_micro_mac_count.restype = ctypes.c_uint64
    _LIBS[sanitize] = lib
    return lib


class Interpreter:
    """TFLite Micro interpreter on the host.

    Args:
      model_content: ``.tflite`` bytes.
      arena_size: bytes of the tensor arena (as on the board); too small raises.

    Example:
      >>> interp = Interpreter(open("model.tflite", "rb").read(), arena_size=32 * 1024)
      >>> (y,) = interp.run(x)            # or set_input / invoke / get_output
      >>> interp.reset_state()            # streaming models start a new sequence
    """

    def __init__(self, model_content: bytes, arena_size: int = 64 * 1024):
        if not isinstance(model_content, (bytes, bytearray, memoryview)):
            raise TypeError(f"model_content must be bytes of a .tflite model, got "
                            f"{type(model_content).__name__}")
        if int(arena_size) < 16:
            raise ValueError(f"arena_size={arena_size}; must be at least 16 bytes")
        model = bytes(model_content)
        try:
            _check_structure(model, "model_content")
        except ValueError as e:
            raise MicroModelError(str(e)) from None
        self._lib = load_library()
        self._handle = self._lib.ke_tflm_create(model, len(model), int(arena_size))
        if not self._handle:
            raise MicroModelError(self._error("cannot create the interpreter"))
        self.arena_size = int(arena_size)
        self._inputs = [self._info(0, k) for k in range(self._lib.ke_tflm_num_inputs(self._handle))]
        self._outputs = [self._info(1, k) for k in range(self._lib.ke_tflm_num_outputs(self._handle))]

    def _error(self, what: str) -> str:
        reason = (self._lib.ke_tflm_last_error() or b"").decode(errors="replace").strip()
        reason = " ".join(l.strip() for l in reason.splitlines() if l.strip())
        return f"{what}: {reason}" if reason else what

    def _check(self, status: int, what: str, error=MicroInvokeError) -> None:
        if status != 0:
            raise error(self._error(what))

    def _info(self, is_output: int, index: int) -> dict:
        t, rank = ctypes.c_int(), ctypes.c_int()
        dims = (ctypes.c_int * _MAX_DIMS)()
        nbytes, scale, zp = ctypes.c_size_t(), ctypes.c_float(), ctypes.c_int32()
        self._check(self._lib.ke_tflm_tensor_info(self._handle, is_output, index, ctypes.byref(t),
                                                  ctypes.byref(rank), dims, _MAX_DIMS,
                                                  ctypes.byref(nbytes), ctypes.byref(scale),
                                                  ctypes.byref(zp)), "tensor info", MicroModelError)
        dtype = firmware.NUMPY_TYPE.get(t.value)
        if dtype is None:
            raise MicroModelError(f"tensor type {t.value} is not supported by the binding")
        return {"index": index, "dtype": dtype, "shape": tuple(dims[:rank.value]),
                "bytes": nbytes.value, "quantization": (scale.value, zp.value)}

    def get_input_details(self) -> list[dict]:
        return [dict(d) for d in self._inputs]

    def get_output_details(self) -> list[dict]:
        return [dict(d) for d in self._outputs]

    def set_input(self, index: int, value) -> None:
        if not 0 <= index < len(self._inputs):
            raise IndexError(f"input index {index}; the model has {len(self._inputs)} inputs")
        d = self._inputs[index]
        arr = np.ascontiguousarray(value)
        if arr.dtype != d["dtype"] or arr.nbytes != d["bytes"]:
            raise ValueError(f"input {index} must be {d['dtype']} with shape {d['shape']}, got "
                             f"{arr.dtype} with shape {arr.shape}")
        self._check(self._lib.ke_tflm_set_input(self._handle, index, arr.ctypes.data, arr.nbytes),
                    f"set_input({index})")

    def get_output(self, index: int) -> np.ndarray:
        if not 0 <= index < len(self._outputs):
            raise IndexError(f"output index {index}; the model has {len(self._outputs)} outputs")
        d = self._outputs[index]
        out = np.empty(d["shape"], dtype=d["dtype"])
        self._check(self._lib.ke_tflm_get_output(self._handle, index, out.ctypes.data, out.nbytes),
                    f"get_output({index})")
        return out

    def invoke(self) -> None:
        self._check(self._lib.ke_tflm_invoke(self._handle), "invoke")

    def run(self, *inputs) -> list[np.ndarray]:
        """Set every input, invoke once, return every output."""
        if len(inputs) != len(self._inputs):
            raise ValueError(f"run() got {len(inputs)} inputs; the model has {len(self._inputs)}")
        for k, x in enumerate(inputs):
            self.set_input(k, np.asarray(x).reshape(self._inputs[k]["shape"]))
        self.invoke()
        return [self.get_output(k) for k in range(len(self._outputs))]

    def reset_state(self) -> None:
        """Zero variable tensors and every op's recurrent state (start a new sequence)."""
        self._check(self._lib.ke_tflm_reset(self._handle), "reset_state")

    def arena_used_bytes(self) -> int:
        return int(self._lib.ke_tflm_arena_used_bytes(self._handle))

    def close(self) -> None:
        if getattr(self, "_handle", None):
            self._lib.ke_tflm_destroy(self._handle)
            self._handle = None

    def __del__(self):
        self.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def mac_count() -> int:
    """MACs executed by all project-op invokes in this process (host library)."""
    return int(load_library().ke_micro_mac_count())

"""TensorFlow Lite Micro for keras-events models: the host TFLM interpreter and the
emulated Cortex-M4 (QEMU ``mps2-an386``) and Cortex-M0 (QEMU ``microbit``) with instruction
counts.

- ``Interpreter(model_content, arena_size=...)``: TFLM + the project's kernels on the host
  (numpy in/out, ``invoke()``, ``reset_state()``, ``arena_used_bytes()``).
- ``run(model_content, inputs, board="mps2-an386"|"microbit"|"host")``: build the
  firmware, run it, return outputs, instructions per invoke and memory (flash, arena used;
  ``BoardFitError`` when the model, inputs or arena do not fit the board).
- Command line: ``python -m keras_events.micro run MODEL.tflite --input x.npy [--json]``.

Modules: ``tflm_build`` (cached TFLM libraries), ``firmware`` (the board harness build),
``host_lib`` (the host TFLM shared library), ``qemu`` (emulation + instruction counts),
``runner`` (``run``), ``host_interpreter`` (``Interpreter``), ``model_ops`` (ops of a model).
The C sources they compile (``custom_ops/``, ``micro/``) come from the copy an installed
package carries, or from the source checkout (``keras_events._native.paths``); TFLM from
``TFLM_DIR``.
"""
from keras_events.micro.host_interpreter import (Interpreter, MicroInterpreterError, MicroInvokeError,
                                                 MicroModelError)
from keras_events.micro.firmware import BoardFitError
from keras_events.micro.qemu import FirmwareError
from keras_events.micro.runner import BOARDS, MicroRun, run

__all__ = ["Interpreter", "MicroInterpreterError", "MicroModelError", "MicroInvokeError", "FirmwareError",
           "BoardFitError", "MicroRun", "run", "BOARDS"]

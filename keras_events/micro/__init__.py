"""TensorFlow Lite Micro for keras-events models: the host TFLM interpreter and the
emulated Cortex-M4 (QEMU ``mps2-an386``) with instruction counts.

- ``Interpreter(model_content, arena_size=...)``: TFLM + the project's kernels on the host
  (numpy in/out, ``invoke()``, ``reset_state()``, ``arena_used_bytes()``).
- ``run(model_content, inputs, board="mps2-an386"|"host")``: build the firmware, run it,
  return outputs, instructions per invoke and memory (flash, arena used).
- Command line: ``python -m keras_events.micro run MODEL.tflite --input x.npy [--json]``.

The build and run machinery lives in the repository's ``micro/`` directory (C sources,
QEMU plugin, ``micro/tools``); this package needs a source checkout (``pip install -e .``).
"""
from keras_events.micro._tools import tools as _tools

Interpreter = _tools.host_interpreter.Interpreter
MicroInterpreterError = _tools.host_interpreter.MicroInterpreterError
FirmwareError = _tools.qemu.FirmwareError
MicroRun = _tools.runner.MicroRun
run = _tools.runner.run
BOARDS = _tools.runner.BOARDS

__all__ = ["Interpreter", "MicroInterpreterError", "FirmwareError", "MicroRun", "run", "BOARDS"]

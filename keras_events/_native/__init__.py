"""The one build mechanism of the native code (C kernels, TFLite/TFLM glue, TFLM, firmware).

Everything native is compiled by these Python functions: pytest and the recipes build what
they need on demand, the Makefile's targets are thin calls to ``python -m
keras_events._native``, and setuptools' ``build_ext`` (``setup.py``) calls the same functions to build the
wheel. Results are cached by content (sources, headers, flags, tree hash), so a second run
builds nothing.

Modules (only relative imports: running them does not import Keras):

- ``paths``: source folders (an installed package's copy, else the checkout), caches,
  ``TFLM_DIR`` and its default.
- ``flags``: every compiler flag, Cortex-M4 ones (``M4_ARCH``) included.
- ``manifest``: reader of ``custom_ops/ops.def`` (ops, registration functions, sources).
- ``compile``: content-keyed compile and link.
- ``host``: ``_ke_ops.so``, ``_ke_core.so``, C unit tests, log-mel library.
- ``tflm``: the TFLM static libraries (``m4``, ``host``, ``host-asan``).
- ``board``: firmware objects and image, host TFLM library, QEMU plugin.

Command line: ``python -m keras_events._native build TARGET...`` and
``python -m keras_events._native test core|sanitize`` (``--help`` lists targets).
"""

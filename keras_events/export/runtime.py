"""Host runtime: the project's op library and an interpreter that knows its ops.

    interpreter = keras_events.export.Interpreter(model_content=tflite_bytes)

`load_ops()` loads `_ke_ops.so` (shipped in the wheel; in a source checkout built on
first use by `keras_events._native`, ~20 s, then cached) with RTLD_GLOBAL and returns
the registerer's symbol name,
usable wherever TFLite takes custom-op registerers:
`InterpreterWithCustomOps(custom_op_registerers=[load_ops()])` or the
converter's calibrator (`target_spec._experimental_custom_op_registerers`).
"""
import ctypes
import os
import warnings

from keras_events.export import _build

REGISTERER = "KE_RegisterOps"
_lib = None


def _installed_tf_version():
    import tensorflow as tf
    return tf.__version__


def _minor(version):
    """"2.21.0" -> "2.21": the op library needs the TensorFlow minor release it was built
    against (the range a wheel declares, ``tensorflow>=X.Y,<X.Y+1``)."""
    return ".".join(version.split(".")[:2])


def load_ops():
    """Loads the op library (in a source checkout: builds it first if needed); returns the
    registerer name.

    Raises:
        RuntimeError: if the library was built against another TensorFlow minor
            release than the one installed (it calls into libtensorflow_cc.so.2,
            whose C++ ABI is tied to one build): in a checkout rebuild it with
            `make custom-ops`, an installed package must be rebuilt from its sdist.
    """
    global _lib
    if _lib is None:
        path = _build.ensure_built(_build.OPS_LIBRARY)
        # TensorFlow first: its libtensorflow_cc.so.2 is then already loaded and is the one
        # the op library binds to, wherever TensorFlow is installed.
        installed = _installed_tf_version()
        lib = ctypes.CDLL(path, mode=os.RTLD_NOW | ctypes.RTLD_GLOBAL)
        lib.KE_Ops_TensorFlowVersion.restype = ctypes.c_char_p
        lib.KE_Ops_MacCount.restype = ctypes.c_uint64
        built_for = lib.KE_Ops_TensorFlowVersion().decode()
        if _minor(built_for) != _minor(installed):
            fix = ("rebuild keras-events against it: pip install --no-build-isolation "
                   "--force-reinstall keras-events-*.tar.gz" if _build.prebuilt()
                   else "rebuild it: make custom-ops")
            raise RuntimeError(
                f"{path} was built for TensorFlow {built_for} but {installed} is installed; "
                f"install TensorFlow {_minor(built_for)}.* or {fix}")
        _lib = lib
    return REGISTERER


def mac_count():
    """Multiply-accumulates executed by all KE_* kernels in this process since the last reset."""
    load_ops()
    return int(_lib.KE_Ops_MacCount())


def reset_mac_count():
    load_ops()
    _lib.KE_Ops_ResetMacCount()


def reset_states():
    """Zeroes the recurrent state of every streaming event op (exported with
    `to_tflite(..., streaming=True)`) of every host interpreter in this process:
    call it before feeding a new stream. (TFLite has no per-op reset hook for
    custom ops; `keras_events.micro.Interpreter.reset_state()` resets one TFLM
    interpreter.)"""
    load_ops()
    _lib.KE_Ops_ResetStates()


def registration_address(op_name=None):
    """Address of the `TfLiteRegistration` of custom op `op_name` (for C/C++ hosts that
    add it themselves); the function is the manifest's (custom_ops/ops.def). `op_name`
    may be left out while the library holds a single op."""
    from keras_events._native import manifest

    if op_name is None:
        if len(manifest.names()) != 1:
            raise ValueError(f"Argument `op_name` is required: the library holds the ops "
                             f"{manifest.names()}.")
        op_name = manifest.names()[0]
    load_ops()
    function = getattr(_lib, manifest.get(op_name).tflite_registration)
    function.restype = ctypes.c_void_p
    return function()


_CHECKED_CLASSES: dict = {}


def _checked_class(base):
    """`base` (a TFLite `InterpreterWithCustomOps`) whose `allocate_tensors` raises
    ValueError: a failure there is a model the kernels' Prepare rejected (a bad argument),
    not a runtime fault. `invoke` keeps TFLite's RuntimeError."""
    if base not in _CHECKED_CLASSES:
        class CheckedInterpreter(base):
            __doc__ = base.__doc__

            def allocate_tensors(self):
                try:
                    return super().allocate_tensors()
                except RuntimeError as e:
                    reason = " ".join(line.strip() for line in str(e).splitlines() if line.strip())
                    raise ValueError(f"allocate_tensors: the model was rejected: {reason}") from None

        CheckedInterpreter.__name__ = CheckedInterpreter.__qualname__ = base.__name__
        _CHECKED_CLASSES[base] = CheckedInterpreter
    return _CHECKED_CLASSES[base]


def Interpreter(model_content=None, model_path=None, custom_op_registerers=(),
                backend="tensorflow", **kwargs):
    """A TFLite interpreter with the project's custom ops registered.

    A thin factory over `InterpreterWithCustomOps` (same methods:
    `allocate_tensors`, `set_tensor`, `invoke`, `get_tensor`,
    `resize_tensor_input`...).  Extra `custom_op_registerers` and `kwargs`
    (e.g. `num_threads`, `experimental_preserve_all_tensors`) are passed through.
    A malformed model raises ValueError naming the problem, here (structure: indices,
    buffers, op codes) or in `allocate_tensors` (what a kernel's Prepare rejected);
    `invoke` raises TFLite's RuntimeError.

    Args:
        backend: "tensorflow" (default): `tensorflow.lite.python.interpreter`.
            "litert": `ai_edge_litert.interpreter` (LiteRT 2.3 accepts the same
            registerer and gives identical results, checked in
            tests/export/test_export_runtime.py; but it is a separate build and
            the registerer calls TensorFlow's `MutableOpResolver::AddCustom` on
            LiteRT's resolver, which relies on both builds sharing the class
            layout: an opt-in, re-check after upgrading either package).
            TensorFlow stays the default even when LiteRT is installed, although
            `tf.lite.Interpreter` is deprecated: the op library is compiled against
            the installed TensorFlow (checked at load), not against LiteRT.
    """
    if backend == "tensorflow":
        from tensorflow.lite.python.interpreter import InterpreterWithCustomOps
    elif backend == "litert":
        try:
            from ai_edge_litert.interpreter import InterpreterWithCustomOps
        except ModuleNotFoundError:
            raise ImportError("backend='litert' needs the ai-edge-litert package: "
                              "pip install keras-events[litert] (or pip install "
                              "ai-edge-litert); backend='tensorflow' needs nothing more.") from None
    else:
        raise ValueError(f"Argument `backend` must be 'tensorflow' or 'litert', got {backend!r}.")
    # TFLite follows a model's indices unchecked in places (its graph partitioning
    # crashes on a cyclic data flow): a malformed model raises here instead.
    from keras_events import tflite_file
    if model_content is not None:
        tflite_file.check_structure(model_content, "model_content")
    elif model_path is not None:
        with open(model_path, "rb") as f:
            tflite_file.check_structure(f.read(), f"model_path={str(model_path)!r}")
    registerers = [load_ops(), *custom_op_registerers]
    with warnings.catch_warnings():
        # tf.lite.Interpreter's deprecation notice (LiteRT is the opt-in above).
        warnings.filterwarnings("ignore", message=".*tf.lite.Interpreter is deprecated.*")
        return _checked_class(InterpreterWithCustomOps)(
            model_content=model_content, model_path=model_path,
            custom_op_registerers=registerers, **kwargs)

"""Export of keras-events models to `.tflite` with one custom op per event layer.

    tflite_bytes = export.to_tflite(model, quantize="int8", representative_data=x[:200])
    interpreter = export.Interpreter(model_content=tflite_bytes)
    print(export.summary(tflite_bytes))

TensorFlow is imported only when a function needs it.
"""

__all__ = ["to_tflite", "summary", "Interpreter", "load_ops", "reset_states", "to_arduino_library",
           "builtin_int8_tflite"]


def __getattr__(name):
    # Lazy: `import keras_events.export` must not pull in TensorFlow (~8 s). (Modules
    # are not named like the functions: importing a submodule would shadow them.)
    if name == "to_tflite":
        from keras_events.export.converter import to_tflite
        return to_tflite
    if name == "summary":
        from keras_events.export.model_summary import summary
        return summary
    if name == "to_arduino_library":
        from keras_events.export.arduino import to_arduino_library
        return to_arduino_library
    if name == "builtin_int8_tflite":
        from keras_events.export.builtin_int8 import builtin_int8_tflite
        return builtin_int8_tflite
    if name in ("Interpreter", "load_ops", "reset_states"):
        from keras_events.export import runtime
        return getattr(runtime, name)
    raise AttributeError(f"module 'keras_events.export' has no attribute {name!r}")

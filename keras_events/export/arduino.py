"""`to_arduino_library`: a streaming keyword-spotting model as an Arduino library.

The library holds the model as a C array, the kernels of the model's event ops (their
sources from the native manifest ``custom_ops/ops.def``: math in ``custom_ops/core/``,
checks in ``custom_ops/glue/``, TFLite Micro glue in ``custom_ops/tflm/``, copied under
``src/custom_ops/`` with the repository's layout), the log-mel front end, a small
streaming classifier and an example sketch. TensorFlow Lite Micro
itself comes from the Arduino library ``Arduino_TensorFlowLite`` (declared in
``depends=``), as for every TFLM sketch.
"""

import pathlib
import re
import shutil

import numpy as np

from keras_events._native import board, manifest
from keras_events._native.paths import CUSTOM_OPS, tflm_dir

TEMPLATE = pathlib.Path(__file__).resolve().parent / "arduino_template"
FRONT_END = ("core/ke_logmel.h", "core/ke_logmel.c")  # under custom_ops/
MAX_LABELS = 32
HOP = 160


def _c_bytes(data, per_line=16):
    data = bytes(data)
    lines = [", ".join(f"0x{b:02x}" for b in data[i:i + per_line]) for i in range(0, len(data), per_line)]
    return ",\n  ".join(lines)


def _c_string(text):
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _measure_arena(tflite_bytes):
    """Arena bytes the model needs on TFLM (host build of the same code), plus margin."""
    try:
        from keras_events.micro import Interpreter
    except ImportError:
        return None
    try:
        with Interpreter(tflite_bytes, arena_size=512 * 1024) as interpreter:
            used = interpreter.arena_used_bytes()
    except Exception:  # noqa: BLE001 - no host TFLM build here: fall back to the default
        return None
    return (used + 1024 + 15) // 16 * 16


def _check_model(tflite_bytes, labels):
    if not isinstance(tflite_bytes, (bytes, bytearray)) or tflite_bytes[4:8] != b"TFL3":
        raise ValueError("Argument `tflite_bytes` must be the bytes of a .tflite model ('TFL3' identifier).")
    from keras_events.micro import model_ops

    from keras_events import ops as event_ops

    ops = model_ops.model_op_names(bytes(tflite_bytes))
    if not set(ops) & set(event_ops.names()):
        raise ValueError(f"The model has no event op ({event_ops.names()}; its ops: {ops}); "
                         "export the streaming event model.")
    if not labels or len(labels) > MAX_LABELS:
        raise ValueError(f"Argument `labels` must list 1..{MAX_LABELS} class names, got {labels!r}.")
    return ops


def to_arduino_library(tflite_bytes, out_dir, labels, name=None, feature_mean=0.0, feature_std=1.0,
                       test_clip=None, arena_size=None, version="0.1.0"):
    """Write an Arduino library for a streaming int8 event-RNN keyword spotter.

    Args:
        tflite_bytes: The streaming ``.tflite`` (int8 input [1, 1, 40] log-mel frame,
            event op in streaming mode, int8 logits output), e.g. from the
            keyword-spotting recipe.
        out_dir: Library folder to create (its name is the library name by default).
        labels: Class names, in the model's output order.
        name: Library/header name (a C identifier); default: ``out_dir``'s name.
        feature_mean, feature_std: The standardisation applied to log-mel features in training.
        test_clip: Optional int16 16 kHz mono samples the example sketch classifies.
        arena_size: Tensor arena bytes; default: measured on the host TFLM build + 1 KiB.

    Returns the library folder as a `pathlib.Path`. Layout: ``library.properties``,
    ``src/<name>.h`` and sources, ``examples/<name>/<name>.ino``.
    """
    out_dir = pathlib.Path(out_dir)
    name = name or out_dir.name
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
        raise ValueError(f"Argument `name` must be a C identifier (letters, digits, _), got {name!r}.")
    if not feature_std > 0:
        raise ValueError(f"Argument `feature_std` must be > 0, got {feature_std}.")
    ops = _check_model(tflite_bytes, labels)
    from keras_events.micro import model_ops

    calls = model_ops.resolver_calls(ops, tflm_dir() / "ref")
    arena_size = arena_size or _measure_arena(bytes(tflite_bytes)) or 64 * 1024
    clip = np.zeros(16000, np.int16) if test_clip is None else np.asarray(test_clip)
    if clip.dtype != np.int16 or clip.ndim != 1:
        raise ValueError("Argument `test_clip` must be a 1-D int16 array of 16 kHz samples.")

    upper = name.upper()
    src = out_dir / "src"
    if out_dir.exists():
        shutil.rmtree(out_dir)
    (out_dir / "examples" / name).mkdir(parents=True)
    # The model's ops' sources and every header they may include, in the repository's layout
    # (the glue includes "../core/..."; Arduino compiles src/ recursively).
    files = [p.relative_to(CUSTOM_OPS) for p in board.op_sources(ops)] + [
        pathlib.Path(f) for f in FRONT_END]
    files += [p.relative_to(CUSTOM_OPS) for d in ("core", "glue", "tflm")
              for p in sorted((CUSTOM_OPS / d).glob("*.h"))]
    files.append(manifest.MANIFEST.relative_to(CUSTOM_OPS))
    for rel in sorted(set(files)):
        (src / "custom_ops" / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(CUSTOM_OPS / rel, src / "custom_ops" / rel)
    for file in ("ke_streaming_classifier.h", "ke_streaming_classifier.cc"):
        shutil.copy(TEMPLATE / file, src / file)

    (out_dir / "library.properties").write_text(
        f"name={name}\nversion={version}\nauthor=keras-events\nmaintainer=keras-events\n"
        f"sentence=Keyword spotting with an event-based GRU (EGRU) on TensorFlow Lite Micro.\n"
        f"paragraph=Event-driven int8 kernels: compute scales with the units that fire. "
        f"Labels: {', '.join(labels)}.\ncategory=Data Processing\nurl=https://pypi.org/project/keras-events/\n"
        f"architectures=*\ndepends=Arduino_TensorFlowLite\nincludes={name}.h\n")
    (src / f"{name}.h").write_text(
        f"// {name}: generated by keras_events.export.to_arduino_library. Do not edit.\n"
        f"#ifndef {upper}_H_\n#define {upper}_H_\n\n#include <stdint.h>\n\n"
        f'#include "ke_streaming_classifier.h"\n\n'
        f"#define {upper}_ARENA_SIZE {arena_size}\n#define {upper}_NUM_LABELS {len(labels)}\n"
        f"#define {upper}_TEST_CLIP_LEN {len(clip)}\n\n"
        f"extern const unsigned char {name}_tflite[];\nextern const unsigned int {name}_tflite_len;\n"
        f"extern const int16_t {name}_test_clip[];\nextern const ke_micro::StreamingModel {upper}_MODEL;\n\n"
        f"#endif  // {upper}_H_\n")
    body = ";\n  ".join(f"if ({c} != kTfLiteOk) return kTfLiteError" for c in calls)
    (src / f"{name}_model.cc").write_text(
        f"// Generated by keras_events.export.to_arduino_library. Do not edit.\n"
        f'#include "{name}.h"\n\n#include "custom_ops/tflm/ke_project_ops.h"\n\n'
        f"alignas(16) const unsigned char {name}_tflite[] = {{\n  {_c_bytes(tflite_bytes)}\n}};\n"
        f"const unsigned int {name}_tflite_len = {len(tflite_bytes)};\n\n"
        f"static const char* const kLabels[] = {{{', '.join(_c_string(x) for x in labels)}}};\n\n"
        f"static TfLiteStatus AddModelOps(ke_micro::OpResolver& resolver) {{\n  {body};\n  return kTfLiteOk;\n}}\n\n"
        f"const ke_micro::StreamingModel {upper}_MODEL = {{{name}_tflite, AddModelOps, "
        f"{float(feature_mean)!r}f, {float(feature_std)!r}f, kLabels, {len(labels)}}};\n")
    (src / f"{name}_test_clip.cc").write_text(
        f"// A 16 kHz test clip for the example sketch. Generated; do not edit.\n#include \"{name}.h\"\n\n"
        f"const int16_t {name}_test_clip[] = {{\n  {', '.join(str(int(v)) for v in clip)}\n}};\n")
    sketch = (TEMPLATE / "example.ino").read_text()
    sketch = sketch.replace("{name_upper}", upper).replace("{name}", name).replace("{hop}", str(HOP))
    (out_dir / "examples" / name / f"{name}.ino").write_text(sketch)
    return out_dir

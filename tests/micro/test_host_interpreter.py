"""Host TFLM (libke_tflm.so through keras_events.micro.Interpreter's ctypes binding).

Marked `sanitize`: `make test-sanitize-micro` reruns these under ASan/UBSan. They import
keras_events.micro directly (not keras_events) so no TensorFlow is loaded under the sanitizer.
"""
import numpy as np
import pytest

from keras_events.micro.host_interpreter import Interpreter, MicroInterpreterError, MicroModelError

pytestmark = [pytest.mark.tflm, pytest.mark.sanitize]


def test_int8_model_matches_tflite(host_lib, fc_int8):
    model, x, y_tflite = fc_int8
    interp = Interpreter(model, arena_size=16 * 1024)
    (inp,), (out,) = interp.get_input_details(), interp.get_output_details()
    assert inp["dtype"] == np.int8 and inp["shape"] == (1, 16)
    assert out["dtype"] == np.int8 and out["shape"] == (1, 8)
    ys = np.stack([interp.run(row)[0] for row in x])
    # TFLM's reference kernels and TFLite's builtin kernels share the integer math;
    # allow one quantization step for softmax's different exp implementation.
    assert np.abs(ys.astype(int) - y_tflite.astype(int)).max() <= 1
    assert 0 < interp.arena_used_bytes() <= 16 * 1024


def test_invoke_is_deterministic_and_reset_is_harmless(host_lib, fc_int8):
    model, x, _ = fc_int8
    with Interpreter(model) as interp:
        first = interp.run(x[0])[0]
        interp.reset_state()
        np.testing.assert_array_equal(interp.run(x[0])[0], first)


@pytest.mark.parametrize("corrupt", ["garbage", "truncated", "bad_identifier"])
def test_malformed_model_raises_with_reason(host_lib, fc_int8, corrupt):
    model = fc_int8[0]
    bad = {"garbage": bytes(range(256)) * 4,
           "truncated": model[: len(model) // 2],
           "bad_identifier": model[:4] + b"XXXX" + model[8:]}[corrupt]
    with pytest.raises(MicroInterpreterError, match="model"):
        Interpreter(bad)


def test_arena_too_small_raises_with_reason(host_lib, fc_int8):
    with pytest.raises(MicroModelError, match="AllocateTensors failed") as e:
        Interpreter(fc_int8[0], arena_size=512)
    assert "arena" in str(e.value).lower()


def test_bad_arguments_raise(host_lib, fc_int8):
    model, x, _ = fc_int8
    with pytest.raises(TypeError, match="model_content"):
        Interpreter("model.tflite")
    with pytest.raises(ValueError, match="arena_size"):
        Interpreter(model, arena_size=0)
    interp = Interpreter(model)
    with pytest.raises(ValueError, match="int8 with shape"):
        interp.set_input(0, x[0].astype(np.float32))
    with pytest.raises(IndexError):
        interp.get_output(3)


def test_every_arena_size_fails_cleanly_or_works(host_lib, fc_int8):
    """Sweep the arena size across the boundary: never a crash or abort, only a clean
    error (TFLM alone overwrote live temporaries a few hundred bytes below the need)."""
    model, x, _ = fc_int8
    ok = 0
    for size in range(16, 2400, 8):
        try:
            interp = Interpreter(model, arena_size=size)
        except MicroInterpreterError as e:
            assert "AllocateTensors failed" in str(e) or "Failed to" in str(e), str(e)
            continue
        interp.run(x[0])
        ok += 1
    assert ok > 0


def _with_op_replaced(model: bytes, op_position: int, builtin_name: str) -> bytes:
    """The model with operator `op_position` switched to another builtin op (its own new
    op-code entry), as the converter writes ops the host TFLM build lacks."""
    from keras_events import tflite_file
    m = tflite_file.load(model)
    s = tflite_file.schema()
    code = s.OperatorCodeT()
    code.builtinCode = getattr(s.BuiltinOperator, builtin_name)
    code.deprecatedBuiltinCode = min(code.builtinCode, 127)
    code.version = 1
    m.operatorCodes.append(code)
    m.subgraphs[0].operators[op_position].opcodeIndex = len(m.operatorCodes) - 1
    return tflite_file.dump(m)


@pytest.mark.parametrize("position", [0, 1, 2])
def test_op_missing_from_resolver_raises_naming_it(host_lib, fc_int8, position, monkeypatch):
    """An op the host build lacks (REDUCE_PROD: the converter's dynamic-shape ops around a
    Dense after EGRU(return_sequences=True)) stops AllocateTensors before the later nodes
    are set up; destroying that interpreter used to crash in ~MicroInterpreter."""
    from keras_events.micro import host_interpreter
    # Straight to TFLM (the Python check rejects the FULLY_CONNECTED's absent bias input,
    # left behind by the replacement, before TFLM would look the op up).
    monkeypatch.setattr(host_interpreter, "_check_structure", lambda *args: None)
    bad = _with_op_replaced(fc_int8[0], position, "REDUCE_PROD")
    for _ in range(3):  # repeatedly: the freed arena must not leave state behind
        with pytest.raises(MicroInterpreterError, match="REDUCE_PROD"):
            Interpreter(bad, arena_size=16 * 1024)
    assert issubclass(MicroModelError, MicroInterpreterError)
    assert issubclass(MicroModelError, ValueError) and not issubclass(MicroModelError, RuntimeError)


def _lying(model: bytes, change) -> bytes:
    from keras_events import tflite_file
    m = tflite_file.load(model)
    change(m, m.subgraphs[0])
    return tflite_file.dump(m)


def _const_buffer(m, g):
    return next(i for i, b in enumerate(m.buffers) if b.data is not None and len(b.data) >= 64)


LIES = {  # found by tests/fuzz: each crashed TFLM before the model checks
    "subgraph input out of range": (lambda m, g: g.inputs.__setitem__(0, 2**31 - 1), "out of range"),
    "operator input out of range": (lambda m, g: g.operators[0].inputs.__setitem__(0, len(g.tensors)),
                                    "out of range"),
    "op code out of range": (lambda m, g: setattr(g.operators[1], "opcodeIndex", 99), "op code"),
    "operator writes constant data": (
        lambda m, g: setattr(g.tensors[g.operators[0].outputs[0]], "buffer", _const_buffer(m, g)),
        "constant data"),
    "negative dimension": (lambda m, g: g.tensors[g.operators[0].outputs[0]].shape.__setitem__(0, -3),
                           "shape"),
    "operator without inputs": (lambda m, g: setattr(g.operators[1], "inputs", None), "input"),
}


@pytest.mark.parametrize("python_check", [True, False], ids=["python", "c"])
@pytest.mark.parametrize("lie", sorted(LIES))
def test_model_whose_indices_lie_raises(host_lib, fc_int8, monkeypatch, lie, python_check):
    """Both layers reject it: the Python check (names the argument) and, without it, the C
    check of micro/harness/ke_model_check.cc that the firmware relies on."""
    from keras_events.micro import host_interpreter
    change, message = LIES[lie]
    if not python_check:
        monkeypatch.setattr(host_interpreter, "_check_structure", lambda *args: None)
    with pytest.raises(MicroInterpreterError, match=message):
        Interpreter(_lying(fc_int8[0], change), arena_size=16 * 1024)

"""Runtime: load_ops, version check, LiteRT interpreter with the same registerer."""

import subprocess
import sys
import textwrap

import pytest

from keras_events.export import runtime

pytestmark = pytest.mark.tensorflow_only


def test_load_ops_returns_registerer_and_library_reports_tf_version():
    import tensorflow as tf

    assert runtime.load_ops() == "KE_RegisterOps"
    assert runtime._lib.KE_Ops_TensorFlowVersion().decode() == tf.__version__
    from keras_events import ops

    addresses = {name: runtime.registration_address(name) for name in ops.names()}
    assert all(addresses.values()) and len(set(addresses.values())) == len(addresses)
    with pytest.raises(ValueError, match="`op_name` is required"):  # several ops: name one
        runtime.registration_address()


def test_bad_backend():
    with pytest.raises(ValueError, match="backend"):
        runtime.Interpreter(model_content=b"", backend="tvm")


@pytest.mark.slow
def test_litert_backend_matches_tensorflow():
    # In a subprocess: a registerer/resolver ABI mismatch would crash, not fail.
    script = textwrap.dedent("""
        import os, sys
        os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
        sys.path.insert(0, "tests/export")
        import numpy as np
        from export_helpers import egru_model, run_tflite
        from keras_events.export import to_tflite
        model = egru_model(6, 3, 5, head=2)
        tflite_bytes = to_tflite(model)
        x = np.random.default_rng(0).normal(0, 1, (3, 6, 3)).astype(np.float32)
        a, _ = run_tflite(tflite_bytes, x)
        b, _ = run_tflite(tflite_bytes, x, backend="litert")
        print("MAXDIFF", float(np.abs(a - b).max()))
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "MAXDIFF 0.0" in done.stdout

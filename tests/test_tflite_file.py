"""keras_events.tflite_file, the one .tflite reader: op names, object round trip, custom
options, bad input, and no TensorFlow import."""
import json
import pathlib
import subprocess
import sys

import keras
import numpy as np
import pytest

from keras_events import EGRU, tflite_file

pytestmark = pytest.mark.tensorflow_only


@pytest.fixture(scope="module")
def model_bytes():
    from keras_events.export import to_tflite

    model = keras.Sequential([keras.Input((4, 3)), EGRU(5),
                              keras.layers.Dense(2)])
    return to_tflite(model)


def test_op_names_and_custom_options(model_bytes):
    assert tflite_file.op_names(model_bytes) == ["FULLY_CONNECTED", "KE_EGRU"]
    model = tflite_file.load(model_bytes)
    ops = model.subgraphs[0].operators
    names = [tflite_file.op_name(model.operatorCodes[op.opcodeIndex]) for op in ops]
    egru_op = ops[names.index("KE_EGRU")]
    options = tflite_file.custom_options(egru_op)
    assert options["units"] == 5 and not options["return_sequences"]
    assert options["layer_id"] == 0 and options["version"] >= 1
    fc = ops[names.index("FULLY_CONNECTED")]
    assert tflite_file.custom_options(fc) == {}
    assert tflite_file.tensor_type_name(model.subgraphs[0].tensors[egru_op.inputs[0]].type) \
        == "float32"


def test_load_dump_round_trip_keeps_the_model(model_bytes):
    once = tflite_file.dump(tflite_file.load(model_bytes))
    assert once[4:8] == b"TFL3"
    assert tflite_file.dump(tflite_file.load(once)) == once
    assert tflite_file.op_names(once) == tflite_file.op_names(model_bytes)
    a, b = tflite_file.load(model_bytes), tflite_file.load(once)
    assert [bytes(x.data) if x.data is not None else None for x in a.buffers] == \
        [bytes(x.data) if x.data is not None else None for x in b.buffers]


@pytest.mark.parametrize("bad", [b"", b"not a model at all", "a string", None])
def test_not_a_model_raises_naming_the_identifier(bad):
    with pytest.raises(ValueError, match="TFL3"):
        tflite_file.op_names(bad)
    with pytest.raises(ValueError, match="TFL3"):
        tflite_file.load(bad)


def test_reading_does_not_import_tensorflow(model_bytes, tmp_path):
    # The module has no keras_events imports: load it alone (keras_events/__init__ imports
    # Keras) to check that the reader itself never pulls TensorFlow in.
    path = tmp_path / "m.tflite"
    path.write_bytes(model_bytes)
    source = pathlib.Path(tflite_file.__file__)
    code = (
        "import importlib.util, json, sys\n"
        f"spec = importlib.util.spec_from_file_location('tf_file', {str(source)!r})\n"
        "m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)\n"
        f"names = m.op_names(open({str(path)!r}, 'rb').read())\n"
        "print(json.dumps([names, 'tensorflow' in sys.modules]))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    names, tf_loaded = json.loads(out.stdout.strip().splitlines()[-1])
    assert names == ["FULLY_CONNECTED", "KE_EGRU"] and not tf_loaded

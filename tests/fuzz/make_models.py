"""Writes the fuzz tests' seed models: ``python tests/fuzz/make_models.py OUT_DIR`` ->
``float.tflite``, ``int8.tflite`` (a small pruned EGRU + Dense head, exported by
`keras_events.export.to_tflite`), ``float_stream.tflite`` (streaming EGRU),
``delta_gru_int8.tflite`` / ``delta_lstm_float.tflite`` (the delta ops, pruned, thresholds > 0)
and ``<name>.x.npy``, an input of each."""
import pathlib
import sys

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "export"))


def write_models(out: pathlib.Path) -> dict:
    import keras
    from export_helpers import egru_model, randomize_egru

    from keras_events import EGRU
    from keras_events.export import to_tflite
    out.mkdir(parents=True, exist_ok=True)
    model = egru_model(5, 3, 6, return_sequences=False, head=4, sparsity=0.3)
    x = np.random.default_rng(0).normal(0, 1, (8, 5, 3)).astype(np.float32)
    # The streaming form (state kept between invokes, reset by the interpreters).
    stream = keras.Sequential([keras.Input(batch_shape=(1, 1, 3)), EGRU(6, return_sequences=True)])
    randomize_egru(stream.layers[0], sparsity=0.3)
    models = {"float": (to_tflite(model), x[:1]),
              "int8": (to_tflite(model, quantize="int8", representative_data=x), x[:1]),
              "float_stream": (to_tflite(stream, streaming=True), x[:1, :1])}
    from test_delta_export import delta_model  # the delta ops' export-test model (6 inputs)
    xd = np.cumsum(np.random.default_rng(1).normal(0, 0.2, (8, 5, 6)), axis=1).astype(np.float32)
    models["delta_gru_int8"] = (to_tflite(delta_model("gru", time=5), quantize="int8",
                                          representative_data=xd), xd[:1])
    models["delta_lstm_float"] = (to_tflite(delta_model("lstm", time=5)), xd[:1])
    paths = {}
    for name, (data, x0) in models.items():
        (out / f"{name}.tflite").write_bytes(data)
        np.save(out / f"{name}.x.npy", x0)  # float inputs (int8: QUANTIZE first)
        paths[name] = out / f"{name}.tflite"
    return paths


if __name__ == "__main__":
    print(write_models(pathlib.Path(sys.argv[1])))

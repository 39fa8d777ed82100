"""Writes the fuzz tests' seed models: ``python tests/fuzz/make_models.py OUT_DIR`` ->
``float.tflite``, ``int8.tflite`` (a small pruned EGRU + Dense head, exported by
`keras_events.export.to_tflite`), ``float_stream.tflite`` (streaming EGRU) and ``<name>.x.npy``, an input of each."""
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
    paths = {}
    for name, (data, x0) in models.items():
        (out / f"{name}.tflite").write_bytes(data)
        np.save(out / f"{name}.x.npy", x0)  # float inputs (int8: QUANTIZE first)
        paths[name] = out / f"{name}.tflite"
    return paths


if __name__ == "__main__":
    print(write_models(pathlib.Path(sys.argv[1])))

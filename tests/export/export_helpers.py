"""Shared helpers of the export tests: models with a mix of events and silence, running a .tflite."""

import keras
import numpy as np


def randomize_egru(layer, seed=0, scale=0.6, sparsity=0.0, threshold_param=-0.8):
    """Weights giving partial activity (the default init fires a lot); optional pruning."""
    cell = layer.cell
    rng = np.random.default_rng(seed)

    def pruned(shape):
        w = rng.normal(0, scale, shape)
        return w * (rng.random(shape) >= sparsity)

    cell.kernel.assign(pruned(cell.kernel.shape))
    cell.recurrent_kernel.assign(pruned(cell.recurrent_kernel.shape))
    cell.bias.assign(rng.normal(0, 0.3, cell.bias.shape))
    cell.threshold_param.assign(rng.normal(threshold_param, 0.3, cell.threshold_param.shape))


def run_tflite(tflite_bytes, x, **kwargs):
    """Runs the whole batch `x` through the model (resizing its batch); returns the output."""
    from keras_events.export import Interpreter

    interpreter = Interpreter(model_content=tflite_bytes, **kwargs)
    inp = interpreter.get_input_details()[0]
    interpreter.resize_tensor_input(inp["index"], list(x.shape))
    interpreter.allocate_tensors()
    inp = interpreter.get_input_details()[0]
    if inp["dtype"] == np.int8:
        scale, zero_point = inp["quantization"]
        x = np.clip(np.round(x / scale) + zero_point, -128, 127).astype(np.int8)
    interpreter.set_tensor(inp["index"], x.astype(inp["dtype"]))
    interpreter.invoke()
    out = interpreter.get_output_details()[0]
    y = interpreter.get_tensor(out["index"])
    if out["dtype"] == np.int8:
        scale, zero_point = out["quantization"]
        y = (y.astype(np.float32) - zero_point) * scale
    return y, interpreter


def egru_model(time, features, units, return_sequences=False, head=None, stacked=False, seed=0,
               sparsity=0.0):
    from keras_events import EGRU, EGRUCell

    layers = [keras.Input((time, features))]
    if stacked:
        layers.append(keras.layers.RNN(EGRUCell(units), return_sequences=True))
    layers.append(EGRU(units, return_sequences=return_sequences))
    if head:
        layers.append(keras.layers.Dense(head))
    model = keras.Sequential(layers)
    for i, layer in enumerate(l for l in model.layers if isinstance(l, keras.layers.RNN)):
        randomize_egru(layer, seed=seed + i, sparsity=sparsity)
    return model

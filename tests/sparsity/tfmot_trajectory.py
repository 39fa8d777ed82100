"""Run by test_pruning.py in a subprocess with TF_USE_LEGACY_KERAS=1: tfmot itself on a
tf_keras Dense model; prints the number of kept weights of the mask after every batch."""

import json
import sys

import numpy as np
import tensorflow_model_optimization as tfmot
import tf_keras

config = json.loads(sys.argv[1])
rng = np.random.default_rng(0)
x = rng.normal(size=(config["batches"] * 8, 20)).astype("float32")
y = rng.normal(size=(config["batches"] * 8, 10)).astype("float32")
model = tf_keras.Sequential([tf_keras.Input((20,)), tf_keras.layers.Dense(10)])
schedule = tfmot.sparsity.keras.PolynomialDecay(**config["schedule"])
pruned = tfmot.sparsity.keras.prune_low_magnitude(model, pruning_schedule=schedule)
pruned.compile("sgd", "mse")
kept = []


class Record(tf_keras.callbacks.Callback):
    def on_train_batch_end(self, batch, logs=None):
        _, mask, _ = self.model.layers[0].pruning_vars[0]
        kept.append(int(np.count_nonzero(mask.numpy())))


pruned.fit(x, y, batch_size=8, epochs=1, verbose=0, shuffle=False,
           callbacks=[tfmot.sparsity.keras.UpdatePruningStep(), Record()])
print(json.dumps(kept))

"""Runs the single-device and the distributed training of one small LM in a subprocess."""

import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

# Trains the same small EGRU (pruned to 50 %, no dropout) on one device and under
# `strategy` on 2 logical CPU devices, in a fresh process (the devices must be set up
# before the backend starts); prints the loss histories and the test perplexity.
DISTRIBUTED = r'''
import json, sys
from recipes.lm import config, distribute
strategy, data_dir = sys.argv[1], sys.argv[2]
distribute.prepare(strategy, 2)
from recipes.lm import data, train
cfg = config.Config(data_dir=data_dir, models=("egru",), units=16, layers=2, bptt=10, batch_size=8,
                    epochs=2, steps_per_epoch=3, eval_batches=2, dropout=0.0, dropout_embedding=0.0,
                    strategy=strategy)
corpus = data.load(data_dir, 300)
out = {}
for name in ("none", strategy):  # single device first: data-parallel sets a global distribution
    _, row = train.fit_one(cfg, corpus, "egru", 0.5, distribute.Placement(name, 2), log=lambda s: None)
    out[name] = row["history"]["loss"] + row["history"]["val_loss"] + [row["test_ppl"], row["weight_sparsity"]]
print("RESULT " + json.dumps(out))
'''


def run_distributed(strategy, data_dir, backend):
    """{"none": [...], strategy: [...]} from a subprocess on ``backend``."""
    env = {**os.environ, "KERAS_BACKEND": backend, "PYTHONPATH": ROOT, "TF_CPP_MIN_LOG_LEVEL": "3"}
    env.pop("XLA_FLAGS", None)
    proc = subprocess.run([sys.executable, "-c", DISTRIBUTED, strategy, data_dir], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=900, check=False)
    lines = [line for line in proc.stdout.splitlines() if line.startswith("RESULT ")]
    assert proc.returncode == 0 and lines, proc.stderr[-4000:]
    return json.loads(lines[-1][len("RESULT "):])

"""Model files for the micro tests (model_factory.py run in a subprocess, cached)."""
import hashlib
import os
import pathlib
import shutil
import subprocess
import sys

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]
FACTORY = pathlib.Path(__file__).with_name("model_factory.py")
MODEL_CACHE = pathlib.Path(os.environ.get("KE_CACHE_DIR", pathlib.Path.home() / ".cache" / "keras-events")) / "test-models"


def _clean_env():
    env = dict(os.environ)
    env.pop("LD_PRELOAD", None)  # the model factory imports TensorFlow: never under ASan
    return env


def make_model(name: str) -> pathlib.Path:
    """Directory with ``model.tflite`` (+ inputs) for ``name`` from model_factory.py."""
    key = hashlib.sha256(FACTORY.read_bytes()).hexdigest()[:12]
    out = MODEL_CACHE / f"{name}-{key}"
    if not (out / "model.tflite").exists():
        tmp = out.with_name(out.name + f".tmp{os.getpid()}")
        subprocess.run([sys.executable, str(FACTORY), name, str(tmp)], check=True, env=_clean_env(),
                       cwd=REPO_ROOT)
        shutil.rmtree(out, ignore_errors=True)
        tmp.rename(out)
    return out

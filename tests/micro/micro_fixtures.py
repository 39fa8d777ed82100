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
    env.pop("KERAS_BACKEND", None)  # it exports through TensorFlow (the sanitize run sets numpy)
    # this checkout's keras_events, installed or not
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO_ROOT), env.get("PYTHONPATH")) if p)
    return env


# Everything the cached models and their reference outputs depend on.
_KEY_SOURCES = (FACTORY, *sorted((REPO_ROOT / "keras_events" / "export").glob("*.py")),
                *sorted((REPO_ROOT / "keras_events" / "cells").glob("*.py")),
                *sorted((REPO_ROOT / "custom_ops" / "core").glob("*.[ch]")),
                *sorted((REPO_ROOT / "custom_ops" / "glue").glob("*.[ch]*")),
                *sorted((REPO_ROOT / "custom_ops" / "tflite").glob("*.cc")))


def make_model(name: str) -> pathlib.Path:
    """Directory with the model files (+ inputs) of ``name`` from model_factory.py."""
    h = hashlib.sha256()
    for src in _KEY_SOURCES:
        h.update(src.read_bytes())
    key = h.hexdigest()[:12]
    out = MODEL_CACHE / f"{name}-{key}"
    if not out.is_dir():  # written under a temporary name, renamed when complete
        tmp = out.with_name(out.name + f".tmp{os.getpid()}")
        subprocess.run([sys.executable, str(FACTORY), name, str(tmp)], check=True, env=_clean_env(),
                       cwd=REPO_ROOT)
        shutil.rmtree(out, ignore_errors=True)
        tmp.rename(out)
    return out

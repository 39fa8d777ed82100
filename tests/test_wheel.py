"""The package as a user installs it: wheel built, installed into a fresh virtual environment,
used from a directory outside the checkout with the checkout not importable.

`pip wheel --no-deps --no-build-isolation` compiles the op libraries against this machine's
TensorFlow; the venv has `--system-site-packages` so TensorFlow and Keras come from the
machine (nothing is downloaded) and the wheel is installed with `--no-deps`. The user script
(run with `python -I`: no PYTHONPATH, no script directory, no user site) checks the results
against independent references: the Keras model itself (float), host TFLite vs TFLM int8
(bit-exact, the project's guarantee), and that the wheel's compiled library is the one used.
"""
import json
import os
import pathlib
import shutil
import subprocess
import sys
import textwrap
import zipfile

import pytest

from keras_events._native.paths import tflm_dir
from prereq import require

pytestmark = [pytest.mark.slow, pytest.mark.tensorflow_only]

REPO = pathlib.Path(__file__).resolve().parents[1]

USER_SCRIPT = textwrap.dedent('''
    import json, os, pathlib, shutil, sys
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
    import numpy as np
    import keras
    import tensorflow as tf
    from tensorflow.lite.python.interpreter import InterpreterWithCustomOps
    import keras_events
    from keras_events import EGRU, export, micro
    from keras_events.export import runtime

    from keras_events._native import compile as native_compile

    report = {"package": keras_events.__file__, "prefix": sys.prefix, "sys_path": sys.path}
    compiler = native_compile.run

    def no_compiler(cmd, what):
        raise AssertionError(f"the installed package ran a compiler for export: {what}")

    native_compile.run = no_compiler   # export and tf.lite use the wheel's libraries only
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((8, 3)), EGRU(6), keras.layers.Dense(2)])
    cell = model.layers[0].cell
    rng = np.random.default_rng(0)
    for w, scale in ((cell.kernel, 0.6), (cell.recurrent_kernel, 0.6), (cell.bias, 0.3)):
        w.assign(rng.normal(0, scale, w.shape))
    cell.threshold_param.assign(rng.normal(-0.8, 0.3, cell.threshold_param.shape))
    x = rng.normal(0, 1, (16, 8, 3)).astype(np.float32)
    reference = model.predict(x, verbose=0)

    # float: tf.lite's interpreter with the package's registerer, one sample per invoke
    float_tflite = export.to_tflite(model)
    interp = InterpreterWithCustomOps(model_content=float_tflite,
                                      custom_op_registerers=[export.load_ops()])
    interp.allocate_tensors()
    inp, out = interp.get_input_details()[0], interp.get_output_details()[0]
    host_float = []
    for row in x:
        interp.set_tensor(inp["index"], row[None])
        interp.invoke()
        host_float.append(interp.get_tensor(out["index"])[0])
    host_float = np.array(host_float)
    report["float_vs_keras"] = float(np.abs(host_float - reference).max())
    report["library"] = runtime._lib._name
    report["macs"] = runtime.mac_count()

    # int8 (int8 interface): export.Interpreter and the host TFLM interpreter
    int8_tflite = export.to_tflite(model, quantize="int8", representative_data=x,
                                   inference_input_type=tf.int8, inference_output_type=tf.int8)
    q = export.Interpreter(model_content=int8_tflite)
    q.allocate_tensors()
    qi, qo = q.get_input_details()[0], q.get_output_details()[0]
    (s_in, z_in), (s_out, z_out) = qi["quantization"], qo["quantization"]
    xq = np.clip(np.round(x / s_in) + z_in, -128, 127).astype(np.int8)
    host_int8 = []
    for row in xq:
        q.set_tensor(qi["index"], row[None])
        q.invoke()
        host_int8.append(q.get_tensor(qo["index"])[0])
    host_int8 = np.array(host_int8)
    dequantized = (host_int8.astype(np.float32) - z_out) * s_out
    report["int8_vs_keras_mean"] = float(np.abs(dequantized - reference).mean())
    report["reference_std"] = float(reference.std())

    import importlib.util
    if importlib.util.find_spec("ai_edge_litert"):    # the [litert] extra, when installed
        lq = export.Interpreter(model_content=int8_tflite, backend="litert")
        lq.allocate_tensors()
        litert = []
        for row in xq:
            lq.set_tensor(qi["index"], row[None])
            lq.invoke()
            litert.append(lq.get_tensor(qo["index"])[0])
        report["litert_int8_equal"] = bool(np.array_equal(np.array(litert), host_int8))

    native_compile.run = compiler      # TFLM is compiled on demand from the shipped sources
    m = micro.Interpreter(int8_tflite, arena_size=32 * 1024)
    micro_int8 = np.array([m.run(row[None])[0][0] for row in xq])
    report["micro_int8_equal"] = bool(np.array_equal(micro_int8, host_int8))
    mf = micro.Interpreter(float_tflite, arena_size=32 * 1024)
    micro_float = np.array([mf.run(row[None])[0][0] for row in x])
    report["micro_float_vs_host"] = float(np.abs(micro_float - host_float).max())

    if shutil.which("arm-none-eabi-g++") and shutil.which("qemu-system-arm"):
        run = micro.run(int8_tflite, xq[:4, None], board="mps2-an386")
        board = np.array([outs[0][0] for outs in run.outputs])
        report["board_int8_equal"] = bool(np.array_equal(board, host_int8[:4]))

    # the Arduino export copies the op sources from the installed package
    streaming = keras.Sequential([keras.Input(batch_shape=(1, 1, 40)),
                                  keras.layers.RNN(keras_events.EGRUCell(8)),
                                  keras.layers.Dense(3)])
    frames = rng.normal(size=(32, 1, 40)).astype(np.float32)
    kws = export.to_tflite(streaming, quantize="int8", representative_data=frames,
                           inference_input_type=tf.int8, inference_output_type=tf.int8)
    lib = export.to_arduino_library(kws, pathlib.Path("kws_lib"), labels=["a", "b", "c"],
                                    arena_size=16384)
    report["arduino_files"] = sorted(str(p.relative_to(lib)) for p in lib.rglob("*") if p.is_file())
    print("REPORT" + json.dumps(report))
''')


def _run(cmd, **kwargs):
    done = subprocess.run([str(c) for c in cmd], capture_output=True, text=True,
                          check=False, **kwargs)
    assert done.returncode == 0, f"{cmd}\n{done.stdout[-3000:]}\n{done.stderr[-5000:]}"
    return done


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    try:
        tflm = tflm_dir()   # the checkout's build reads the TFLite headers from the TFLM tree
    except FileNotFoundError as e:
        require(False, str(e))
    out = tmp_path_factory.mktemp("dist")
    env = dict(os.environ, TFLM_DIR=str(tflm))
    _run(["nice", "-n", "10", sys.executable, "-m", "pip", "wheel", "--no-deps",
          "--no-build-isolation", "-q", REPO, "-w", out], env=env, cwd=out, timeout=900)
    (whl,) = out.glob("keras_events-*.whl")
    return whl


def test_wheel_holds_only_the_package_with_its_libraries_and_sources(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    dist_info = wheel.name.split("-")[0] + "-" + wheel.name.split("-")[1] + ".dist-info/"
    stray = [n for n in names if not n.startswith(("keras_events/", dist_info))]
    assert not stray, f"files outside keras_events/: {stray}"
    for required in ["keras_events/export/_ke_ops.so", "keras_events/export/_ke_core.so",
                     "keras_events/_native/src/custom_ops/ops.def",
                     "keras_events/_native/src/custom_ops/core/ke_egru.c",
                     "keras_events/_native/src/custom_ops/tflm/ke_op.cc",
                     "keras_events/_native/src/micro/harness/main.cc",
                     "keras_events/_native/src/micro/harness/an386.ld",
                     "keras_events/_native/src/micro/host/ke_tflm_c_api.cc",
                     "keras_events/_native/src/micro/qemu_plugin/insn_count.c",
                     "keras_events/export/arduino_template/example.ino"]:
        assert required in names, required
    assert not any("/tests/" in n or n.endswith(".o") for n in names)
    metadata = zipfile.ZipFile(wheel).read(dist_info + "METADATA").decode()
    import tensorflow as tf
    major, minor = map(int, tf.__version__.split(".")[:2])
    assert f"Requires-Dist: tensorflow<{major}.{minor + 1},>={major}.{minor}" in metadata
    assert "linux_x86_64" in wheel.name   # platform wheel: it holds shared libraries


def test_installed_wheel_works_outside_the_checkout(wheel, tmp_path):
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", "--system-site-packages", venv])
    python = venv / "bin" / "python"
    # --ignore-installed: the machine's site-packages may hold an editable keras-events.
    _run([python, "-m", "pip", "install", "-q", "--no-deps", "--no-index", "--ignore-installed",
          wheel])
    work = tmp_path / "user"
    work.mkdir()
    (work / "user.py").write_text(USER_SCRIPT)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    env["TFLM_DIR"] = str(tflm_dir())
    env["KE_CACHE_DIR"] = env.get("KE_CACHE_DIR", str(pathlib.Path.home() / ".cache" / "keras-events"))
    done = _run(["nice", "-n", "10", python, "-I", "user.py"], cwd=work, env=env, timeout=1200)
    report = json.loads(done.stdout.split("REPORT", 1)[1])
    print({k: v for k, v in report.items() if k not in ("sys_path", "arduino_files")})

    site = venv / "lib"
    assert report["package"].startswith(str(site)), report["package"]
    assert not any(p and pathlib.Path(p).resolve() == REPO for p in report["sys_path"])
    assert report["library"].startswith(str(site)), "the wheel's _ke_ops.so is the one loaded"
    assert report["macs"] > 0
    assert report["float_vs_keras"] < 1e-4
    assert report["int8_vs_keras_mean"] < 0.25 * report["reference_std"]
    assert report["micro_int8_equal"], "host TFLite and host TFLM int8 must be bit-exact"
    assert report["micro_float_vs_host"] < 1e-5
    if "litert_int8_equal" in report:
        assert report["litert_int8_equal"], "LiteRT with the registerer must match TFLite"
    if "board_int8_equal" in report:
        assert report["board_int8_equal"], "host TFLite and Cortex-M4 int8 must be bit-exact"
    for path in ["src/custom_ops/ops.def", "src/custom_ops/core/ke_egru.c",
                 "src/custom_ops/tflm/ke_op.cc", "src/kws_lib.h"]:
        assert path in report["arduino_files"], path
    # Nothing was written into the installed package's source copy or the checkout.
    assert not (REPO / "keras_events" / "_native" / "src").exists()


def test_sdist_builds_the_wheel_without_the_tflm_tree(tmp_path):
    """The sdist carries what the build needs (TFLite headers included): pip builds its
    wheel with TFLM_DIR pointing nowhere (`pip install keras-events-*.tar.gz` does the same
    build, then installs)."""
    try:
        tflm = tflm_dir()
    except FileNotFoundError as e:
        require(False, str(e))
    dist = tmp_path / "dist"
    _run([sys.executable, "setup.py", "-q", "sdist", "-d", dist], cwd=REPO, timeout=300,
         env=dict(os.environ, TFLM_DIR=str(tflm)))
    (sdist,) = dist.glob("keras-events-*.tar.gz")
    unpacked = tmp_path / "src"
    shutil.unpack_archive(sdist, unpacked)
    (root,) = unpacked.iterdir()
    assert (root / "third_party/tflite_include/tensorflow/lite/core/c/common.h").is_file()
    assert not (root / "recipes").exists() and not (root / "tests").exists()
    env = dict(os.environ, TFLM_DIR=str(tmp_path / "no-tflm"))
    _run(["nice", "-n", "10", sys.executable, "-m", "pip", "wheel", "--no-deps",
          "--no-build-isolation", "-q", sdist, "-w", dist], env=env, cwd=tmp_path, timeout=900)
    (whl,) = dist.glob("keras_events-*.whl")
    assert "keras_events/export/_ke_ops.so" in zipfile.ZipFile(whl).namelist()

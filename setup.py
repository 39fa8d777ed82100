"""Build steps of the keras-events wheel and sdist (metadata: setup.cfg).

A wheel carries, besides the Python package:

- the compiled host op libraries ``keras_events/export/_ke_ops.so`` (C cores + host TFLite
  glue + registerer, linked against the build's ``libtensorflow_cc.so.2``) and ``_ke_core.so``
  (the cores alone, ctypes), built by ``build_ext`` with the project's one native builder
  ``keras_events/_native`` (no separate compiler setup here);
- the C sources (``custom_ops/``, ``micro/``), copied by ``build_py`` into
  ``keras_events/_native/src/``, so ``keras_events.micro`` builds the host TFLM library and
  the Cortex-M firmware, and the Arduino export copies the op sources, from an installed
  package (given ``TFLM_DIR``).

The op library calls into one TensorFlow build (its C++ ABI), so the wheel requires the
TensorFlow minor release it was built against (``install_requires`` below). Build with the
installed TensorFlow: ``pip wheel --no-build-isolation .`` (pyproject.toml has the details).

An sdist also carries the few TFLite C headers the host glue compiles against (the
TensorFlow wheel ships none), copied from the TFLM tree (``TFLM_DIR``) when it is made, so
building from an sdist needs no TFLM tree.
"""
import importlib.metadata
import importlib.util
import pathlib
import shutil
import subprocess
import sys

from setuptools import Distribution, setup
from setuptools.command.build_ext import build_ext
from setuptools.command.build_py import build_py
from setuptools.command.sdist import sdist

HERE = pathlib.Path(__file__).resolve().parent
TFLITE_INCLUDE = "third_party/tflite_include"    # in an sdist (= paths.BUNDLED_TFLITE_INCLUDE)


def _native():
    """``keras_events/_native`` loaded on its own (relative imports only): importing
    ``keras_events`` would import Keras and TensorFlow."""
    name = "_ke_native_build"
    if name not in sys.modules:
        init = HERE / "keras_events" / "_native" / "__init__.py"
        spec = importlib.util.spec_from_file_location(name, init,
                                                      submodule_search_locations=[str(init.parent)])
        sys.modules[name] = module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    return tuple(importlib.import_module(f"{name}.{m}") for m in ("paths", "host", "manifest"))


def _tensorflow_requirement():
    """``tensorflow>=X.Y,<X.Y+1`` of the TensorFlow this build compiles against; a plain
    lower bound when none is installed (sdist, an isolated editable install: those compile
    nothing)."""
    try:
        version = importlib.metadata.version("tensorflow")
    except importlib.metadata.PackageNotFoundError:
        return "tensorflow>=2.18"
    if "sdist" in sys.argv:
        return "tensorflow>=2.18"
    major, minor = (int(v) for v in version.split(".")[:2])
    return f"tensorflow>={major}.{minor},<{major}.{minor + 1}"


class BinaryDistribution(Distribution):
    """The wheel holds shared libraries: platform-specific, and ``build_ext`` runs."""

    def has_ext_modules(self):
        return True


def _editable(cmd) -> bool:
    return bool(getattr(cmd, "editable_mode", False) or getattr(cmd, "inplace", False))


class BuildPy(build_py):
    """Also copies the C sources into ``keras_events/_native/src/`` (not for an editable
    install: it uses the checkout's sources)."""

    def run(self):
        super().run()
        if not _editable(self):
            self._copied = self._copy_sources()

    def _copy_sources(self):
        paths = _native()[0]
        dest = pathlib.Path(self.build_lib) / "keras_events" / "_native" / "src"
        shutil.rmtree(dest, ignore_errors=True)     # no stale file from an earlier build
        out = []
        files = [paths.SOURCE_ROOT / f for f in paths.SOURCE_FILES]
        files += [p for d in paths.SOURCE_DIRS for p in sorted((paths.SOURCE_ROOT / d).iterdir())
                  if p.suffix in (".c", ".cc", ".h", ".def", ".ld")]
        for src in files:
            target = dest / src.relative_to(paths.SOURCE_ROOT)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, target)
            out.append(str(target))
        return out

    def get_outputs(self, include_bytecode=1):
        return super().get_outputs(include_bytecode) + getattr(self, "_copied", [])


class BuildExt(build_ext):
    """Compiles ``_ke_ops.so`` and ``_ke_core.so`` into the wheel with the native builder
    (objects are cached by content in ``~/.cache/keras-events``). An editable install
    builds nothing: the checkout builds them on first use."""

    def run(self):
        self._built = []
        if _editable(self):
            return
        _, host, _ = _native()
        export_dir = pathlib.Path(self.build_lib) / "keras_events" / "export"
        for name, build in (("_ke_ops.so", host.build_ops_library),
                            ("_ke_core.so", host.build_core_library)):
            try:
                self._built.append(str(build(export_dir / name)))
            except RuntimeError as e:
                raise SystemExit(
                    f"building {name} for the keras-events wheel failed: {e}\n"
                    "The op library is compiled against the installed TensorFlow: install "
                    "tensorflow, a C/C++ compiler (gcc, g++) and build with "
                    "`pip install --no-build-isolation .` (or `pip wheel --no-build-isolation .`).")

    def get_outputs(self):
        return list(getattr(self, "_built", []))


class Sdist(sdist):
    """Adds the TFLite C headers the host glue includes, copied from the TFLM tree."""

    def make_release_tree(self, base_dir, files):
        super().make_release_tree(base_dir, files)
        dest = pathlib.Path(base_dir) / TFLITE_INCLUDE
        if (HERE / TFLITE_INCLUDE).is_dir():      # making an sdist from an sdist
            return
        paths, host, manifest = _native()
        tflm = paths.tflm_dir()
        roots = [tflm / "ref" / "third_party" / "flatbuffers" / "include", tflm / "ref"]
        sources = [*manifest.sources("glue"), *manifest.sources("tflite"), host.REGISTERER]
        deps = set()
        for src in sources:
            r = subprocess.run(["g++", "-std=c++17", "-M", *(f"-I{r}" for r in roots), str(src)],
                               capture_output=True, text=True, check=True)
            deps |= {pathlib.Path(p).resolve() for p in r.stdout.replace("\\\n", " ").split()[1:]}
        for dep in sorted(deps):
            root = next((r for r in roots if dep.is_relative_to(r.resolve())), None)
            if root is None:    # system or project headers
                continue
            target = dest / dep.relative_to(root.resolve())
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(dep, target)
        shutil.copyfile(tflm / "ref" / "LICENSE", dest / "LICENSE.tensorflow")
        shutil.copyfile(tflm / "ref" / "third_party" / "flatbuffers" / "LICENSE",
                        dest / "LICENSE.flatbuffers")
        (dest / "README.txt").write_text(
            "TFLite C API and flatbuffers headers (Apache-2.0, licenses alongside), copied by\n"
            "setup.py's sdist step from the pinned TFLM tree (TFLM_DIR) so that the host op\n"
            "library builds from this sdist without it. Not part of the keras-events sources.\n")


setup(
    distclass=BinaryDistribution,
    cmdclass={"build_py": BuildPy, "build_ext": BuildExt, "sdist": Sdist},
    install_requires=["keras>=3.8", "numpy>=1.26", _tensorflow_requirement()],
)

"""Locate the checkout's ``micro/tools`` package (C sources and build scripts live next to
it, outside the Python package) and import it."""
import importlib
import pathlib
import sys

_REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]


def _import_tools():
    try:
        return importlib.import_module("micro.tools")
    except ImportError:
        if not (_REPO_ROOT / "micro" / "tools" / "__init__.py").exists():
            raise ImportError("keras_events.micro needs the keras-events source checkout "
                              "(its micro/ directory); install it with `pip install -e .`")
        sys.path.insert(0, str(_REPO_ROOT))
        return importlib.import_module("micro.tools")


tools = _import_tools()
for _name in ("firmware", "host_interpreter", "qemu", "runner", "tflm_build"):
    importlib.import_module(f"micro.tools.{_name}")

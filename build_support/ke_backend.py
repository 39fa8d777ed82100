"""The PEP 517 build backend: setuptools' own, plus TensorFlow as a build requirement of
the wheel (its op library links against ``libtensorflow_cc.so.2``).

Only the wheel needs TensorFlow to build: an editable install (``pip install -e .``,
``make test``) compiles nothing at install time and an sdist is plain files, so they get
setuptools' requirements unchanged. With ``--no-build-isolation`` pip skips these hooks
and the installed TensorFlow is used (the recommended way: no ~600 MB download, and the
wheel matches the TensorFlow you have).
"""
from setuptools import build_meta as _setuptools
from setuptools.build_meta import *  # every other hook, unchanged

TENSORFLOW = "tensorflow>=2.18"


def get_requires_for_build_wheel(config_settings=None):
    return [*_setuptools.get_requires_for_build_wheel(config_settings), TENSORFLOW]

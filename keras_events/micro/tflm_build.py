"""The cached TensorFlow Lite Micro libraries (now built by ``keras_events._native.tflm``).

Kept as the import path of its public names (``M4_ARCH``, ``VARIANTS``, ``build_library``,
``cache_key``, ``tflm_dir_from_env``, ``CACHE_ROOT``) for code that imports them from here.
"""
from keras_events._native.flags import M4_ARCH, M4_DEFS, SANITIZE  # noqa: F401
from keras_events._native.paths import DEFAULT_TFLM_DIR, REPO_ROOT  # noqa: F401
from keras_events._native.tflm import (CACHE_ROOT, HOST_KERNELS, VARIANTS, Variant,  # noqa: F401
                                       build_library, cache_key, sources, tflm_dir_from_env)

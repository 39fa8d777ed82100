"""Missing prerequisites (toolchain, QEMU, espeak-ng, the TFLM tree): a skip with the
reason on a developer machine, a failure in CI (environment variable ``CI`` set, as every
CI service does), where a skip would silently drop the tests that need them.

    from prereq import require, require_tools
    require_tools("arm-none-eabi-gcc", "qemu-system-arm", fix="make micro-toolchain")
"""
import os
import shutil

import pytest


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() not in ("", "0", "false")


def require(ok: bool, reason: str) -> None:
    """Skip (locally) or fail (in CI) with ``reason`` unless ``ok``."""
    if ok:
        return
    if in_ci():
        pytest.fail(f"prerequisite missing in CI: {reason}", pytrace=False)
    pytest.skip(reason)


def require_tools(*tools: str, fix: str = "make install-apt") -> None:
    """Every tool on PATH, else skip (locally) / fail (CI) naming the missing ones and ``fix``."""
    missing = [t for t in tools if shutil.which(t) is None]
    require(not missing, f"needs {', '.join(missing)} ({fix})")

"""custom_ops/core/ke_logmel.c under AddressSanitizer/UBSan: bad input gives errors, not crashes."""

import subprocess
from pathlib import Path

import pytest

from recipes.kws.logmel_c import SOURCE

HERE = Path(__file__).parent


def test_selftest_under_sanitizers(tmp_path):
    from prereq import require_tools
    require_tools("gcc", fix="a host C compiler")
    exe = tmp_path / "selftest"
    flags = ["-std=c99", "-O1", "-g", "-Wall", "-Wextra", "-Werror",
             "-fsanitize=address,undefined", "-fno-sanitize-recover=all"]
    subprocess.run(["gcc", *flags, f"-I{Path(SOURCE).parent}", str(HERE / "ke_logmel_selftest.c"),
                    SOURCE, "-o", str(exe), "-lm"], check=True)
    result = subprocess.run([str(exe)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "passed" in result.stdout

"""custom_ops/core/ke_logmel_q.c under AddressSanitizer/UBSan: bad input gives errors, not
crashes; extreme inputs stream without undefined behaviour (ke_logmel_q_selftest.c)."""

import shutil
import subprocess
from pathlib import Path

import pytest

from keras_events._native.host import FRONT_ENDS

SOURCES = FRONT_ENDS["logmel_q"][0]

HERE = Path(__file__).parent


@pytest.mark.skipif(shutil.which("gcc") is None, reason="no host gcc")
def test_selftest_under_sanitizers(tmp_path):
    exe = tmp_path / "selftest_q"
    flags = ["-std=c99", "-O1", "-g", "-Wall", "-Wextra", "-Werror",
             "-fsanitize=address,undefined", "-fno-sanitize-recover=all"]
    subprocess.run(["gcc", *flags, f"-I{SOURCES[0].parent}", str(HERE / "ke_logmel_q_selftest.c"),
                    *map(str, SOURCES), "-o", str(exe), "-lm"], check=True)
    result = subprocess.run([str(exe)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "passed" in result.stdout

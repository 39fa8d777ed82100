"""recipes/common/output.py: converter chatter hidden unless --verbose, shown on failure;
one line per epoch when stdout is not a terminal."""
import io
import os
import subprocess
import sys
import textwrap

import pytest

from recipes.common import output


def _run(code):
    """Runs ``code`` in a fresh interpreter (real file descriptors 1 and 2)."""
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                          text=True, cwd=root, env=dict(os.environ, PYTHONPATH=root))


def test_quiet_native_hides_fd_output_and_keeps_the_result():
    r = _run("""
        import os
        from recipes.common.output import quiet_native
        with quiet_native():
            os.write(1, b"converter stdout\\n"); os.write(2, b"converter stderr\\n")
            print("python print")
            x = 41 + 1
        print("after", x)
    """)
    assert r.returncode == 0, r.stderr
    assert r.stdout == "after 42\n" and "converter" not in r.stderr


def test_quiet_native_replays_the_output_of_a_failure():
    r = _run("""
        import os
        from recipes.common.output import quiet_native
        with quiet_native():
            os.write(2, b"why it failed\\n")
            raise ValueError("boom")
    """)
    assert r.returncode != 0 and "why it failed" in r.stderr and "ValueError: boom" in r.stderr


def test_verbose_shows_the_output():
    r = _run("""
        import os
        from recipes.common import output
        output.set_verbose(True)
        with output.quiet_native():
            os.write(1, b"converter stdout\\n")
    """)
    assert r.stdout == "converter stdout\n"


@pytest.mark.parametrize("tty,level", [(True, 1), (False, 2)])
def test_fit_verbosity(tty, level):
    stream = io.StringIO()
    stream.isatty = lambda: tty
    assert output.fit_verbosity(stream) == level

"""What a recipe run prints: its own progress lines, one line per epoch when the output is
not a terminal, and none of TensorFlow's converter chatter unless ``--verbose``.

- ``fit_verbosity()``: Keras ``verbose`` for ``fit`` -- 1 (progress bar) on a terminal, 2
  (one line per epoch) otherwise: a bar redrawn into a file (CI, ``> log.txt``) writes
  megabytes of frames.
- ``quiet_native()``: runs a conversion with file descriptors 1 and 2 sent to a temporary
  file (the TFLite converter's C++ prints "fully_quantize: ..." and Keras' export prints
  the concrete function's signature and captures, neither through Python's logging);
  on an exception the captured text is written to stderr before it propagates.
"""
import contextlib
import os
import sys
import tempfile

_VERBOSE = [os.environ.get("KE_VERBOSE", "").lower() not in ("", "0", "false")]


def set_verbose(verbose: bool) -> None:
    """``--verbose``: show the converters' own output."""
    _VERBOSE[0] = bool(verbose)


def fit_verbosity(stream=None) -> int:
    stream = stream or sys.stdout
    return 1 if getattr(stream, "isatty", lambda: False)() else 2


@contextlib.contextmanager
def quiet_native():
    if _VERBOSE[0]:
        yield
        return
    sys.stdout.flush()
    sys.stderr.flush()
    saved = [os.dup(1), os.dup(2)]
    with tempfile.TemporaryFile(mode="w+b") as sink:
        try:
            os.dup2(sink.fileno(), 1)
            os.dup2(sink.fileno(), 2)
            yield
        except BaseException:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            sink.seek(0)
            text = sink.read().decode(errors="replace")
            if text:
                sys.stderr.write(f"(output of the failed step)\n{text[-20000:]}\n")
            raise
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            for fd in saved:
                os.close(fd)

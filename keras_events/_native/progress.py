"""Progress lines of slow native work: a TFLM library build (~6 minutes, once), the host op
library (~20 s, once per change), firmware builds and QEMU runs. One line per stage on
stderr with the elapsed time, nothing when the result comes from the cache; ``KE_QUIET=1``
silences them (scripts that parse stderr)."""
from __future__ import annotations

import contextlib
import os
import sys
import time


def enabled() -> bool:
    return os.environ.get("KE_QUIET", "").lower() in ("", "0", "false")


def elapsed(seconds: float) -> str:
    """4.2 s, 6 min 05 s."""
    if seconds < 60:
        return f"{seconds:.1f} s"
    return f"{int(seconds // 60)} min {int(seconds % 60):02d} s"


def say(message: str) -> None:
    if enabled():
        print(f"[keras-events] {message}", file=sys.stderr, flush=True)


@contextlib.contextmanager
def stage(what: str):
    """``with stage("firmware built"):`` prints ``[keras-events] firmware built (3.1 s)``
    when the block completes (an exception prints nothing: it carries its own message)."""
    start = time.monotonic()
    yield
    say(f"{what} ({elapsed(time.monotonic() - start)})")

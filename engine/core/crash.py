"""The last resort: an exception nobody expected becomes one line and a crash log.

Every failure a user can cause has its own EngineError; anything else is a bug. A bug must
still not dump a traceback on the user, and must not vanish either: the traceback goes to a
file in the state directory (or the temp dir when that is unusable) and the one line says
what failed and where the file is, so it can be attached to a report.
"""

from __future__ import annotations

import datetime
import os
import platform
import sys
import tempfile
import time
import traceback
from pathlib import Path

from engine.core.config import state_dir

_MAX_DETAIL = 200


def crash_line(exc: BaseException, what: str) -> str:
    """Write the crash log and return the one line to print (`error: … — …`)."""
    path = write_crash_log(exc, what)
    detail = " ".join(f"{type(exc).__name__}: {exc}".split())
    if len(detail) > _MAX_DETAIL:
        detail = detail[:_MAX_DETAIL - 1] + "…"
    where = f"the traceback is in {path}" if path else "no crash log could be written"
    return (f"error: internal error while {what} ({detail}) — this is a bug in parallel-tui; {where} "
            "(attach it to a bug report)")


def write_crash_log(exc: BaseException, what: str) -> Path | None:
    """The traceback and context in a new file; None only when no folder at all takes it."""
    text = "".join([
        f"parallel-tui crash while {what}\n",
        f"time: {time.strftime('%Y-%m-%dT%H:%M:%S%z')}\n",
        f"argv: {sys.argv!r}\n",
        f"python: {sys.version.split()[0]} on {platform.platform()}\n\n",
        *traceback.format_exception(exc),
    ])
    name = f"crash-{datetime.datetime.now():%Y%m%dT%H%M%S.%f}-{os.getpid()}.log"
    for folder in (state_dir() / "crashes", Path(tempfile.gettempdir()) / "parallel-tui-crashes"):
        try:
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / name
            with path.open("x", encoding="utf-8", errors="backslashreplace") as file:
                file.write(text)
        except OSError:
            continue
        return path
    return None

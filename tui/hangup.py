"""When the terminal goes away, the app leaves within 2 s and never spins.

Closing the terminal (or killing the tmux server the app runs in) sends SIGHUP, and input
reads then fail with EOF/EIO. Both end the app; the agents live on their own tmux server, and
the run goes on without it.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import termios
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from textual.app import App

CHECK_S = 0.5


def install(app: App[None]) -> None:
    """SIGHUP exits at once; a half-second check catches a terminal that vanished silently."""
    if app.is_headless:
        return
    with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
        asyncio.get_running_loop().add_signal_handler(signal.SIGHUP, lambda: _leave(app))
    app.set_interval(CHECK_S, lambda: _leave(app) if terminal_gone() else None)


def terminal_gone(fd: int | None = None) -> bool:
    """True once the controlling terminal is hung up: its attributes cannot be read."""
    try:
        fd = sys.__stdin__.fileno() if fd is None and sys.__stdin__ is not None else fd
        if fd is None:
            return True
        termios.tcgetattr(fd)
        os.fstat(fd)
    except (OSError, ValueError, termios.error):
        return True
    return False


def _leave(app: App[None]) -> None:
    app.exit(return_code=129)
    loop = asyncio.get_running_loop()
    loop.call_later(1.5, lambda: os._exit(129))  # the driver's reader can block on a dead tty

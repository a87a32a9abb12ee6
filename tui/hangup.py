"""When the terminal goes away, the app leaves at once (under 2 s on a quiet machine) and never spins.

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
import threading
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
    """Exit; and whatever blocks, be gone 1.5 s later. The timer is a thread, not the loop's:
    the driver's shutdown can block the loop itself (its writer's queue full of frames for a
    dead tty), and a loop timer then never fires."""
    app.exit(return_code=129)
    timer = threading.Timer(1.5, os._exit, args=(129,))
    timer.daemon = True
    timer.start()

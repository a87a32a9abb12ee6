"""Whether a host keeps a run's tmux server alive after the SSH login that started it ends.

Where systemd-logind has `KillUserProcesses=yes`, every process of a login session is ended
when it logs out, tmux servers included (agent-deck's users lost their sessions this way).
Two things are needed there: lingering (`loginctl enable-linger`: the user's own systemd
outlives the logins), and the tmux server started outside the login's scope
(`systemd-run --user --scope`). Without lingering the host is skipped, saying how to turn it
on; with it, the server is started through `systemd-run`. No logind, or one that keeps
processes: nothing to do.
"""

from __future__ import annotations

import subprocess
import time
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

ASK_TIMEOUT_S = 10.0
"""`loginctl` asks D-Bus, which can hang: each question has this long."""
SCOPE = ("systemd-run", "--user", "--scope", "--quiet", "--")
"""How a tmux server is started outside the login's scope."""
REMEMBER_S = 60.0
"""How long `recent_policy` keeps a host's answer (a person may turn lingering on meanwhile)."""


class Asked(Protocol):
    def which(self, program: str) -> str | None: ...

    def run(self, argv: Sequence[str], *, timeout: float | None = None) -> subprocess.CompletedProcess[bytes]:
        ...


@dataclass(frozen=True, slots=True, kw_only=True)
class Logout:
    survives: bool
    """A tmux server started for a run outlives the login (with `launcher`)."""
    detail: str
    launcher: tuple[str, ...] = ()
    """What to start the host's tmux server under ((): as it is)."""


_RECENT: weakref.WeakKeyDictionary[Asked, tuple[float, Logout]] = weakref.WeakKeyDictionary()
"""Each host object's last answer, with when (monotonic): gone with the host object."""


def logout_policy(host: Asked) -> Logout:
    """What the host's systemd-logind does to a login's processes when it logs out."""
    if host.which("loginctl") is None:
        return Logout(survives=True, detail="no systemd-logind: processes outlive the login")
    kills = _value(host, ["loginctl", "show-session", "-p", "KillUserProcesses", "--value"])
    if not kills:
        return Logout(survives=True, detail="systemd-logind is not running: processes outlive the login")
    if kills != "yes":
        return Logout(survives=True, detail="systemd-logind keeps a login's processes (KillUserProcesses=no)")
    user = _value(host, ["id", "-un"])
    linger = _value(host, ["loginctl", "show-user", user, "-p", "Linger", "--value"]) if user else ""
    return decide(linger == "yes", host.which("systemd-run") is not None)


def recent_policy(host: Asked) -> Logout:
    """`logout_policy`, asked again only after REMEMBER_S: placing a run's sessions and
    starting their tmux server ask the same host within seconds (a `loginctl` round trip each)."""
    now = time.monotonic()
    known = _RECENT.get(host)
    if known is not None and now - known[0] < REMEMBER_S:
        return known[1]
    policy = logout_policy(host)
    _RECENT[host] = (now, policy)
    return policy


def decide(linger: bool, systemd_run: bool) -> Logout:
    """Where logind ends a login's processes: lingering and `systemd-run` are both needed."""
    if not linger:
        return Logout(survives=False, detail="systemd-logind ends a login's processes at logout "
                                             "(KillUserProcesses=yes) and lingering is off: run "
                                             "`loginctl enable-linger` on the host")
    if not systemd_run:
        return Logout(survives=False, detail="systemd-logind ends a login's processes at logout and "
                                             "`systemd-run` is missing to start tmux outside the login")
    return Logout(survives=True, detail="lingering is on: tmux starts under `systemd-run --user --scope`",
                  launcher=SCOPE)


def _value(host: Asked, argv: list[str]) -> str:
    try:
        done = host.run(argv, timeout=ASK_TIMEOUT_S)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return done.stdout.decode("utf-8", "replace").strip() if done.returncode == 0 else ""

"""How a face shows a person a session's window, and how the person comes back.

The rule lives here so the app and the CLI agree. Outside tmux the terminal is handed to
`tmux attach` (`ctrl+b d` comes back). Inside the person's own tmux, `switch-client` would
move their client away and `ctrl+b d` would then detach their whole terminal; so on tmux ≥ 3.2
the window opens in a popup over their client (`display-popup -E`, `ctrl+b d` closes it and
the client stays where it was). Older tmux has no popups: `switch-client` on the same server,
and the default `ctrl+b L` (`switch-client -l`) comes back; a run on another server is nested
in the app's pane instead (the outer prefix then needs pressing twice). No key is ever bound
on the person's server.
"""

from __future__ import annotations

import re
import shlex
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass

from engine.core.errors import TmuxError
from engine.hosts.host import Host

POPUP_SINCE = (3, 2)
"""`display-popup` arrived in tmux 3.2 (its `-T` title in 3.3)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class AttachPlan:
    """One way to show a window: `argv` to run, whether it needs the caller's terminal, and the
    sentence that tells the person how to come back."""

    how: str
    """"terminal" (hand the terminal over), "popup" (blocks until closed), "switch" (returns at
    once; the person's client now shows the window) or "nested" (terminal, inside tmux)."""
    argv: tuple[str, ...]
    back: str
    session: str

    @property
    def takes_terminal(self) -> bool:
        return self.how in ("terminal", "nested")


def tmux_version(text: str) -> tuple[int, int]:
    """`tmux 3.3a` → (3, 3); a build that names no number (`tmux master`) counts as new."""
    found = re.search(r"(\d+)\.(\d+)", text)
    return (int(found[1]), int(found[2])) if found else (99, 0)


def plan_attach(attach_argv: list[str], window: str, run_server: str, session: str, *,
                environ: Mapping[str, str], host: Host) -> AttachPlan:
    """`attach_argv` attaches a terminal to `window` on the run's server (`run_server`, a socket
    path); `environ` tells whether (and in which tmux) the caller runs."""
    inside = environ.get("TMUX", "").split(",")[0]
    if not inside:
        return AttachPlan(how="terminal", argv=tuple(attach_argv), session=session,
                          back="ctrl+b d detaches and comes back here")
    tmux = attach_argv[0]
    person = [tmux, "-S", inside]
    version = tmux_version(_out(host, [tmux, "-V"], "tmux -V"))
    client = _client(host, person, environ)
    if not client:  # no client shows the app's pane (driven by send-keys): nest in it
        return _nested(attach_argv, session)
    if version >= POPUP_SINCE:
        inner = shlex.join(["env", "-u", "TMUX", *attach_argv])
        title = ("-T", f" {session} · ctrl+b d comes back ") if version >= (3, 3) else ()
        return AttachPlan(how="popup", session=session, back="ctrl+b d closes the popup and comes back here",
                          argv=(*person, "display-popup", "-c", client, "-w", "95%", "-h", "95%", *title,
                                "-E", inner))
    if run_server == inside:
        return AttachPlan(how="switch", session=session,
                          back="ctrl+b L (tmux's last-session key) comes back here",
                          argv=(*person, "switch-client", "-c", client, "-t", window))
    return _nested(attach_argv, session)


def _nested(attach_argv: list[str], session: str) -> AttachPlan:
    """tmux in the app's own pane: the outer tmux takes the first ctrl+b."""
    return AttachPlan(how="nested", argv=("env", "-u", "TMUX", *attach_argv), session=session,
                      back="ctrl+b twice, then d, detaches and comes back here")


def _client(host: Host, person: list[str], environ: Mapping[str, str]) -> str:
    """The client that shows the caller's pane (the popup opens there, or it switches); empty
    when none is attached."""
    pane = environ.get("TMUX_PANE", "")
    target = ("-t", pane) if pane else ()
    return _out(host, [*person, "display-message", *target, "-p", "#{client_name}"],
                "finding your tmux client")


def _out(host: Host, argv: list[str], what: str) -> str:
    try:
        proc = host.run(argv, timeout=5)
    except OSError as exc:
        raise TmuxError(f"{what}: tmux cannot be started: {exc.strerror or exc}",
                        hint="check that the `tmux` on PATH is an executable tmux") from None
    except subprocess.TimeoutExpired:
        raise TmuxError(f"{what}: tmux did not answer in 5 s",
                        hint="is the tmux this app runs in still running?") from None
    if proc.returncode != 0:
        detail = proc.stderr.decode("utf-8", "replace").strip() or f"exit {proc.returncode}"
        raise TmuxError(f"{what}: {detail}", hint="is the tmux this app runs in still running?")
    return proc.stdout.decode("utf-8", "replace").strip()


def run_plan(plan: AttachPlan, host: Host) -> str:
    """Run a popup or switch (they need no terminal); why it failed, or empty. A popup blocks
    until the person closes it."""
    try:
        proc = host.run(plan.argv)
    except OSError as exc:
        return f"tmux cannot be started: {exc.strerror or exc}"
    if proc.returncode == 0:
        return ""
    return proc.stderr.decode("utf-8", "replace").strip() or f"tmux exited {proc.returncode}"


def hand_over(plan: AttachPlan, host: Host) -> str:
    """Run a plan that takes the terminal, this process's stdin and stdout handed to it, until it
    exits; tmux's complaint (a window gone, no server) is returned, not left on the screen."""
    try:
        done = host.terminal(plan.argv)
    except OSError as exc:
        return str(exc.strerror or exc)
    if done.returncode == 0:
        return ""
    return done.stderr.decode("utf-8", "replace").strip() or f"tmux exited {done.returncode}"

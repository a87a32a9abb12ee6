"""A user's command (verify, worktree setup) in its own process group, ended whole.

`subprocess.run(timeout=)` kills only the process it started: a `/bin/sh -c` whose children
(a test runner, a `sleep`) keep the pipes open blocks the call past its limit, and a Ctrl-C
or SIGTERM of parallel-tui left the command running. Here the command leads a new session
(its own group, out of the terminal's reach), its output goes to a temp file (no pipe for a
grandchild to hold), and the whole group is ended on the timeout, on any exception
(KeyboardInterrupt, the CLI's SIGTERM-as-interrupt) and after it exits (a server it forked
must not outlive it).
"""

from __future__ import annotations

import os
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from engine.hosts.host import Host
from engine.hosts.local import LocalHost

TIMED_OUT = 124
"""The exit code a timed-out command reports, as coreutils' `timeout` does."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Finished:
    code: int
    output: bytes
    """stdout and stderr, interleaved as written."""
    timed_out: bool
    seconds: float


def run_grouped(argv: Sequence[str], *, cwd: Path, timeout_s: float,
                started: Callable[[int], None] | None = None, host: Host | None = None) -> Finished:
    """Run `argv` in `cwd` as the leader of a new process group; `started` hears its group id
    (to record it where a later run can end it if this process is killed). On another `host`
    than this machine it is the host's `run(group=True)` (no group id to hear)."""
    begun = time.perf_counter()
    if host is not None and not isinstance(host, LocalHost):
        try:
            done = host.run(argv, cwd=cwd, timeout=timeout_s, group=True)
        except subprocess.TimeoutExpired:
            return Finished(code=TIMED_OUT, output=b"", timed_out=True, seconds=time.perf_counter() - begun)
        return Finished(code=done.returncode, output=done.stdout + done.stderr, timed_out=False,
                        seconds=time.perf_counter() - begun)
    with tempfile.TemporaryFile(prefix="parallel-tui-out-") as out:
        proc = subprocess.Popen(list(argv), cwd=cwd, stdin=subprocess.DEVNULL, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)
        timed_out = False
        try:
            if started is not None:
                started(proc.pid)
            code = proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            timed_out, code = True, TIMED_OUT
        finally:
            end_group(proc.pid, proc)
        out.seek(0)
        return Finished(code=code, output=out.read(), timed_out=timed_out,
                        seconds=time.perf_counter() - begun)


def end_group(pgid: int, leader: subprocess.Popen[bytes] | None = None, grace_s: float = 2.0) -> None:
    """SIGTERM the group, SIGKILL what is left after `grace_s`; reap the leader if ours."""
    if not _signal_group(pgid, signal.SIGTERM):
        if leader is not None:
            leader.wait()
        return
    deadline = time.monotonic() + grace_s
    while time.monotonic() < deadline:
        if leader is not None and leader.poll() is None:
            time.sleep(0.02)
            continue
        if not _signal_group(pgid, 0):
            break
        time.sleep(0.02)
    _signal_group(pgid, signal.SIGKILL)
    if leader is not None:
        leader.wait()


def _signal_group(pgid: int, sig: int) -> bool:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        return False
    return True

"""The run supervisor: one detached process per run that follows its sessions to the end.

Why a process of its own: following (state changes journaled, ownership enforced, the tmux
status line kept current) must happen whether or not a `run --wait` or the app is open, and
must survive the terminal that started the run. It runs in the first window of the run's tmux
session (`python -P -m engine.run.supervisor RUN_ID`), so it lives exactly as long as tmux
keeps the sessions, and exits (its window closes) once every session has ended.

It holds the run's lock while following (as `Engine.holding` does), so `status` says the run
is `running` and no second orchestrator drives it; it waits for the lock while the process
that creates the sessions still holds it. Clients (`run --wait`, the app) read the journal's
events instead of following tmux; finding it gone while sessions still run, they start it
again (`ensure`), and the `killed` verdict tells a kill -9 from a normal exit.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
import time
import traceback
from collections.abc import Iterator
from pathlib import Path

from engine.core import events as rev
from engine.core.config import load_config, state_dir
from engine.core.errors import EngineError
from engine.core.models import SessionState
from engine.hosts.host import LOCAL
from engine.hosts.registry import Hosts
from engine.hosts.tmux_sessions import Tmux
from engine.run import snapshot
from engine.run.follow import follow_async
from engine.run.journal import Journal, RunRecord, open_journal
from engine.run.lock import LockedError, held, is_held
from engine.run.lookup import Sites, tmux_of
from engine.run.orchestrator import start_wave
from engine.run.radar import Radar
from engine.run.recorder import Recorder
from engine.run.session_status import StatusReaders
from engine.run.waves import Wave, Waves, never_launched

LOCK_WAIT_S = 3600.0
"""How long it waits for the creating process to let go of the run (setup commands can be slow)."""
STATUS_OPTION = "@parallel_status"
_ATTENTION = {SessionState.NEEDS_INPUT.value: "!", SessionState.FAILED.value: "✗",
              SessionState.STALLED.value: "…", SessionState.RATE_LIMITED.value: "⏳"}


def summary(states: dict[str, str]) -> str:
    """One glyph per session that needs attention first, then counts: `api ! · 2 working · 1 done`."""
    flagged = [f"{name} {_ATTENTION[state]}" for name, state in states.items() if state in _ATTENTION]
    counts: dict[str, int] = {}
    for state in states.values():
        if state not in _ATTENTION:
            counts[state or "starting"] = counts.get(state or "starting", 0) + 1
    return " · ".join([*flagged, *(f"{n} {state}" for state, n in counts.items())])


class StatusLine:
    """Keeps the run's tmux status line (`status-right '#{@parallel_status}'`, on the run's own
    session only) current, and rings the bell in the supervisor's window on needs_input so
    tmux's bell-action alerts attached clients. A user option updates at once, unlike `#(…)`."""

    def __init__(self, tmux: Tmux, names: list[str]) -> None:
        self.tmux = tmux
        self.states = dict.fromkeys(names, "")
        self.shown = ""
        tmux.run("set-option", "-t", f"={tmux.session}:", "status-right", "#{@parallel_status}")
        tmux.run("set-option", "-t", f"={tmux.session}:", "status-right-length", "120")

    def __call__(self, event: rev.RunEvent) -> None:
        if not isinstance(event, rev.SessionStateChanged):
            return
        self.states[event.name] = event.new
        text = summary(self.states)
        if text != self.shown:
            self.shown = text
            self.tmux.set_user_option(STATUS_OPTION, text)
        if event.new == SessionState.NEEDS_INPUT.value:
            sys.stdout.write("\a")
            sys.stdout.flush()


@contextlib.contextmanager
def _run_lock(journal: Journal, run: RunRecord, sites: Sites, wait_s: float) -> Iterator[bool]:
    """The run's lock once the creating process has let go *and* every session has its agent:
    a run interrupted while creating is waited on (not taken) until `run --resume` finishes it,
    so the resume never finds the run taken. False when that never happened within `wait_s`."""
    deadline = time.monotonic() + wait_s
    stack = contextlib.ExitStack()
    while True:
        if not is_held(f"run:{run.id}") and not _interrupted(journal, run, sites):
            try:
                stack.enter_context(held(f"run:{run.id}", f"run {run.id}"))
                break
            except LockedError:
                pass
        if time.monotonic() > deadline:
            yield False
            return
        time.sleep(0.2)
    with stack:
        yield True


def _interrupted(journal: Journal, run: RunRecord, sites: Sites) -> bool:
    """Some session never got its agent (its creator died): nothing to follow, `resume` first."""
    return never_launched(journal, run, sites.panes())


def supervise(run_id: str, hosts: Hosts | None, *, poll_s: float = 0.5,
              lock_wait_s: float = LOCK_WAIT_S) -> int:
    """Follow the run to its end; 0 when done (or nothing to follow), 2 for an unknown run.
    `hosts`: None builds them from the run's config (`hosts_for`)."""
    from engine.run.session_status import default_readers  # noqa: PLC0415 — Claude's parsers

    with open_journal() as journal:
        run = journal.run(run_id)
        if run is None:
            sys.stderr.write(f"error: no run {run_id!r} in the journal\n")
            return 2
        hosts = hosts if hosts is not None else hosts_for(run)
        tmux = tmux_of(run, hosts.local)  # the run's own server: its supervisor and status line are here
        with _run_lock(journal, run, Sites(run, journal.sessions(run.id), hosts), lock_wait_s) as mine:
            if not mine:
                return 0
            line = StatusLine(tmux, [s.name for s in journal.sessions(run.id)])
            with snapshot.kept(run, tmux):  # read by `status --json` (engine.run.snapshot_read)
                recorder = Recorder(journal, [line])
                asyncio.run(_follow(journal, run, recorder, default_readers(), poll_s, hosts))
    return 0


async def _follow(journal: Journal, run: RunRecord, recorder: Recorder, readers: StatusReaders,
                  poll_s: float, hosts: Hosts) -> None:
    """`follow_async`, ended cleanly by SIGTERM or SIGHUP (its window closed by `stop`): a
    supervisor told to stop journals RunFinished, so only a kill -9 reads as `killed`."""
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    assert task is not None
    for sig in (signal.SIGTERM, signal.SIGHUP):
        loop.add_signal_handler(sig, task.cancel)
    started = time.monotonic()
    config = load_config(Path(run.repo))

    def start(wave: Wave) -> None:
        start_wave(run, config, journal, readers, recorder, wave, hosts=hosts)
    waves = Waves(journal=journal, run=run, emit=recorder, start=start)
    try:
        with Radar(journal, run, recorder, config.radar_every_s, hosts.local) as radar:

            def advance() -> None:
                waves()
                radar()
            await follow_async(journal, run, readers, recorder, poll_s=poll_s, advance=advance, hosts=hosts)
    except asyncio.CancelledError:
        told = rev.RunFinished(run_id=run.id, seconds=time.monotonic() - started, states={})
        await asyncio.to_thread(recorder, told)


def hosts_for(run: RunRecord) -> Hosts:
    """This machine, and the SSH hosts the user's config names (connected when first asked).
    Read from the journal the supervisor already has open: a second connection opened and
    closed here resets the journal's WAL, and a client's stat-based watch then misses writes."""
    try:
        return Hosts(LOCAL, load_config(Path(run.repo)).hosts)
    except EngineError:
        return Hosts(LOCAL)  # a broken config: sessions here are still followed


def main(args: list[str] | None = None) -> int:
    """`python -P -m engine.run.supervisor RUN_ID`; a crash is written next to the run's files
    (its window closes with it) and shows as `killed` in status."""
    words = sys.argv[1:] if args is None else args
    if len(words) != 1:
        sys.stderr.write("usage: python -m engine.run.supervisor RUN_ID\n")
        return 2
    try:
        return supervise(words[0], None)  # the composition root: `hosts_for` the run
    except BaseException:
        log = state_dir() / "runs" / words[0] / "supervisor.log"
        with contextlib.suppress(OSError):
            log.parent.mkdir(parents=True, exist_ok=True)
            log.write_text(traceback.format_exc(), encoding="utf-8")
        raise


if __name__ == "__main__":
    sys.exit(main())

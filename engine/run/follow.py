"""Following a run: the one observer while it runs (the supervisor's loop, or `run --wait`
when `supervisor = false`).

Each tick is one `list-panes`, the agents' hook/stream files, and git only for a session whose
pane printed or whose index or HEAD moved (`engine.run.progress`), so idle polling stays cheap.
Every fact `status`, the board and the report show is journaled here as an event (a state
changed, a session ended with its exit status, its window closed, its branch flagged, its
worktree gone, its progress, a refused edit), and the session's row gets its end: clients fold
the events and never observe while this lives (docs/architecture.md, "Observed once").
"""

from __future__ import annotations

import contextlib
import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from engine.agents.ownership_hook import ownership_file_for
from engine.claude.statusline import usage_file_for
from engine.core import events as rev
from engine.core.errors import TmuxError
from engine.core.models import SessionState
from engine.hosts.on_host import repo_on
from engine.hosts.registry import LOCAL_NAME, Hosts
from engine.hosts.tmux_sessions import PaneFacts, Tmux
from engine.run.enforce import enforce
from engine.run.fetch_back import fetch_session
from engine.run.journal import Journal, RunRecord, SessionRecord
from engine.run.lookup import hosts_of, pane_for, tmux_of
from engine.run.observe import configured, exit_file, is_final, observe_session, worktree_trouble
from engine.run.recorder import recorder_for
from engine.run.session_status import TERMINAL, Observed, StatusReaders
from engine.run.status import run_status
from engine.run.views import RunStatus

if TYPE_CHECKING:
    from engine.run.progress import ProgressWatch
    from engine.run.refusals import RefusalWatch

REMOTE_EVERY_S = 5.0
"""How often an SSH host's sessions are read in full while their windows show no change."""
BACKOFF_MAX_S = 30.0
"""The longest wait before asking a host that stopped answering again."""
ENFORCE_EVERY_S = 2.0
"""How often following checks worktrees for stray changes (`engine.run.enforce`): git per
session, so not on every tick, and only after a pane printed or an index or HEAD moved
(or SAFETY_S passed)."""


def follow(journal: Journal, run: RunRecord, readers: StatusReaders, emit: rev.EmitRun = rev.ignore,
           poll_s: float = 0.5, timeout_s: float | None = None, *, hosts: Hosts) -> RunStatus | None:
    """`follow_async` for a caller without an event loop (Ctrl-C stops following, nothing else)."""
    import asyncio  # noqa: PLC0415 - ~20 ms that `status` (polled often) never needs

    return asyncio.run(follow_async(journal, run, readers, emit, poll_s=poll_s, timeout_s=timeout_s,
                                    hosts=hosts))


async def follow_async(  # noqa: PLR0913 - `hosts` threaded through, as httpx threads its transport
        journal: Journal, run: RunRecord, readers: StatusReaders, emit: rev.EmitRun = rev.ignore, *,
        poll_s: float = 0.5, timeout_s: float | None = None, advance: Callable[[], object] | None = None,
        hosts: Hosts) -> RunStatus | None:
    """Follow until every session has ended (or its window is gone); journal each fact, and
    stop `ownership = deny` sessions that change another's files (every ENFORCE_EVERY_S).

    Each tick reads tmux and the agents' files in a worker thread; between ticks the loop
    sleeps with `asyncio.sleep`, so an app's loop stays free. Returns the status at the end;
    None when `timeout_s` ran out first. `advance` runs before each tick (the supervisor starts
    sessions whose dependencies completed). Cancelled, it journals no RunFinished: the run
    reads as `killed` while following.
    """
    import asyncio  # noqa: PLC0415 - see `follow`

    from engine.run.progress import SAFETY_S, ProgressWatch  # noqa: PLC0415 — only followers need it
    from engine.run.refusals import RefusalWatch  # noqa: PLC0415

    readers, records = configured(readers, run), journal.sessions(run.id)

    def site(name: str) -> _Site:
        tmux = tmux_of(run, hosts.get(name))  # an SSH host connects here (OSError when it cannot)
        return _Site(tmux=tmux, refusals=RefusalWatch(journal, readers.read_refused, tmux.host),
                     watch=ProgressWatch(run.base_sha, tmux, repo_on(tmux.host, Path(run.repo)), records))
    looking = _Looking(hosts=hosts, names=tuple(dict.fromkeys([LOCAL_NAME, *hosts_of(records)])), make=site)
    recorder = recorder_for(journal, emit)
    await asyncio.to_thread(recorder, rev.RunFollowed(run_id=run.id))
    started = time.monotonic()
    finished_all = False
    enforced = 0.0
    while timeout_s is None or time.monotonic() - started < timeout_s:
        since = time.monotonic() - enforced
        enforce_now = since >= ENFORCE_EVERY_S and (looking.moved() or since >= SAFETY_S)
        if enforce_now:  # sessions that sat still since the last look cannot have strayed
            enforced = time.monotonic()
            for each in looking.sites.values():
                each.watch.moved = False
        if advance is not None:  # the supervisor starts the next wave here
            await asyncio.to_thread(advance)
        if await asyncio.to_thread(_tick, journal, run, readers, looking, recorder, enforce_now):
            finished_all = True
            break
        await asyncio.sleep(poll_s)
    seconds = time.monotonic() - started
    states = {k: v.value for k, v in looking.last.items()}
    finished = rev.RunFinished(run_id=run.id, seconds=seconds, states=states)
    await asyncio.to_thread(_finish, journal, run, finished, recorder)
    return await asyncio.to_thread(run_status, journal, run, readers, hosts) if finished_all else None


@dataclass(slots=True, kw_only=True)
class _Site:
    """One host's part of following: the run's tmux there, the progress watch
    (`engine.run.progress`) that journals commits, files, cost and last line, and the refusal
    watch (`engine.run.refusals`) that journals the ownership hook's refusals."""

    tmux: Tmux
    watch: ProgressWatch
    refusals: RefusalWatch
    seen: dict[str, PaneFacts] | None = None
    """The host's windows at its last full look, and when that was (`quiet`)."""
    looked_at: float = 0.0
    ended: dict[str, bool] = dataclasses.field(default_factory=dict)
    """Each session's verdict at the last full look (ended or not), by slug."""

    def quiet(self, panes: dict[str, PaneFacts], now: float) -> bool:
        """An SSH host whose windows are as they were (none printed, none died) since a look
        less than REMOTE_EVERY_S ago: its sessions' files and git are not read again yet (every
        read is a round trip there). This machine's sessions are looked at every tick."""
        return self.tmux.tag != "" and panes == self.seen and now - self.looked_at < REMOTE_EVERY_S


@dataclass(slots=True, kw_only=True)
class _Looking:
    """What following keeps between ticks: each host's site, each session's last state, and
    what was already told about each session's window and worktree."""

    names: tuple[str, ...]
    """The hosts the run's sessions are on (this machine first)."""
    make: Callable[[str], _Site]
    """A host's site, connecting to it (OSError or TmuxError when it cannot)."""
    hosts: Hosts
    sites: dict[str, _Site] = dataclasses.field(default_factory=dict)
    last: dict[str, SessionState] = dataclasses.field(default_factory=dict)
    told: dict[tuple[str, str], str] = dataclasses.field(default_factory=dict)
    """(slug, what) → the fact last journaled (what: `window`, `worktree`)."""

    down: dict[str, tuple[float, float]] = dataclasses.field(default_factory=dict)
    """SSH hosts that did not answer: when to try again, and the wait before that (doubling)."""

    def moved(self) -> bool:
        return any(site.watch.moved for site in self.sites.values())

    def failed(self, name: str) -> None:
        """Back off from a host that did not answer: 1 s, then twice as long each time, up to 30 s."""
        wait = min(max(1.0, self.down.get(name, (0.0, 0.0))[1] * 2), BACKOFF_MAX_S)
        self.down[name] = (time.monotonic() + wait, wait)


def _panes(looking: _Looking, journal: Journal, run: RunRecord, emit: rev.EmitRun,
           enforce_now: bool) -> dict[str, dict[str, PaneFacts] | None]:
    """Each host's windows (None for a host that did not answer this tick); with `enforce_now`,
    first stop sessions that strayed there (`engine.run.enforce`: git per session)."""
    found: dict[str, dict[str, PaneFacts] | None] = {}
    for name in looking.names:
        if name in looking.down and time.monotonic() < looking.down[name][0]:
            found[name] = None  # backing off: not asked this tick
            continue
        try:
            site = looking.sites.get(name) or looking.sites.setdefault(name, looking.make(name))
            panes = site.tmux.panes()
            if enforce_now and enforce(journal, run, panes, site.tmux.host, emit):
                panes = site.tmux.panes()
        except (TmuxError, OSError):
            if name == LOCAL_NAME:
                raise
            looking.failed(name)
            panes = None  # an SSH host that stopped answering: its sessions are looked at later
        else:
            looking.down.pop(name, None)
        found[name] = panes
    return found


def _tick(journal: Journal, run: RunRecord, readers: StatusReaders, looking: _Looking,
          emit: rev.EmitRun, enforce_now: bool) -> bool:
    """One look at every session (blocking: run it off the loop); True when all have ended.
    With `enforce_now`, first stop sessions that strayed (`engine.run.enforce`: git per session)."""
    by_host = _panes(looking, journal, run, emit, enforce_now)
    now = time.monotonic()
    quiet = {name for name, panes in by_host.items()
             if panes is not None and looking.sites[name].quiet(panes, now)}
    for name, panes in by_host.items():
        if panes is not None and name not in quiet:
            looking.sites[name].seen, looking.sites[name].looked_at = panes, now
    records = journal.sessions(run.id)
    with contextlib.ExitStack() as looks:
        for name, panes in by_host.items():
            if panes is not None and name not in quiet and not _read_at_once(looks, looking, name, records):
                by_host[name] = None
        return _look_all(journal, run, records, by_host, quiet, readers=readers, looking=looking, emit=emit)


def _look_all(journal: Journal, run: RunRecord, records: list[SessionRecord],  # noqa: PLR0913
              by_host: dict[str, dict[str, PaneFacts] | None], quiet: set[str], *, readers: StatusReaders,
              looking: _Looking, emit: rev.EmitRun) -> bool:
    """Each session looked at (a quiet host's keep their last verdict); True when all ended."""
    ended, unseen = 0, False
    for record in records:
        name = record.host or LOCAL_NAME
        panes = by_host[name]
        if name in quiet:
            ended += looking.sites[name].ended.get(record.slug, False)
            continue
        if panes is not None:
            try:
                done = _look_at(journal, run, record, panes, readers, looking, emit)
                looking.sites[name].ended[record.slug] = done
                ended += done
            except (TmuxError, OSError):
                if name == LOCAL_NAME:
                    raise
                looking.failed(name)  # it stopped answering during the look
                panes = by_host[name] = None
        if panes is None:
            unseen = True
            _unreachable(record, looking, emit)
    return ended == len(looking.last) and not unseen


def _read_at_once(looks: contextlib.ExitStack, looking: _Looking, name: str,
                  records: list[SessionRecord]) -> bool:
    """An SSH host's session files for this look, in one round trip (`RemoteHost.looking`);
    False when the host did not answer (backed off from, like a failed look)."""
    host = looking.sites[name].tmux.host
    ask = getattr(host, "looking", None)  # this machine reads its files directly
    mine = [r for r in records if (r.host or LOCAL_NAME) == name and r.phase not in ("planned", "cleaned")]
    if ask is None or not mine:
        return True
    try:
        looks.enter_context(ask([path for r in mine for path in _files_of(r)], [r.worktree for r in mine]))
    except OSError:
        looking.failed(name)
        return False
    return True


def _files_of(record: SessionRecord) -> list[Path]:
    """What a look reads of a session: its exit file first (its output is written before it,
    so an exit file seen means the output read after it is whole)."""
    files = [exit_file(record), Path(record.worktree), Path(record.worktree) / ".git"]
    if record.hook_file:
        hook = Path(record.hook_file)
        files += [ownership_file_for(hook), hook, usage_file_for(hook)]
    if record.stream_file:
        files.append(Path(record.stream_file))
    return files


def _unreachable(record: SessionRecord, looking: _Looking, emit: rev.EmitRun) -> None:
    """A running session whose SSH host does not answer: `unreachable` (never done, never
    failed) until the host answers again and a look says what it is doing."""
    if record.final_state or record.phase not in ("started", "stopped"):
        return
    old = looking.last.get(record.slug)
    if old == SessionState.UNREACHABLE:
        return
    looking.last[record.slug] = SessionState.UNREACHABLE
    emit(rev.SessionStateChanged(run_id=record.run_id, name=record.name, old=old.value if old else "",
                                 new=SessionState.UNREACHABLE.value, source="host",
                                 detail=f"host {record.host} does not answer"))


def _look_at(journal: Journal, run: RunRecord, record: SessionRecord, panes: dict[str, PaneFacts],
             readers: StatusReaders, looking: _Looking, emit: rev.EmitRun) -> bool:
    """Observe one session and journal what changed; True when it has ended (or cannot go on)."""
    last, site = looking.last, looking.sites[record.host or LOCAL_NAME]
    tmux = site.tmux
    seen, problem = observe_session(journal, record, panes, tmux, readers, "running")
    pane = pane_for(record, panes)
    now = time.time()
    final = is_final(seen, pane) if pane else seen.state in TERMINAL
    just_ended = pane is not None and final and not record.final_state
    # progress first: a session journaled `done` already shows its last commit (also when
    # its state reads done a look before its pane is dead)
    ending = just_ended or (seen.state in TERMINAL and last.get(record.slug) != seen.state)
    site.watch(record, pane, seen.cost_usd, emit, now, final=ending, tokens=seen.tokens)
    if record.host not in ("", LOCAL_NAME) and (just_ended or _window_news(looking, record, pane, problem)):
        fetch_session(run, record, looking.hosts, emit)  # its commits here before it reads ended or lost
    _note_change(journal, record, seen, last, emit)
    if pane is not None and just_ended:
        _ended(journal, record, seen, pane, emit, now)
    if seen.agent_session_id and not record.agent_session_id:
        journal.update_session(record.run_id, record.slug, agent_session_id=seen.agent_session_id)
    site.refusals(record, emit)
    _tell_once(looking, record, (pane, problem), emit)
    return final or bool(problem) or record.phase == "cleaned"


def _ended(journal: Journal, record: SessionRecord, seen: Observed, pane: PaneFacts, emit: rev.EmitRun,
           now: float) -> None:
    """The session ended for good: its row gets its end (the report reads it), and the event says
    how (the fold, `status` and the board read that)."""
    ended = max(min(now, pane.dead_at + 1.0) if pane.dead_at else now, record.started_at)
    journal.update_session(record.run_id, record.slug, final_state=seen.state.value, ended_at=ended)
    emit(rev.SessionEnded(run_id=record.run_id, name=record.name, state=seen.state.value, detail=seen.detail,
                          at=ended, exit_status=pane.exit_status))


def _window_news(looking: _Looking, record: SessionRecord, pane: PaneFacts | None, problem: str) -> bool:
    """The session's window is gone for a reason not journaled yet (a host's: lost with its tmux)."""
    return pane is None and record.phase in ("started", "stopped") and bool(problem) \
        and looking.told.get((record.slug, "window")) != problem


def _tell_once(looking: _Looking, record: SessionRecord, seen: tuple[PaneFacts | None, str],
               emit: rev.EmitRun) -> None:
    """Journal a session's window closing and its worktree's trouble, each time it changes."""
    pane, problem = seen
    host = looking.sites[record.host or LOCAL_NAME].tmux.host
    if _window_news(looking, record, pane, problem):
        looking.told[(record.slug, "window")] = problem
        emit(rev.WindowClosed(run_id=record.run_id, name=record.name, detail=problem))
    if record.phase in ("planned", "cleaned"):
        return
    trouble = worktree_trouble(record, host)
    if looking.told.get((record.slug, "worktree"), "") != trouble:
        looking.told[(record.slug, "worktree")] = trouble
        emit(rev.WorktreeGone(run_id=record.run_id, name=record.name, problem=trouble))


def _finish(journal: Journal, run: RunRecord, finished: rev.RunFinished, emit: rev.EmitRun) -> None:
    journal.timing(run.id, "", "run", finished.seconds)
    emit(finished)


def _note_change(journal: Journal, record: SessionRecord, seen: Observed,
                 last: dict[str, SessionState], emit: rev.EmitRun) -> None:
    old = last.get(record.slug)
    if old == seen.state:
        return
    last[record.slug] = seen.state
    waiting = old is None or old in (SessionState.STARTING, SessionState.UNKNOWN)
    if waiting and record.started_at and not record.first_activity_at \
            and seen.state != SessionState.STARTING:
        now = time.time()
        journal.update_session(record.run_id, record.slug, first_activity_at=now)
        journal.timing(record.run_id, record.slug, "first_activity", now - record.started_at)
    event = rev.SessionStateChanged(run_id=record.run_id, name=record.name, old=old.value if old else "",
                                    new=seen.state.value, source=seen.source, detail=seen.detail)
    emit(event)

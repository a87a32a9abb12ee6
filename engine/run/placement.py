"""Which host each session of a run goes to: free slots, and hosts skipped with the reason.

A host's slots are its `max_sessions` (`local`: `max_concurrent_sessions`, unless a
`[[hosts]]` table named local says otherwise) minus the sessions of live runs journaled there.
A host that cannot be reached, lacks what a session needs (git, tmux, python3, the agent's
program) or is full is skipped, and the run says which and why. Sessions are spread: each goes
to the host with the most slots left (the order given breaks ties). When the hosts left have
fewer slots than the run has sessions, nothing is started: the error names the slots and the
skipped hosts, and how to make room.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from engine.core.errors import TmuxError, UsageError
from engine.core.hosts_config import HostSpec, with_local
from engine.hosts.logout import recent_policy
from engine.hosts.registry import LOCAL_NAME, Hosts
from engine.run.journal import Journal, RunRecord
from engine.run.lock import is_held
from engine.run.lookup import tmux_of

NEEDS = ("git", "tmux", "python3")
"""What every session's host must have on its PATH (python3 runs the hooks and the demo agent)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Placement:
    """One host name per subtask, in the plan's order, and the hosts left out with why."""

    hosts: tuple[str, ...]
    skipped: tuple[tuple[str, str], ...] = ()

    def lines(self) -> list[str]:
        """What a face prints before starting: where the sessions go, and what was skipped."""
        counts = {name: self.hosts.count(name) for name in dict.fromkeys(self.hosts)}
        out = ["sessions on " + ", ".join(f"{name} ({n})" for name, n in counts.items())]
        return out + [f"skipped host {name}: {why}" for name, why in self.skipped]


def place(count: int, names: Sequence[str], specs: tuple[HostSpec, ...], local_sessions: int,
          fit: Callable[[str], str], busy: Callable[[str], int]) -> Placement:
    """Spread `count` sessions over the hosts `names` (in config `specs`); `fit(name)` says why a
    host cannot take sessions ("" when it can), `busy(name)` how many it runs now."""
    known = {s.name: s for s in with_local(specs, local_sessions)}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise UsageError(f"host {unknown[0]!r} is not configured (known: {', '.join(known)})",
                         hint=f"add a [[hosts]] table named {unknown[0]!r} to your config, "
                              "or check it with `parallel-tui hosts check`")
    free: dict[str, int] = {}
    skipped: list[tuple[str, str]] = []
    for name in dict.fromkeys(names):
        why = fit(name)
        running = busy(name) if not why else 0
        if not why and running >= known[name].max_sessions:
            why = f"full ({running} of {known[name].max_sessions} sessions running)"
        if why:
            skipped.append((name, why))
        else:
            free[name] = known[name].max_sessions - running
    if sum(free.values()) < count:
        raise UsageError(_short(count, free, skipped),
                         hint="add a host (--hosts a,b), raise its max_sessions in [[hosts]], "
                              "or wait for running sessions to end (`parallel-tui status`)")
    order = list(free)
    chosen: list[str] = []
    for _ in range(count):
        name = max(order, key=lambda n: (free[n], -order.index(n)))
        free[name] -= 1
        chosen.append(name)
    return Placement(hosts=tuple(chosen), skipped=tuple(skipped))


def _short(count: int, free: dict[str, int], skipped: list[tuple[str, str]]) -> str:
    slots = ", ".join(f"{n} {k}" for n, k in free.items()) or "none"
    left = "; ".join(f"{n} skipped: {why}" for n, why in skipped)
    said = f"{count} sessions need {count} slots, free: {slots}; nothing was started"
    return said + (f" ({left})" if left else "")


def host_fit(hosts: Hosts, program: str, extra: tuple[str, ...] = ()) -> Callable[[str], str]:
    """Why a host cannot take sessions now ("" when it can): down, or missing a program (the
    agent's `program`, and `extra`: bubblewrap and socat where a strict sandbox needs them)."""
    def fit(name: str) -> str:
        if name == LOCAL_NAME:
            return ""  # this machine's own checks run in the preflight (agent, sandbox, folders)
        try:
            host = hosts.get(name)
            missing = [p for p in (*NEEDS, program, *extra) if p and host.which(p) is None]
        except OSError as exc:
            return f"down ({getattr(exc, 'problem', None) or exc.strerror or exc})"
        if missing:
            return f"lacks {', '.join(dict.fromkeys(missing))}"
        policy = recent_policy(host)
        return "" if policy.survives else policy.detail
    return fit


def live_sessions(journal: Journal, hosts: Hosts) -> Callable[[str], int]:
    """Sessions started and not ended, per host, of runs that are still followed: a process
    holds the run (its creator or supervisor), or its supervisor's window is up (about to)."""
    counts: dict[str, int] = {}
    for run in journal.runs():
        records = [r for r in journal.sessions(run.id)
                   if r.phase in ("launching", "started") and not r.final_state]
        if not records or not _followed(run, hosts):
            continue
        for record in records:
            counts[record.host or LOCAL_NAME] = counts.get(record.host or LOCAL_NAME, 0) + 1
    return lambda name: counts.get(name, 0)


def _followed(run: RunRecord, hosts: Hosts) -> bool:
    if is_held(f"run:{run.id}"):
        return True
    try:
        return tmux_of(run, hosts.local).supervises(run.id)
    except TmuxError:
        return False

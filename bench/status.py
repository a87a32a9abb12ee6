"""Bench: `status` while a supervisor observes the run, against the floor it cannot go under.

A run of 8 demo sessions with its supervisor alive (private tmux socket, temp state dir).
(1) Whole-process `status --json`, interleaved round by round with the floor it stands on:
`python -c pass` (an interpreter start) and one `tmux list-panes` (the liveness overlay).
Target: t(status) ≤ 3 × t(python -c pass) + t(tmux list-panes). It answers from the
supervisor's snapshot (`engine.run.snapshot_read`, checked to be current before timing); for
contrast the same call through argparse and the Engine (`--jso`, an abbreviation the snapshot
path leaves to argparse), as every `status` was before the snapshot.
(2) The fold of a 20,000-event journal (8 sessions, mostly progress, as a long run leaves it):
`recorded` (the thinned read + fold that `status` does), target ≤ 20 ms; and, for scale,
folding every event.
(3) For contrast, `status` once the supervisor is stopped (it observes once: git and tmux per
session); and the CPU of importing only the standard modules `status` needs, against the same
budget (the floor no lazy import can go under).

Usage: .venv/bin/python bench/status.py [--sessions 8] [--rounds 15] [--events 20000]
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.setup import make_repo
from engine.core import events as rev
from engine.run.fold import fold, journaled, recorded
from engine.run.journal import Journal, RunRecord
from engine.run.lock import is_held
from engine.run.snapshot_read import status_json

MAIN = "import sys; from engine.cli.main import main; sys.exit(main())"


ENV: dict[str, str] = {}
"""The environment of an installed tool (see `main`)."""


CPU: dict[str, list[float]] = {}
"""CPU seconds of each timed process (and its children), by its first words: on a shared
machine wall time swings with the load, CPU time much less."""


def timed(argv: list[str]) -> float:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(argv, check=True, capture_output=True, env=ENV or None)
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    key = ("normal" if "--jso" in argv else "status") if "status" in argv else \
        "tmux" if argv[0] == "tmux" else argv[-1]
    CPU.setdefault(key, []).append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
    return seconds


def wait(what: str, check: Callable[[], bool], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out: {what}")
        time.sleep(0.1)


def start_run(repo: Path, sessions: int) -> str:
    tasks = ",".join(f"s{i}" for i in range(sessions))
    subprocess.run([sys.executable, "-c", MAIN, "run", "--repo", str(repo), "--tasks", tasks, "--agent",
                    "demo", "--yes"], check=True, capture_output=True)
    journal = Journal()
    try:
        run = journal.runs(str(repo))[0]
        wait("the supervisor follows the run", lambda: is_held(f"run:{run.id}"))
        def working() -> bool:
            return len({p["name"] for _a, k, p in journal.events(run.id) if k == "session_state_changed"}) \
                == sessions
        wait("it saw every session work", working)
        return run.id
    finally:
        journal.close()


def status_rounds(repo: Path, socket: str, session: str, rounds: int) -> tuple[float, float, float, float]:
    """Medians of `python -c pass`, `tmux list-panes`, `status --json` and the same through
    argparse and the Engine, interleaved."""
    status = [sys.executable, "-c", MAIN, "status", "--repo", str(repo), "--json"]
    normal = [*status[:-1], "--jso"]
    panes = ["tmux", "-L", socket, "list-panes", "-s", "-t", f"={session}", "-F", "#{window_id}"]
    wait("the supervisor's snapshot is current", lambda: status_json(str(repo), None) is not None)
    timed(status)  # warm-up: the OS cache, .pyc files
    timed(normal)
    starts, lists, statuses, normals = [], [], [], []
    for _ in range(rounds):
        starts.append(timed([sys.executable, "-c", "pass"]))
        lists.append(timed(panes))
        statuses.append(timed(status))
        normals.append(timed(normal))
    return (statistics.median(starts), statistics.median(lists), statistics.median(statuses),
            statistics.median(normals))


STDLIB = "import pathlib, re, typing, enum, dataclasses, json, sqlite3, subprocess, hashlib, argparse"


def stdlib_cpu() -> float:
    """CPU seconds of an interpreter that imports the standard modules `status` cannot do without
    (the journal is SQLite, the overlay a subprocess, the models dataclasses, the CLI argparse)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run([sys.executable, "-c", STDLIB], check=True, env=ENV or None)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime


def fold_bench(n_events: int, sessions: int) -> tuple[float, float, int]:
    """Seconds for `recorded` (thinned read + fold) and for folding every event, best of 5."""
    rng = random.Random(1)
    names = [f"s{i}" for i in range(sessions)]
    with tempfile.TemporaryDirectory(prefix="ptui-fold-") as tmp:
        journal = Journal(Path(tmp) / "j.sqlite3")
        run = RunRecord(id="r", repo="/r", base_sha="0" * 40, base_ref="main", agent="demo", tmux_socket="",
                        tmux_session="", task="t", created_at=time.time(), pid=0)
        journal.add_run(run)
        journal.record(rev.RunStarted(run_id="r", repo="/r", base_sha="0" * 40, sessions=tuple(names)))
        for i in range(n_events - 1):
            name = rng.choice(names)
            if i % 20 == 0:
                new = rng.choice(["working", "idle"])
                event: rev.RunEvent = rev.SessionStateChanged(run_id="r", name=name, old="working", new=new,
                                                              source="hook")
            else:
                event = rev.SessionProgress(run_id="r", name=name, commits=i // 500,
                                            changed_files=tuple(f"src/{name}/{j}.py" for j in range(i % 9)),
                                            cost_usd=i / 1000, last_line=f"step {i}")
            journal.record(event)
        thinned, every = [], []
        for _ in range(5):
            started = time.perf_counter()
            recorded(journal, run)
            thinned.append(time.perf_counter() - started)
            rows = journal.events("r")
            started = time.perf_counter()
            fold("r", journaled(rows))
            every.append(time.perf_counter() - started)
        count = recorded(journal, run).events
        journal.close()
    return min(thinned), min(every), count


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--events", type=int, default=20_000)
    args = parser.parse_args()
    thinned, every, count = fold_bench(args.events, args.sessions)
    print(f"fold of a {count:,}-event journal: recorded (thinned read + fold) {thinned * 1000:.1f} ms "
          f"(target ≤ 20 ms); every event read and folded {every * 1000:.1f} ms")
    socket = f"ptui-bench-{uuid.uuid4().hex[:8]}"
    with tempfile.TemporaryDirectory(prefix="ptui-bench-status-") as tmp:
        root = Path(tmp)
        os.environ.update(PARALLEL_TUI_HOME=str(root / "home"), PARALLEL_TUI_TMUX_SOCKET=socket,
                          PARALLEL_TUI_DEMO_SECONDS="600")
        # compiled modules cached, as an installed tool has them (not PYTHONDONTWRITEBYTECODE)
        ENV.update({k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"},
                   PYTHONPYCACHEPREFIX=str(root / "pycache"))
        try:
            repo = make_repo(root, 200)
            run_id = start_run(repo, args.sessions)
            journal = Journal()
            session = journal.run(run_id).tmux_session  # type: ignore[union-attr]
            start, panes, status, normal = status_rounds(repo, socket, session, args.rounds)
            budget = 3 * start + panes
            print(f"{args.sessions} live demo sessions, supervisor alive ({args.rounds} rounds, medians):")
            print(f"  python -c pass {start * 1000:.0f} ms, tmux list-panes {panes * 1000:.1f} ms, "
                  f"status --json {status * 1000:.0f} ms (through argparse and the Engine: "
                  f"{normal * 1000:.0f} ms)")
            print(f"  budget 3 × start + list-panes = {budget * 1000:.0f} ms; "
                  f"status/budget = {status / budget:.2f} (target ≤ 1; through the Engine "
                  f"{normal / budget:.2f})")
            cpu = {k: statistics.median(v[-args.rounds:]) for k, v in CPU.items()}
            cpu_budget = 3 * cpu["pass"] + cpu["tmux"]
            print(f"  in CPU time (medians): start {cpu['pass'] * 1000:.0f} ms, list-panes "
                  f"{cpu['tmux'] * 1000:.1f} ms, status {cpu['status'] * 1000:.0f} ms; "
                  f"status/budget = {cpu['status'] / cpu_budget:.2f} (through the Engine "
                  f"{cpu['normal'] / cpu_budget:.2f})")
            floor = statistics.median(stdlib_cpu() for _ in range(args.rounds))
            print(f"  the standard library `status` through the Engine needs (pathlib, re, dataclasses, "
                  f"json, sqlite3, subprocess, hashlib, argparse), imported alone: {floor * 1000:.0f} ms "
                  f"CPU = {floor / cpu_budget:.2f} × the budget before any of parallel-tui's own code")
            from engine.hosts.local import LOCAL  # noqa: PLC0415
            from engine.run.supervision import stop  # noqa: PLC0415

            stop(journal.run(run_id), LOCAL)  # type: ignore[arg-type]
            journal.close()
            argv = [sys.executable, "-c", MAIN, "status", "--repo", str(repo), "--json"]
            alone = statistics.median(timed(argv) for _ in range(5))
            print(f"  without a supervisor (observed once: git + tmux per session): status --json "
                  f"{alone * 1000:.0f} ms")
        finally:
            subprocess.run(["tmux", "-L", socket, "kill-server"], check=False, capture_output=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

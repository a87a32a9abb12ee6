"""Bench: run set-up against the raw git + tmux floor, and orchestrator CPU while polling.

On a generated 5,000-file repo: (1) the floor, a bare loop of `git worktree add` +
`tmux new-window` for 8 sessions; (2) the engine's `start_run` for 8 demo sessions
(journal, lock, prompt files, launch checks included); the ratio is (2)/(1), target ≤ 1.3.
(3) `--no-checkout` + 8 checkouts in parallel against sequential `git worktree add`.
(4) CPU of the `--wait` follower (self + the tmux clients it spawns) while 8 sessions
run, after its first seconds (WARM_S, printed apart), target ≤ 3 %. Everything runs in a
temp dir on a private tmux socket.

Usage: .venv/bin/python bench/setup.py [--files 5000] [--sessions 8] [--cpu-seconds 6]
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine.core.config import load_config
from engine.core.models import Subtask
from engine.hosts.host import LOCAL
from engine.hosts.registry import Hosts
from engine.run.follow import follow
from engine.run.journal import Journal
from engine.run.lock import held
from engine.run.lookup import find_run
from engine.run.orchestrator import RunRequest, new_run_id, start_run
from engine.run.session_status import StatusReaders, default_readers
from engine.run.status import run_status

IDENTITY = ["-c", "user.name=bench", "-c", "user.email=bench@invalid", "-c", "commit.gpgsign=false"]


def sh(*argv: str, cwd: Path | None = None) -> None:
    subprocess.run(argv, cwd=cwd, check=True, capture_output=True)


def make_repo(root: Path, files: int) -> Path:
    repo = root / "big"
    sh("git", "init", "-q", "-b", "main", str(repo))
    for i in range(files):
        path = repo / f"pkg{i % 50:02d}" / f"mod{i}.py"
        path.parent.mkdir(exist_ok=True)
        path.write_text(f"VALUE_{i} = {i}\n" * 20)
    sh("git", "add", "-A", cwd=repo)
    sh("git", *IDENTITY, "commit", "-q", "-m", "init", cwd=repo)
    return repo


def floor(repo: Path, socket: str, n: int) -> float:
    """The raw floor: sequential `git worktree add` + `tmux new-window`, nothing else."""
    tmux = ["tmux", "-L", socket]
    started = time.perf_counter()
    sh(*tmux, "new-session", "-d", "-s", "floor")
    for i in range(n):
        path = repo.parent / "floor" / f"w{i}"
        sh("git", "-C", str(repo), "worktree", "add", "-q", "-b", f"floor/{i}", str(path), "HEAD")
        sh(*tmux, "new-window", "-d", "-t", "floor:", "-n", f"w{i}", "-c", str(path), "--", "sleep", "60")
    seconds = time.perf_counter() - started
    sh(*tmux, "kill-session", "-t", "floor")
    return seconds


def checkout_modes(repo: Path, n: int) -> tuple[float, float]:
    """Seconds for n sequential `worktree add` vs n `--no-checkout` adds + parallel checkouts."""
    started = time.perf_counter()
    for i in range(n):
        path = repo.parent / "seq" / f"{i}"
        sh("git", "-C", str(repo), "worktree", "add", "-q", "-b", f"seq/{i}", str(path))
    sequential = time.perf_counter() - started
    started = time.perf_counter()
    paths = [repo.parent / "par" / f"{i}" for i in range(n)]
    for i, path in enumerate(paths):
        sh("git", "-C", str(repo), "worktree", "add", "-q", "--no-checkout", "-b", f"par/{i}", str(path))
    with ThreadPoolExecutor(max_workers=n) as pool:
        list(pool.map(lambda p: sh("git", "-C", str(p), "reset", "-q", "--hard"), paths))
    return sequential, time.perf_counter() - started


def engine_start(repo: Path, n: int, journal: Journal) -> tuple[float, str]:
    config = load_config(repo)
    request = RunRequest(repo=repo, task="bench", agent="demo",
                         subtasks=tuple(Subtask(name=f"s{i}", description=f"bench {i}") for i in range(n)))
    run_id = new_run_id()
    started = time.perf_counter()
    with held(f"run:{run_id}", "bench run"):
        run = start_run(request, config, journal, run_id, StatusReaders(), hosts=Hosts(LOCAL))
    seconds = time.perf_counter() - started
    assert all(s.phase == "started" for s in run.sessions), run.sessions
    return seconds, run_id


WARM_S = 8.0
"""A new follower's first seconds, timed apart: its first looks read git in every fresh worktree
and its boundary watch runs twice as the sessions settle (about 2 s each here); the target is
what following costs while the sessions run."""


def follower_cpu(repo: Path, run_id: str, journal: Journal, seconds: float) -> tuple[float, float]:
    """CPU % of the follower (self + its tmux/git children) over its first WARM_S, then over
    `seconds` of polling after them (it runs in a thread; this one only sleeps meanwhile)."""
    run = find_run(journal, repo, run_id)
    with ThreadPoolExecutor(max_workers=1) as pool:
        start = usage()
        following = pool.submit(follow, journal, run, default_readers(), timeout_s=WARM_S + seconds,
                                hosts=Hosts(LOCAL))
        time.sleep(WARM_S)
        before = usage()
        started = time.perf_counter()
        time.sleep(seconds)
        after, wall = usage(), time.perf_counter() - started
        following.result()
    return 100 * (before - start) / WARM_S, 100 * (after - before) / wall


def usage() -> float:
    """CPU seconds of this process and its waited-for children so far."""
    return sum(u.ru_utime + u.ru_stime for u in (resource.getrusage(resource.RUSAGE_SELF),
                                                 resource.getrusage(resource.RUSAGE_CHILDREN)))


def status_call(repo: Path, run_id: str, journal: Journal) -> float:
    """Seconds for one full `status` of the run (best of 3): a change shows within this."""
    run = find_run(journal, repo, run_id)
    times = []
    for _ in range(3):
        started = time.perf_counter()
        run_status(journal, run, default_readers(), Hosts(LOCAL))
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=5000)
    parser.add_argument("--sessions", type=int, default=8)
    parser.add_argument("--cpu-seconds", type=float, default=6.0)
    args = parser.parse_args()
    socket = f"ptui-bench-{uuid.uuid4().hex[:8]}"
    with tempfile.TemporaryDirectory(prefix="ptui-bench-") as tmp:
        root = Path(tmp)
        os.environ.update(PARALLEL_TUI_HOME=str(root / "home"), PARALLEL_TUI_TMUX_SOCKET=socket,
                          PARALLEL_TUI_DEMO_SECONDS=str(args.cpu_seconds + WARM_S + 30))
        try:
            repo = make_repo(root, args.files)
            sequential, parallel = checkout_modes(repo, args.sessions)  # also warms the caches
            floor_s = floor(repo, socket, args.sessions)
            journal = Journal()
            engine_s, run_id = engine_start(repo, args.sessions, journal)
            settling, cpu = follower_cpu(repo, run_id, journal, args.cpu_seconds)
            status_s = status_call(repo, run_id, journal)
        finally:
            subprocess.run(["tmux", "-L", socket, "kill-server"], capture_output=True, check=False)
            tmpdir = Path(os.environ.get("TMUX_TMPDIR") or "/tmp") / f"tmux-{os.getuid()}"
            (tmpdir / socket).unlink(missing_ok=True)
    n = args.sessions
    print(f"repo: {args.files} files; {n} sessions")
    print(f"floor (git worktree add + tmux new-window) x{n}: {floor_s:.3f}s")
    print(f"engine start_run x{n} (demo agent):           {engine_s:.3f}s  ratio {engine_s / floor_s:.2f}"
          f" (target ≤ 1.3)")
    print(f"worktree add sequential x{n}: {sequential:.3f}s; --no-checkout + parallel checkout: "
          f"{parallel:.3f}s -> {'parallel' if parallel < sequential else 'sequential'} is faster")
    print(f"follower CPU while {n} sessions run: {cpu:.2f}% (target ≤ 3%); over its first {WARM_S:.0f} s, "
          f"as it starts following: {settling:.1f}%")
    print(f"one `status` of {n} live sessions: {status_s * 1000:.0f} ms (a state change shows within "
          f"this; the --wait follower adds its 0.5 s poll; target ≤ 2 s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Bench: the live overlap radar's cost with 8 live sessions, against the raw git floor.

On a generated 5,000-file repo, 8 demo sessions run on a private tmux socket (idle: each
sleeps before its one edit). Measured in the same run: (1) the floor, the cheapest git can
say whether anything changed — `git status --porcelain` in each of the 8 worktrees; (2) the
old, naive look — snapshot every worktree (read-tree, add -A, write-tree, commit-tree) and
`merge-tree` all 28 pairs; (3) the radar's look with nothing changed, and (4) with every
worktree changing (each edits its own file every second; two also edit README.md, so one
pair conflicts and merge-tree runs). Then the radar's CPU (this process's threads: the
radar's and its watchers', less the editing thread's own; + the git it starts) as % of one
core over a window at its real interval, idle and changing. Target: ≤ 3 %.

Usage: .venv/bin/python bench/radar.py [--files 5000] [--sessions 8] [--seconds 30] [--every 5]
"""

from __future__ import annotations

import argparse
import itertools
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.setup import engine_start, make_repo
from engine.run.journal import Journal, RunRecord
from engine.run.radar import Radar


def best_ms(work: Callable[[], object], rounds: int = 5) -> float:
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return 1000 * min(times)


def git(cwd: Path, *args: str, env: dict[str, str] | None = None) -> str:
    return subprocess.run(["git", "-C", str(cwd), *args], capture_output=True, text=True, check=False,
                          env={**os.environ, **(env or {})}).stdout.strip()


def floor(trees: list[Path]) -> None:
    for tree in trees:
        git(tree, "status", "--porcelain")


def naive(repo: Path, trees: list[Path], tmp: Path) -> None:
    """The radar before: four git calls per worktree and merge-tree for every pair, every look."""
    env = {"GIT_AUTHOR_NAME": "b", "GIT_AUTHOR_EMAIL": "b@invalid", "GIT_COMMITTER_NAME": "b",
           "GIT_COMMITTER_EMAIL": "b@invalid"}
    snaps = []
    for i, tree in enumerate(trees):
        index = {"GIT_INDEX_FILE": str(tmp / f"naive{i}"), **env}
        git(tree, "read-tree", "HEAD", env=index)
        git(tree, "add", "-A", env=index)
        snaps.append(git(tree, "commit-tree", git(tree, "write-tree", env=index), "-p", "HEAD", "-m", "r",
                         env=index))
    for a, b in itertools.combinations(snaps, 2):
        git(repo, "merge-tree", "--write-tree", "--name-only", a, b)


class Editor(threading.Thread):
    """Edits each worktree's own file every second (two also edit README.md)."""

    def __init__(self, trees: list[Path]) -> None:
        super().__init__(daemon=True)
        self.trees, self.stop = trees, threading.Event()
        self.cpu = 0.0
        """Its own CPU (seconds): not the radar's."""

    def run(self) -> None:
        n = 0
        while not self.stop.wait(1.0):
            n += 1
            for i, tree in enumerate(self.trees):
                (tree / f"edit{i}.txt").write_text(f"edit {n}\n")
                if i < 2:
                    (tree / "README.md").write_text(f"side {i} edit {n}\n")
        self.cpu = time.thread_time()


def cpu_percent(radar: Radar, seconds: float, every: float,
                editor: Editor | None = None) -> tuple[float, int]:
    """The radar's CPU (this process: its thread and its watchers' threads, less the editor's;
    + its git children) as % of a core, looking every `every`."""
    own0, kids0 = time.process_time(), resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    looks = 0
    while time.perf_counter() - started < seconds:
        radar.look()
        looks += 1
        time.sleep(max(0.0, every - (time.perf_counter() - started) % every))
    wall = time.perf_counter() - started
    if editor is not None:
        editor.stop.set()
        editor.join()
    own = time.process_time() - own0 - (editor.cpu if editor is not None else 0.0)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = own + kids.ru_utime + kids.ru_stime - kids0.ru_utime - kids0.ru_stime
    return 100 * cpu / wall, looks


def look_cost(radar: Radar) -> tuple[float, float]:
    """A look with nothing changed: (wall ms, CPU ms of this process), the best of 5."""
    walls, cpus = [], []
    for _ in range(5):
        wall0, cpu0 = time.perf_counter(), time.process_time()
        radar.look()
        walls.append(time.perf_counter() - wall0)
        cpus.append(time.process_time() - cpu0)
    return 1000 * min(walls), 1000 * min(cpus)


def measure(run: RunRecord, journal: Journal, trees: list[Path], args: argparse.Namespace,
            tmp: Path) -> None:
    repo = Path(run.repo)
    radar = Radar(journal, run, lambda _e: None, args.every)
    radar.look()
    floor_ms = best_ms(lambda: floor(trees))
    naive_ms = best_ms(lambda: naive(repo, trees, tmp), rounds=3)
    idle_ms, idle_cpu_ms = look_cost(radar)
    idle_cpu, idle_looks = cpu_percent(radar, args.seconds, args.every)

    def changed_look() -> None:
        for i, tree in enumerate(trees):
            (tree / f"edit{i}.txt").write_text(f"{time.time_ns()}\n")
        radar.look()
    changed_ms = best_ms(changed_look, rounds=3)
    editor = Editor(trees)
    editor.start()
    busy_cpu, busy_looks = cpu_percent(radar, args.seconds, args.every, editor)
    radar.close()
    n = len(trees)
    print(f"repo: {args.files} files; {n} live demo sessions; radar every {args.every:g} s")
    print(f"floor (git status --porcelain x{n}):                {floor_ms:7.1f} ms")
    print(f"naive look (snapshot x{n} + merge-tree x{n * (n - 1) // 2}):        {naive_ms:7.1f} ms"
          f"  ratio {naive_ms / floor_ms:.2f}")
    print(f"radar look, nothing changed:                     {idle_ms:7.1f} ms"
          f"  ratio {idle_ms / floor_ms:.2f}  (CPU {idle_cpu_ms:.2f} ms)")
    print(f"radar look, all {n} worktrees changed:             {changed_ms:7.1f} ms"
          f"  ratio {changed_ms / floor_ms:.2f}")
    print(f"radar CPU, {n} idle sessions, {idle_looks} looks in {args.seconds:g} s:    "
          f"{idle_cpu:5.2f} % of a core (target ≤ 3 %)")
    print(f"radar CPU, {n} sessions editing, {busy_looks} looks in {args.seconds:g} s: "
          f"{busy_cpu:5.2f} % of a core (target ≤ 3 %); conflicts seen: {len(radar.pairs)}")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=5000)
    parser.add_argument("--sessions", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--every", type=float, default=5.0, help="radar_every_s (the default is 5)")
    args = parser.parse_args()
    socket = f"ptui-bench-{uuid.uuid4().hex[:8]}"
    with tempfile.TemporaryDirectory(prefix="ptui-bench-") as tmp:
        root = Path(tmp)
        os.environ.update(PARALLEL_TUI_HOME=str(root / "home"), PARALLEL_TUI_TMUX_SOCKET=socket,
                          PARALLEL_TUI_DEMO_SECONDS=str(4 * args.seconds + 120),
                          PARALLEL_TUI_SUPERVISOR="false", PARALLEL_TUI_RADAR_EVERY_S="0")
        try:
            repo = make_repo(root, args.files)
            journal = Journal()
            _seconds, run_id = engine_start(repo, args.sessions, journal)
            run = journal.run(run_id)
            assert run is not None
            trees = [Path(s.worktree) for s in journal.sessions(run_id)]
            measure(run, journal, trees, args, root)
        finally:
            subprocess.run(["tmux", "-L", socket, "kill-server"], capture_output=True, check=False)
            tmpdir = Path(os.environ.get("TMUX_TMPDIR") or "/tmp") / f"tmux-{os.getuid()}"
            (tmpdir / socket).unlink(missing_ok=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

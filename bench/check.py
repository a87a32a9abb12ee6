"""Bench: the `check` conflict matrix against the raw `git merge-tree` floor.

On a generated 5,000-file repo with 8 branches (each edits its own files, and each one
line of a shared file: neighbouring lines, which git merges as one hunk, so every pair
conflicts there and the order blocks all but the first), it times
(1) the floor: the same merge-tree calls — 8 branches against the target plus the 28
pairs — run back to back from a shell loop, one process each, and (2) the engine's `check`
(branch facts, the matrix with hunks in one `merge-tree --stdin` batch per core, the
simulated merge order beside the pairs), interleaved round by round so a machine whose
speed swings affects both alike. Target: ratio ≤ 1.3.
(3) `check --json` as a whole process (the CLI a person runs: Python start, imports, git's
branch reads, the matrix, the order), against the floor plus one `python -c pass`.
Target: ≤ 2 × (36 bare merge-trees + a Python start).
With `--apart` no file is shared (no conflict): `check` skips the simulated order then, since
such branches merge in the given order (`engine.merge.check._cannot_conflict`).

Usage: .venv/bin/python bench/check.py [--files 5000] [--branches 8] [--rounds 5] [--apart]
"""

from __future__ import annotations

import argparse
import itertools
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.setup import IDENTITY, make_repo, sh
from engine.hosts.gitrepo import open_repo
from engine.merge.check import check


def make_branches(repo: Path, n: int, *, apart: bool = False) -> list[str]:
    """Each branch edits files of its own package, and line i of one shared file (lines next to
    each other: one hunk to git, so every pair conflicts in it). `apart`: no shared file."""
    names = []
    for i in range(n):
        name = f"b{i}"
        sh("git", "checkout", "-q", "-b", name, "main", cwd=repo)
        for j in range(5):
            path = repo / f"pkg{i:02d}" / f"mod{i + 50 * j}.py"
            path.write_text(path.read_text() + f"# branch {i}\n")
        if not apart:
            shared = repo / "pkg49" / "mod49.py"
            lines = shared.read_text().splitlines(keepends=True)
            lines[i] = f"EDIT_{i} = {i}\n"
            shared.write_text("".join(lines))
        sh("git", "add", "-A", cwd=repo)
        sh("git", *IDENTITY, "commit", "-q", "-m", f"work {i}", cwd=repo)
        names.append(name)
    sh("git", "checkout", "-q", "main", cwd=repo)
    return names


CPU: list[tuple[str, float]] = []
"""(what, CPU seconds of the child processes) of each process-level measurement: on a shared
machine wall time swings with the load, CPU time much less."""


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def floor(repo: Path, names: list[str]) -> float:
    """The same merge-tree calls from a shell loop, nothing else."""
    calls = [f"main {b}" for b in names] + [f"{a} {b}" for a, b in itertools.combinations(names, 2)]
    script = "for p in " + " ".join(f"'{c}'" for c in calls) + \
        "; do git merge-tree --write-tree -z --name-only $p >/dev/null; done"
    started, cpu = time.perf_counter(), children_cpu()
    subprocess.run(["sh", "-c", script], cwd=repo, check=False)
    CPU.append(("floor", children_cpu() - cpu))
    return time.perf_counter() - started


RISK = ["HIGH"]
"""The risk the bench repo has: HIGH with its one conflict, LOW with `--apart`."""


def engine(repo: Path, names: list[str], *, order: bool) -> float:
    """`check` as the CLI runs it; without `order`, the matrix alone (what the floor does)."""
    started = time.perf_counter()
    with open_repo(repo) as g:
        main = g.sha("refs/heads/main") or ""
        report = check(g, "main", main, [(n, g.sha(f"refs/heads/{n}") or "") for n in names], order=order)
    seconds = time.perf_counter() - started
    assert report.conflict_risk.value == RISK[0], report.risk_reason
    return seconds


MAIN = "import sys; from engine.cli.main import main; sys.exit(main())"


def installed_env(tmp: Path) -> dict[str, str]:
    """The environment of an installed tool: compiled modules cached (a test or CI setting of
    PYTHONDONTWRITEBYTECODE would make every start compile the sources), outside the tree."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    return {**env, "PYTHONPYCACHEPREFIX": str(tmp / "pycache"), "PARALLEL_TUI_HOME": str(tmp / "home")}


def python_start(env: dict[str, str]) -> float:
    started, cpu = time.perf_counter(), children_cpu()
    subprocess.run([sys.executable, "-c", "pass"], check=True, env=env)
    CPU.append(("start", children_cpu() - cpu))
    return time.perf_counter() - started


def whole_process(repo: Path, names: list[str], env: dict[str, str]) -> float:
    """`check --json` as the person runs it, in its own process (exit 6: the bench's conflict)."""
    argv = [sys.executable, "-c", MAIN, "check", "--repo", str(repo), "--json", "--into", "main", *names]
    started, cpu = time.perf_counter(), children_cpu()
    proc = subprocess.run(argv, capture_output=True, check=False, env=env)
    seconds = time.perf_counter() - started
    CPU.append(("process", children_cpu() - cpu))
    assert proc.returncode == (6 if RISK[0] == "HIGH" else 0), proc.stderr
    return seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=5000)
    parser.add_argument("--branches", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--apart", action="store_true", help="branches share no file (no conflict)")
    args = parser.parse_args()
    RISK[0] = "LOW" if args.apart else "HIGH"
    with tempfile.TemporaryDirectory(prefix="bench-check-") as tmp:
        repo = make_repo(Path(tmp), args.files)
        names = make_branches(repo, args.branches, apart=args.apart)
        pairs = args.branches * (args.branches - 1) // 2
        print(f"{args.files} files, {args.branches} branches: {pairs} pairs + {args.branches} against main")
        engine(repo, names, order=False)  # warm-up: `import git` and the OS cache, not measured
        floors, matrices, fulls, starts, processes = [], [], [], [], []
        env = installed_env(Path(tmp))
        whole_process(repo, names, env)  # warm-up (and the compiled modules' cache), not measured
        for _ in range(args.rounds):
            floors.append(floor(repo, names))
            matrices.append(engine(repo, names, order=False))
            fulls.append(engine(repo, names, order=True))
            starts.append(python_start(env))
            processes.append(whole_process(repo, names, env))
        f, m, full, start, process = (statistics.median(x)
                                      for x in (floors, matrices, fulls, starts, processes))
        print(f"floor (shell loop of merge-tree):   median {f:.3f}s  {[round(x, 3) for x in floors]}")
        print(f"engine matrix (facts + 36 merges):  median {m:.3f}s  {[round(x, 3) for x in matrices]}")
        print(f"engine check (matrix + order):      median {full:.3f}s  {[round(x, 3) for x in fulls]}")
        print(f"ratio matrix/floor: {m / f:.2f} (target ≤ 1.3); whole check/floor: {full / f:.2f}")
        print(f"check --json, whole process:        median {process:.3f}s  "
              f"{[round(x, 3) for x in processes]}")
        print(f"python -c pass:                     median {start:.3f}s")
        print(f"ratio process/(floor + python start): {process / (f + start):.2f} (target ≤ 2)")
        cpu = {k: statistics.median(s for what, s in CPU[-3 * args.rounds:] if what == k)
               for k in ("floor", "start", "process")}
        ratio = cpu["process"] / (cpu["floor"] + cpu["start"])
        print(f"the same in CPU time (children, medians): floor {cpu['floor']:.3f}s, "
              f"start {cpu['start']:.3f}s, process {cpu['process']:.3f}s; ratio {ratio:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

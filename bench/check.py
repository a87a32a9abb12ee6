"""Bench: the `check` conflict matrix against the raw `git merge-tree` floor.

On a generated 5,000-file repo with 8 branches (each edits its own files, pairs share a
file edited in different hunks, one pair conflicts on one line), it times
(1) the floor: the same merge-tree calls — 8 branches against the target plus the 28
pairs — run back to back from a shell loop, and (2) the engine's `check` (branch facts,
the matrix with hunks, the simulated merge order, concurrent pairs), interleaved round
by round so a machine whose speed swings affects both alike. Target: ratio ≤ 1.3.

Usage: .venv/bin/python bench/check.py [--files 5000] [--branches 8] [--rounds 5]
"""

from __future__ import annotations

import argparse
import itertools
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


def make_branches(repo: Path, n: int) -> list[str]:
    """Each branch edits files of its own package; neighbours share one file in other hunks;
    branches 0 and 1 also change the same line (one real conflict)."""
    names = []
    for i in range(n):
        name = f"b{i}"
        sh("git", "checkout", "-q", "-b", name, "main", cwd=repo)
        for j in range(5):
            path = repo / f"pkg{i:02d}" / f"mod{i + 50 * j}.py"
            path.write_text(path.read_text() + f"# branch {i}\n")
        shared = repo / "pkg49" / "mod49.py"
        lines = shared.read_text().splitlines(keepends=True)
        lines[min(i, 1) if i < 2 else i] = f"EDIT_{i} = {i}\n"
        shared.write_text("".join(lines))
        sh("git", "add", "-A", cwd=repo)
        sh("git", *IDENTITY, "commit", "-q", "-m", f"work {i}", cwd=repo)
        names.append(name)
    sh("git", "checkout", "-q", "main", cwd=repo)
    return names


def floor(repo: Path, names: list[str]) -> float:
    """The same merge-tree calls from a shell loop, nothing else."""
    calls = [f"main {b}" for b in names] + [f"{a} {b}" for a, b in itertools.combinations(names, 2)]
    script = "for p in " + " ".join(f"'{c}'" for c in calls) + \
        "; do git merge-tree --write-tree -z --name-only $p >/dev/null; done"
    started = time.perf_counter()
    subprocess.run(["sh", "-c", script], cwd=repo, check=False)
    return time.perf_counter() - started


def engine(repo: Path, names: list[str], *, order: bool) -> float:
    """`check` as the CLI runs it; without `order`, the matrix alone (what the floor does)."""
    started = time.perf_counter()
    with open_repo(repo) as g:
        main = g.sha("refs/heads/main") or ""
        report = check(g, "main", main, [(n, g.sha(f"refs/heads/{n}") or "") for n in names], order=order)
    seconds = time.perf_counter() - started
    assert report.conflict_risk.value == "HIGH", "the bench repo has one conflict"
    return seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=5000)
    parser.add_argument("--branches", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-check-") as tmp:
        repo = make_repo(Path(tmp), args.files)
        names = make_branches(repo, args.branches)
        pairs = args.branches * (args.branches - 1) // 2
        print(f"{args.files} files, {args.branches} branches: {pairs} pairs + {args.branches} against main")
        engine(repo, names, order=False)  # warm-up: `import git` and the OS cache, not measured
        floors, matrices, fulls = [], [], []
        for _ in range(args.rounds):
            floors.append(floor(repo, names))
            matrices.append(engine(repo, names, order=False))
            fulls.append(engine(repo, names, order=True))
        f, m, full = (statistics.median(x) for x in (floors, matrices, fulls))
        print(f"floor (shell loop of merge-tree):   median {f:.3f}s  {[round(x, 3) for x in floors]}")
        print(f"engine matrix (facts + 36 merges):  median {m:.3f}s  {[round(x, 3) for x in matrices]}")
        print(f"engine check (matrix + order):      median {full:.3f}s  {[round(x, 3) for x in fulls]}")
        print(f"ratio matrix/floor: {m / f:.2f} (target ≤ 1.3); whole check/floor: {full / f:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

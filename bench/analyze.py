"""Benchmark `analyze` against the raw git floor measured in the same run.

    python bench/analyze.py                 # generates a 50,000-file repo under bench/out/
    python bench/analyze.py --repo PATH     # any existing repo
    python bench/analyze.py --files 5000    # a smaller generated repo

Absolute times swing on shared machines, so the result is a ratio: analyze's cold time over
the floor (`git ls-files -z | xargs -0 cat | wc -l` plus the churn `git log`), best of N runs
each. Targets: cold ≤ 3x the floor; a cached run under 0.1 s.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine.analysis.profile import analyze_repo  # noqa: E402
from engine.core.config import ParallelConfig  # noqa: E402

IDENTITY = ["-c", "user.name=bench", "-c", "user.email=bench@parallel-tui.invalid"]


def generate(root: Path, files: int) -> Path:
    """A repo of `files` small source files in 50 modules, with a little history."""
    if (root / ".git").is_dir():
        return root
    root.mkdir(parents=True)
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    body = "".join(f"line {i} of a generated source file\n" for i in range(40))
    for i in range(files):
        path = root / f"mod{i % 50:02d}" / f"pkg{i % 7}" / f"file{i}.py"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(body)
    subprocess.run(["git", *IDENTITY, "-C", str(root), "add", "-A"], check=True)
    subprocess.run(["git", *IDENTITY, "-C", str(root), "commit", "-qm", "generated"], check=True)
    for n in range(20):
        (root / f"mod{n:02d}" / "hot.py").write_text(f"v{n}\n")
        subprocess.run(["git", *IDENTITY, "-C", str(root), "add", "-A"], check=True)
        subprocess.run(["git", *IDENTITY, "-C", str(root), "commit", "-qm", f"c{n}"], check=True)
    return root


def floor(repo: Path) -> None:
    """The least any analysis must do: read every tracked file once, and the churn log."""
    subprocess.run("git ls-files -z | xargs -0 cat | wc -l", shell=True, cwd=repo, check=True,
                   stdout=subprocess.DEVNULL)
    subprocess.run(["git", "log", "--since=30.days.ago", "--name-only", "--format=%H"], cwd=repo,
                   check=True, stdout=subprocess.DEVNULL)


def best_of(runs: int, fn: Callable[[], object]) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repo", type=Path, help="benchmark this repo instead of a generated one")
    parser.add_argument("--files", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    repo = args.repo or generate(ROOT / "bench" / "out" / f"repo{args.files}", args.files)
    config = ParallelConfig()
    with tempfile.TemporaryDirectory() as home:
        os.environ["PARALLEL_TUI_HOME"] = home
        floor(repo)  # warm the page cache for both sides alike
        floor_s = best_of(args.runs, lambda: floor(repo))
        cold_s = best_of(args.runs, lambda: analyze_repo(repo, config, use_cache=False))
        analyze_repo(repo, config)
        cached_s = best_of(args.runs, lambda: analyze_repo(repo, config))
        profile = analyze_repo(repo, config)
    print(f"repo: {repo} ({profile.files} files, {profile.loc} LOC, {len(profile.modules)} modules)")
    print(f"floor (ls-files|cat|wc + churn log): {floor_s:.3f} s")
    print(f"analyze cold:   {cold_s:.3f} s  = {cold_s / floor_s:.2f}x the floor (target ≤ 3x)")
    print(f"analyze cached: {cached_s * 1000:.1f} ms = {cached_s / floor_s:.3f}x the floor "
          f"(target < 100 ms)")
    ok = cold_s <= 3 * floor_s and cached_s < 0.1
    print("PASS" if ok else "MISS")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())

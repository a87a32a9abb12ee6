"""Bench: how wrong is the overhead model, before and after it calibrates itself?

Demo-agent runs whose work time is known (`demo_seconds` per session), so the error
isolates the overhead model: each run has N sessions of W seconds of work, so the
sequential time is N × W, and the model predicts total(N) = parallel + overhead. For each
run it prints |actual − predicted| / actual for the total and for each calibrated constant
against the share of the wall time that run measured for it (worktree creation, session
start-up, merge per branch; see engine/report/calibration.py), with the spec's seed
constants and with the constants calibrated from the runs before it (the model switches to
measured medians after 3 runs). The demo agent builds no context, so
`context_building_time` is 0 in this bench's config (said, not hidden). Finally the same
work runs once as one sequential session, for a measured-vs-measured savings figure.

Usage: .venv/bin/python bench/calibration.py [--runs 5] [--sessions 3] [--work 3] [--files 500]
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import io
import json
import os
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.setup import make_repo
from engine.cli.main import main as cli
from engine.core.config import ParallelConfig
from engine.hosts.host import LOCAL
from engine.hosts.registry import Hosts
from engine.planning.overhead import row
from engine.report.calibration import calibrate, run_shares
from engine.report.efficiency import run_report
from engine.run.journal import open_journal

CONSTANTS = ("worktree_creation_time", "session_startup_time", "merge_time_per_branch")


def call(*argv: str) -> dict[str, object]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        code = cli(list(argv))
    if code != 0:
        raise SystemExit(f"parallel-tui {' '.join(argv)} exited {code}")
    text = out.getvalue()
    return json.loads(text) if text.strip().startswith("{") else {}


def one_run(repo: Path, names: list[str], work: float,
            sequential_min: float) -> tuple[float, dict[str, float]]:
    """A run whose plan records the true sequential time (so the coordination factor can
    calibrate too), merged; its measured wall time and stage medians."""
    os.environ["PARALLEL_TUI_DEMO_SECONDS"] = str(work)
    plan = repo.parent / f"{names[0]}.plan.json"
    plan.write_text(json.dumps({
        "task": "bench", "estimate": {"sequential_minutes": sequential_min},
        "subtasks": [{"name": name, "description": "bench work", "files_to_create": [f"demo/{name}.md"]}
                     for name in names]}))
    call("run", "--repo", str(repo), "--plan", str(plan), "--agent", "demo", "--yes", "--wait", "--json")
    call("merge", "--repo", str(repo), "--yes", "--no-verify", "--json")
    with open_journal() as journal:
        run = journal.runs(str(repo))[0]
        report = run_report(journal, run, Hosts(LOCAL))
        shares = run_shares(journal, run)
    os.environ.pop("PARALLEL_TUI_DEMO_SECONDS")
    assert report.outcome == "merged" and report.actual.wall_seconds is not None
    return report.actual.wall_seconds, shares


def err(actual: float | None, predicted: float) -> str:
    return "  n/a" if not actual else f"{abs(actual - predicted) / actual * 100:5.0f}%"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--sessions", type=int, default=3)
    parser.add_argument("--work", type=float, default=3.0, help="seconds of work per session")
    parser.add_argument("--files", type=int, default=500)
    args = parser.parse_args()
    socket = f"ptui-calib-{uuid.uuid4().hex[:8]}"
    n, work = args.sessions, args.work
    seed = dataclasses.replace(ParallelConfig(), context_building_time=0.0)
    sequential_min = n * work / 60
    with tempfile.TemporaryDirectory(prefix="ptui-calib-") as tmp:
        root = Path(tmp)
        os.environ.update(PARALLEL_TUI_HOME=str(root / "home"), PARALLEL_TUI_TMUX_SOCKET=socket,
                          PARALLEL_TUI_CONTEXT_BUILDING_TIME="0")
        try:
            repo = make_repo(root, args.files)
            print(f"{n} sessions × {work:g}s of demo work, {args.files} files; "
                  "error = |actual − predicted| / actual")
            print(f"{'run':>3} {'actual':>8} {'seed total':>10} {'err':>6} {'calibrated':>10} {'err':>6}   "
                  "stage errors seed → calibrated (wt / start-up / merge)")
            for i in range(args.runs):
                with open_journal() as journal:
                    calibrated, sources = calibrate(journal, str(repo), "demo", seed)
                names = [f"r{i}s{j}" for j in range(n)]
                wall, stages = one_run(repo, names, work, sequential_min)
                seed_total = row(sequential_min, n, seed).total_minutes * 60
                cal_total = row(sequential_min, n, calibrated).total_minutes * 60
                measured_from = sum(1 for s in sources if s.source == "measured")
                stage_errs = "  ".join(
                    f"{err(stages.get(c), getattr(seed, c))}→{err(stages.get(c), getattr(calibrated, c))}"
                    for c in CONSTANTS)
                print(f"{i + 1:>3} {wall:7.1f}s {seed_total:9.1f}s {err(wall, seed_total)} {cal_total:9.1f}s "
                      f"{err(wall, cal_total)}   {stage_errs}   ({measured_from} constants measured)")
            os.environ["PARALLEL_TUI_DEMO_SECONDS"] = str(n * work)
            seq_wall, _ = one_run(repo, ["sequential"], n * work, sequential_min)
            print(f"same work as one sequential session: {seq_wall:.1f}s measured; parallel run: {wall:.1f}s "
                  f"→ measured-vs-measured savings {(seq_wall - wall) / seq_wall * 100:.0f}%")
        finally:
            subprocess.run(["tmux", "-L", socket, "kill-server"], capture_output=True, check=False)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

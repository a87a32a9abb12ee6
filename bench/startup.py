"""Bench: how long the CLI takes to start, against a bare interpreter and the git it must run.

Status polling, slash commands and scripts call `parallel-tui` often, so its start-up is
product time. On a small generated repo with a finished demo run (private tmux socket,
temp PARALLEL_TUI_HOME) this times, interleaved round by round so load hits all alike:
`python -c pass`; `parallel-tui --help`; a cached `analyze --json`; `status --json`; and, as
the floor, the very git (and tmux) calls each verb made, replayed by a shell script (they
are recorded once through logging wrappers on PATH). Goals: `--help` ≤ 5× `python -c pass`;
cached `analyze` ≤ 3× (`python -c pass` + its git floor). `status` is shown the same way.

With `--against TREE` (another checkout's source, e.g. `git archive main | tar -x -C /tmp/old`)
the three CLI calls are also timed with that tree's `engine` first on PYTHONPATH, in the same
rounds, so a change is measured before and after under the same load.

Usage: .venv/bin/python bench/startup.py [--rounds 15] [--files 200] [--against TREE]
"""

from __future__ import annotations

import argparse
import os
import resource
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

IDENTITY = ["-c", "user.name=bench", "-c", "user.email=bench@invalid", "-c", "commit.gpgsign=false"]
CLI = str(Path(sys.executable).parent / "parallel-tui")
SEP, END = "\x1f", "\x1e"
WRAPPER = """#!/bin/sh
{{ for a in "$@"; do printf '%s\\037' "$a"; done; printf '\\036'; }} >> "$PTUI_CALL_LOG.{name}"
exec {real} "$@"
"""


def sh(*argv: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> str:
    return subprocess.run(argv, cwd=cwd, check=True, capture_output=True, text=True, env=env).stdout


def make_repo(root: Path, files: int) -> Path:
    repo = root / "small"
    sh("git", "init", "-q", "-b", "main", str(repo))
    for i in range(files):
        path = repo / f"pkg{i % 10}" / f"mod{i}.py"
        path.parent.mkdir(exist_ok=True)
        path.write_text(f"def f{i}(x):\n    return x + {i}\n" * 5)
    for n, part in enumerate(("pkg0", "pkg1", ".")):
        sh("git", "add", "-A", part, cwd=repo)
        sh("git", *IDENTITY, "commit", "-q", "-m", f"part {n}", cwd=repo)
    return repo


def recorded_calls(argv: list[str], root: Path, env: dict[str, str]) -> list[list[str]]:
    """Run `argv` once with `git` and `tmux` wrapped; every call it made, in order."""
    wrappers = root / "wrap"
    wrappers.mkdir(exist_ok=True)
    for name in ("git", "tmux"):
        real = shutil.which(name)
        assert real, f"{name} is not on PATH"
        (wrappers / name).write_text(WRAPPER.format(name=name, real=shlex.quote(real)))
        (wrappers / name).chmod(0o755)
    log = root / "calls"
    run_env = {**env, "PATH": f"{wrappers}:{env['PATH']}", "PTUI_CALL_LOG": str(log)}
    sh(*argv, env=run_env)
    calls = []
    for name in ("git", "tmux"):
        path = Path(f"{log}.{name}")
        text = path.read_text() if path.exists() else ""
        path.unlink(missing_ok=True)
        calls += [[name, *entry.split(SEP)[:-1]] for entry in text.split(END) if entry]
    return calls


def floor_script(path: Path, calls: list[list[str]]) -> list[str]:
    path.write_text("".join(f"{shlex.join(c)} >/dev/null 2>&1\n" for c in calls))
    return ["sh", str(path)]


AGAINST = " [against]"
"""Suffix of the cases run from the `--against` tree."""


def timed(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall time, and CPU time (user + system of the call and every process it waited for)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(argv, env=env, check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime


def prepare(root: Path, files: int, env: dict[str, str]) -> dict[str, list[str]]:
    """The repo, its cached profile and a finished demo run; the commands to time."""
    repo = make_repo(root, files)
    at = ["--repo", str(repo)]
    sh(CLI, "analyze", "--json", *at, env=env)
    sh(CLI, "run", *at, "--tasks", "api,ui", "--prompt", "bench", "--agent", "demo", "--yes", "--wait",
       env=env)
    analyze, status = [CLI, "analyze", "--json", *at], [CLI, "status", "--json", *at]
    sh(*status, env=env)  # terminal states are journaled on the first look, not timed
    return {
        "python -c pass": [sys.executable, "-c", "pass"],
        "--help": [CLI, "--help"],
        "analyze --json": analyze,
        "analyze git floor": floor_script(root / "analyze.sh", recorded_calls(analyze, root, env)),
        "status --json": status,
        "status git+tmux floor": floor_script(root / "status.sh", recorded_calls(status, root, env)),
    }


def with_tree(cases: dict[str, list[str]], tree: Path, root: Path,
              env: dict[str, str]) -> dict[str, dict[str, str]]:
    """Add the CLI calls run from `tree`, with the floors of the calls they make; each case's env."""
    tree_env = {**env, "PYTHONPATH": str(tree)}
    for verb, floor in (("analyze", "analyze git floor"), ("status", "status git+tmux floor")):
        argv = cases[f"{verb} --json"]
        cases[f"{verb} --json{AGAINST}"] = argv
        calls = recorded_calls(argv, root, tree_env)
        cases[floor + AGAINST] = floor_script(root / f"{verb}-against.sh", calls)
    cases["--help" + AGAINST] = cases["--help"]
    return {name: tree_env if name.endswith(AGAINST) and "floor" not in name else env for name in cases}


def measure(cases: dict[str, list[str]], rounds: int,
            envs: dict[str, dict[str, str]]) -> tuple[dict[str, float], dict[str, float]]:
    """Median wall and CPU times per case."""
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in cases}
    for name, argv in cases.items():
        timed(argv, envs[name])  # warm the page cache (and write the other tree's .pyc files)
    for n in range(rounds):
        order = list(cases.items())
        for name, argv in order[n % len(order):] + order[:n % len(order)]:
            times[name].append(timed(argv, envs[name]))
    return ({name: statistics.median(w for w, _ in t) for name, t in times.items()},
            {name: statistics.median(c for _, c in t) for name, t in times.items()})


def report(med: dict[str, float], cpu: dict[str, float], calls: dict[str, int]) -> None:
    base = med["python -c pass"]
    for name, seconds in med.items():
        print(f"{name:<32} {seconds * 1000:7.1f} ms  (CPU {cpu[name] * 1000:6.1f} ms)")
    help_ratio = med["--help"] / base
    analyze_ratio = med["analyze --json"] / (base + med["analyze git floor"])
    status_ratio = med["status --json"] / (base + med["status git+tmux floor"])
    print(f"--help / python -c pass:                 {help_ratio:5.2f}  (goal ≤ 5)"
          f"{'' if help_ratio <= 5 else '  MISSED'}")
    print(f"cached analyze / (pass + git floor):     {analyze_ratio:5.2f}  (goal ≤ 3)"
          f"{'' if analyze_ratio <= 3 else '  MISSED'}  [{calls['analyze']} git calls]")
    print(f"status / (pass + git+tmux floor):        {status_ratio:5.2f}  [{calls['status']} calls]")
    if "--help" + AGAINST in med:
        a = AGAINST
        print(f"the --against tree: --help {med['--help' + a] / base:5.2f}, "
              f"analyze {med['analyze --json' + a] / (base + med['analyze git floor' + a]):5.2f}, "
              f"status {med['status --json' + a] / (base + med['status git+tmux floor' + a]):5.2f} "
              "(each over its own calls' floor)")
    def cpu_ratio(suffix: str = "") -> float:
        return cpu["analyze --json" + suffix] / (cpu["python -c pass"] + cpu["analyze git floor" + suffix])
    against = f", the --against tree's {cpu_ratio(AGAINST):5.2f}" if "--help" + AGAINST in cpu else ""
    print(f"in CPU time (load on the machine inflates it less): cached analyze {cpu_ratio():5.2f}{against}")

def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--files", type=int, default=200)
    parser.add_argument("--against", type=Path, help="another checkout's source tree, timed alongside")
    args = parser.parse_args()
    socket = f"ptui-bench-{uuid.uuid4().hex[:8]}"
    with tempfile.TemporaryDirectory(prefix="ptui-startup-") as tmp:
        root = Path(tmp)
        env = {**os.environ, "PARALLEL_TUI_HOME": str(root / "home"), "PARALLEL_TUI_TMUX_SOCKET": socket,
               "PARALLEL_TUI_DEMO_SECONDS": "0.2", "GIT_CONFIG_NOSYSTEM": "1", "HOME": str(root)}
        env.pop("TMUX", None)
        env.pop("PYTHONDONTWRITEBYTECODE", None)  # an install has its .pyc files: time that, not compiling
        try:
            cases = prepare(root, args.files, env)
            calls = {v: len((root / f"{v}.sh").read_text().splitlines()) for v in ("analyze", "status")}
            envs = dict.fromkeys(cases, env)
            if args.against:
                envs = with_tree(cases, args.against.resolve(), root, env)
            med, cpu = measure(cases, args.rounds, envs)
        finally:
            subprocess.run(["tmux", "-L", socket, "kill-server"], capture_output=True, check=False)
            tmpdir = Path(os.environ.get("TMUX_TMPDIR") or "/tmp") / f"tmux-{os.getuid()}"
            (tmpdir / socket).unlink(missing_ok=True)
    print(f"repo: {args.files} files, a finished 2-session demo run; medians of {args.rounds} "
          f"interleaved rounds")
    report(med, cpu, calls)
    return 0


if __name__ == "__main__":
    sys.exit(main())

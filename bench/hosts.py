"""Bench: sessions on two SSH hosts (real sshd on 127.0.0.1) against the same sessions here.

(1) `start_run` of N demo sessions on this machine; (2) the same N placed on two loopback
hosts (N/2 slots each: a clone, worktrees, the kit and a tmux server on each): the set-up
ratio (2)/(1), goal ≤ 1.5. Each of `--rounds` rounds makes two fresh repos (so every host run
is a first one: a new clone, the whole base sent) and times both starts, in turns first (a
machine whose speed swings between them affects both alike); the median ratio is the result.
(3) The run's supervisor's CPU while the N remote sessions idle
(its process and the tmux/git it waits for, from /proc), goal ≤ 3 % of a core; the hosts'
helpers (the far side, on this machine only because the hosts are loopback) are printed apart.
(4) From a commit in a remote worktree to that branch in the local repo (`hosts fetch`'s
bundle over the connection), against a plain `git fetch` of the same commits from the host's
clone by its path (the floor: possible only because the hosts are loopback).
Needs /usr/sbin/sshd; the hosts log in as this user.

Usage: .venv/bin/python bench/hosts.py [--files 2000] [--sessions 8] [--rounds 3] [--idle-seconds 8]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.setup import make_repo, sh
from engine.core.config import load_config
from engine.core.hosts_config import HostSpec
from engine.core.models import Subtask
from engine.hosts.host import LOCAL
from engine.hosts.registry import Hosts
from engine.hosts.remote import RemoteHost
from engine.hosts.remote_repo import clone_of, fetch_branch
from engine.run.journal import Journal
from engine.run.lock import held
from engine.run.lookup import remote_socket
from engine.run.orchestrator import RunRequest, StartedRun, new_run_id, start_run
from engine.run.session_status import StatusReaders
from tests.sshd import SshdFarm, SshServer

TICK = os.sysconf("SC_CLK_TCK")


def host_specs(farm: SshdFarm, root: Path, per_host: int) -> list[HostSpec]:
    user = "root" if os.geteuid() == 0 else os.environ.get("USER", "root")
    servers: list[SshServer] = []
    for name in ("h1", "h2"):
        home = root / f"home-{name}"
        home.mkdir()
        servers.append(farm.start(name, user=user, home=home))
    return [s.spec(max_sessions=per_host, work_root=str(s.home / "work")) for s in servers]


def write_config(home: Path, specs: list[HostSpec]) -> None:
    keys = ("name", "ssh", "identity_file", "known_hosts", "work_root", "max_sessions")
    tables = ["[[hosts]]\n" + "".join(f"{k} = {json.dumps(getattr(s, k))}\n" for k in keys) for s in specs]
    home.mkdir(parents=True, exist_ok=True)
    (home / "config.toml").write_text("\n".join(tables))


def start(repo: Path, n: int, journal: Journal, hosts: Hosts,
          on: tuple[str, ...]) -> tuple[float, StartedRun]:
    config = load_config(repo)
    request = RunRequest(repo=repo, task="bench", agent="demo", hosts=on,
                         subtasks=tuple(Subtask(name=f"s{i}", description=f"bench {i}") for i in range(n)))
    run_id = new_run_id()
    started = time.perf_counter()
    with held(f"run:{run_id}", "bench run"):
        run = start_run(request, config, journal, run_id, StatusReaders(), hosts=hosts)
    seconds = time.perf_counter() - started
    assert all(s.phase == "started" for s in run.sessions), [(s.name, s.phase) for s in run.sessions]
    return seconds, run


def cpu_ticks(pids: list[int]) -> int:
    """utime + stime (+ waited-for children) of the processes, in clock ticks."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += sum(int(fields[i]) for i in (11, 12, 13, 14))
    return total


def pids_running(marker: str) -> list[int]:
    out = subprocess.run(["pgrep", "-f", marker], capture_output=True, text=True, check=False).stdout
    return [int(p) for p in out.split() if int(p) != os.getpid()]


def idle_cpu(run_id: str, seconds: float) -> tuple[float, float]:
    """% of a core for the run's supervisor, and for the hosts' helpers, over `seconds`."""
    deadline = time.monotonic() + 30
    while not pids_running(f"engine.run.supervisor {run_id}") and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(2.0)  # its first looks (connecting, the kit) are set-up, not idling
    supervisor, helpers = pids_running(f"engine.run.supervisor {run_id}"), pids_running("/helper-")
    before = cpu_ticks(supervisor), cpu_ticks(helpers)
    started = time.perf_counter()
    time.sleep(seconds)
    wall = time.perf_counter() - started
    after = cpu_ticks(supervisor), cpu_ticks(helpers)
    return (100 * (after[0] - before[0]) / TICK / wall, 100 * (after[1] - before[1]) / TICK / wall)


def fetch_home(repo: Path, run: StartedRun, hosts: Hosts, root: Path) -> tuple[float, float]:
    """Seconds from a commit in one remote worktree to that branch here, and the floor: a plain
    `git fetch` of the same commits from the host's clone by its path (no SSH)."""
    record = next(s for s in run.sessions if s.host != "local")
    host = hosts.get(record.host)
    assert isinstance(host, RemoteHost)
    for i in range(20):
        host.write_bytes(Path(record.worktree) / f"bench{i}.txt", os.urandom(2000))
    host.run(["git", "-C", record.worktree, "add", "-A"])
    host.run(["git", "-C", record.worktree, "-c", "user.name=b", "-c", "user.email=b@invalid",
              "commit", "-q", "-m", "bench"])
    twin = root / "twin"  # the floor's side: a plain clone that lacks the commit too
    sh("git", "clone", "-q", "--no-local", str(repo), str(twin))
    started = time.perf_counter()
    fetched = fetch_branch(host, repo, record.branch, run.base_sha)
    seconds = time.perf_counter() - started
    assert fetched is not None and not fetched.kept, fetched
    clone = clone_of(host, repo).path  # on this machine too: the hosts are loopback
    started = time.perf_counter()
    sh("git", "-C", str(twin), "fetch", "-q", "--no-tags", clone, f"refs/heads/{record.branch}")
    return seconds, time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--sessions", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--idle-seconds", type=float, default=8.0)
    args = parser.parse_args()
    socket = f"ptui-bench-{uuid.uuid4().hex[:8]}"
    farm = SshdFarm()
    specs: list[HostSpec] = []
    timings: list[tuple[float, float]] = []
    found = NOT_MEASURED
    with tempfile.TemporaryDirectory(prefix="ptui-bench-") as tmp:
        root = Path(tmp)
        os.environ.update(PARALLEL_TUI_HOME=str(root / "home"), PARALLEL_TUI_TMUX_SOCKET=socket,
                          PARALLEL_TUI_DEMO_SECONDS=str(args.idle_seconds + 60))
        try:
            specs = host_specs(farm, root, args.sessions // 2)
            write_config(root / "home", specs)
            for n in range(args.rounds):
                last = n == args.rounds - 1
                local_s, remote_s, found = one_round(root / f"r{n}", args, specs,
                                                     remote_first=n % 2 == 1 and not last,
                                                     then=measure_idle if last else None)
                timings.append((local_s, remote_s))
                print(f"round {n + 1}: here {local_s:.3f}s, on the hosts {remote_s:.3f}s, "
                      f"ratio {remote_s / local_s:.2f}", flush=True)
                kill_servers(socket, specs)
        finally:
            kill_servers(socket, specs)
            farm.close()
    report(args, timings, found)
    return 0


Idle = tuple[float, float, float, float]
"""Supervisor CPU %, the hosts' helpers' CPU %, commit → branch here (s), the plain fetch (s)."""
NOT_MEASURED: Idle = (0.0, 0.0, 0.0, 1.0)


Then = Callable[[Path, StartedRun, Hosts, Path, float], "Idle"]
"""What a round measures after both starts (the last round: the idle CPU and the fetch)."""


def one_round(root: Path, args: argparse.Namespace, specs: list[HostSpec], *, remote_first: bool,
              then: Then | None) -> tuple[float, float, Idle]:
    """Two fresh packed repos (packed, as a real repository is, not loose); the start of N here
    and of N on the hosts (a new connection to each, as a `run` makes), in the given order, each
    on a machine where the other run is gone (its supervisor's first looks, git in every
    worktree, would otherwise slow whichever start comes second: 1.05x one way, 2.6x the other)."""
    hosts = Hosts(LOCAL, tuple(specs))
    try:
        local_repo, remote_repo = make_repo(root / "a", args.files), make_repo(root / "b", args.files)
        for repo in (local_repo, remote_repo):
            sh("git", "-C", str(repo), "gc", "-q")
        journal = Journal()
        runs: dict[tuple[str, ...], tuple[float, StartedRun]] = {}
        for on in ((("h1", "h2"), ()) if remote_first else ((), ("h1", "h2"))):
            if runs:
                kill_servers(os.environ["PARALLEL_TUI_TMUX_SOCKET"], specs)
                time.sleep(1.0)
            runs[on] = start(remote_repo if on else local_repo, args.sessions, journal, hosts, on)
        (local_s, _), (remote_s, remote_run) = runs[()], runs[("h1", "h2")]
        if remote_first and then:
            raise ValueError("the measures after the starts need the host run alive: start it second")
        found = then(remote_repo, remote_run, hosts, root, args.idle_seconds) if then else NOT_MEASURED
        return local_s, remote_s, found
    finally:
        hosts.close()


def measure_idle(repo: Path, run: StartedRun, hosts: Hosts, root: Path, seconds: float) -> Idle:
    supervisor_cpu, helper_cpu = idle_cpu(run.run_id, seconds)
    fetch_s, floor_s = fetch_home(repo, run, hosts, root)
    return supervisor_cpu, helper_cpu, fetch_s, floor_s


def kill_servers(socket: str, specs: list[HostSpec]) -> None:
    """The runs' tmux servers here and on the hosts (their supervisors and agents with them)."""
    for spec in specs:
        sh_quiet("tmux", "-L", remote_socket(socket, spec.name), "kill-server")
    sh_quiet("tmux", "-L", socket, "kill-server")


def report(args: argparse.Namespace, timings: list[tuple[float, float]], found: Idle) -> None:
    n = args.sessions
    ratios = [remote / local for local, remote in timings]
    supervisor_cpu, helper_cpu, fetch_s, floor_s = found
    print(f"repo: {args.files} files; {n} demo sessions; {len(timings)} rounds, each host run a first one")
    print(f"start_run x{n} here:                 median {statistics.median(t[0] for t in timings):.3f}s")
    print(f"start_run x{n} on 2 loopback hosts:  median {statistics.median(t[1] for t in timings):.3f}s")
    print(f"set-up ratio: median {statistics.median(ratios):.2f} (goal ≤ 1.5), rounds "
          f"{', '.join(f'{r:.2f}' for r in ratios)}")
    print(f"supervisor CPU while {n} remote sessions idle: {supervisor_cpu:.2f}% of a core (goal ≤ 3%); "
          f"the hosts' helpers: {helper_cpu:.2f}%")
    print(f"remote commit → parallel/<slug> here: {fetch_s * 1000:.0f} ms; a local `git fetch` of the same "
          f"commits: {floor_s * 1000:.0f} ms (ratio {fetch_s / floor_s:.1f})")


def sh_quiet(*argv: str) -> None:
    subprocess.run(argv, capture_output=True, check=False)


if __name__ == "__main__":
    sys.exit(main())

"""A demo run through a recording Host: every tmux and git process of its sessions and every
session file (prompt, ownership, hook, stream, exit, status line) went through the Host the
Engine was given, the one a remote host would replace. A second check reads engine/run and
engine/merge: no file or process call of their own, outside the few modules that say why."""

from __future__ import annotations

import ast
import asyncio
import dataclasses
import subprocess
from pathlib import Path
from typing import Any

import pytest

from engine.agents import ownership_hook
from engine.claude.statusline import usage_file_for
from engine.core import events as rev
from engine.core.config import load_config
from engine.run.journal import open_journal
from engine.service import Engine
from tests.conftest import RepoFactory
from tests.recording_host import RecordingHost
from tests.run_helpers import FILES


class _Spawned:
    """Every process this test process starts, whoever starts it (a `subprocess.Popen` spy)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.argvs: list[list[str]] = []
        real = subprocess.Popen
        seen = self.argvs

        class Spy(real):  # type: ignore[misc, valid-type]
            def __init__(self, args: Any, *rest: Any, **kw: Any) -> None:
                seen.append([str(a) for a in args] if isinstance(args, list | tuple) else [str(args)])
                super().__init__(args, *rest, **kw)

        monkeypatch.setattr(subprocess, "Popen", Spy)


def _demo_run(repo: Path, host: RecordingHost) -> tuple[str, list[rev.Event]]:
    """Two demo sessions, started and followed here (no supervisor process: this process's Host
    is the one that must see everything), then `status` once."""
    config = dataclasses.replace(load_config(repo), supervisor=False, default_agent="demo")
    engine = Engine(repo, config, host)
    task, subtasks = engine.quick_subtasks("alpha,beta", "write a line each")

    async def go() -> tuple[str, list[rev.Event]]:
        started = await engine.start_run(subtasks, task, "demo")
        events = [e async for b in engine.follow(started.run_id, poll_s=0.1, timeout_s=60) for e in b.events]
        await engine.status(started.run_id)
        return started.run_id, events
    return asyncio.run(go())


def _git_target(argv: list[str]) -> str:
    return argv[argv.index("-C") + 1] if argv[:1] == ["git"] and "-C" in argv else ""


@pytest.mark.tmux
def test_every_process_and_session_file_of_a_demo_run_goes_through_its_host(
        repo_factory: RepoFactory, tmux_socket: str, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = repo_factory(FILES)
    spawned = _Spawned(monkeypatch)
    host = RecordingHost()
    run_id, events = _demo_run(repo, host)
    assert isinstance(events[-1], rev.RunFinished) and set(events[-1].states.values()) == {"done"}, events[-1]
    with open_journal() as journal:
        sessions = journal.sessions(run_id)
    assert {s.host for s in sessions} == {"local"}, "each session journals the host it lives on"

    through_host = {tuple(c) for c in host.calls}
    worktrees = {s.worktree for s in sessions}
    tmux = [a for a in spawned.argvs if Path(a[0]).name == "tmux"]
    assert tmux and all(tuple(a) in through_host for a in tmux), \
        [a for a in tmux if tuple(a) not in through_host][:3]
    in_worktrees = [a for a in spawned.argvs if any(_git_target(a).startswith(w) for w in worktrees)]
    registering = [a for a in spawned.argvs if _git_target(a) == str(repo) and "worktree" in a]
    assert in_worktrees and registering, "the run checked its worktrees out and read their git"
    missed = [a for a in in_worktrees + registering if tuple(a) not in through_host]
    assert not missed, missed[:3]

    asked = host.paths()
    for s in sessions:
        hook = Path(s.hook_file)
        files = {"prompt": s.prompt_file, "hook": s.hook_file, "stream": s.stream_file,
                 "exit": str(Path(s.prompt_file).with_suffix(".exit")),
                 "ownership": str(ownership_hook.ownership_file_for(hook)),
                 "status line": str(usage_file_for(hook)), "worktree .git": str(Path(s.worktree) / ".git")}
        assert not {k for k, p in files.items() if p not in asked}, (s.name, sorted(asked))
        assert s.prompt_file in host.paths("write") and str(ownership_hook.ownership_file_for(hook)) \
            in host.paths("write"), "the launch writes the prompt and ownership files on the host"


ROOTS = [Path(__file__).resolve().parent.parent / "engine" / d for d in ("run", "merge", "report")]
FILE_CALLS = {"read_text", "read_bytes", "write_text", "write_bytes", "open", "unlink", "mkdir", "rmdir",
              "exists", "is_file", "is_dir", "stat", "iterdir", "glob", "chmod", "readlink", "touch",
              "is_symlink", "lexists", "scandir", "listdir", "access", "rename", "rmtree",
              "copy2", "copy", "run", "Popen", "check_output", "kill", "killpg"}
"""File and process calls; on a host (`host.x`, `self.host.x`, `tmux.host.x`) they are fine."""
OFF_THE_HOST = {
    "engine/run/journal.py": "the journal is this machine's state, not a session's",
    "engine/run/lock.py": "locks live in this machine's state folder",
    "engine/run/tail.py": "a client watches the journal's own files (this machine's state) for changes",
    "engine/run/supervisor.py": "the supervisor writes its crash log in this machine's state folder",
    "engine/run/snapshot.py": "the status snapshot lives next to the journal, in this machine's state folder",
    "engine/run/snapshot_read.py": "reads the snapshot and the journal's files in this machine's state "
                                   "folder, and runs the one `list-panes` (a run on another host has none)",
    "engine/run/scratch.py": "verify's scratch worktrees are temp dirs of this machine, beside the repo",
    "engine/run/radar.py": "the overlap radar snapshots worktrees through this machine's file system "
                           "(scandir, inotify, a copied index): a remote session's radar must run there",
}
"""engine/run, engine/merge and engine/report modules that still touch files or processes
themselves, and why."""


def _own_calls(path: Path) -> list[str]:
    """`x.read_text(...)`, `open(...)`, `subprocess.run(...)`… whose receiver is not a host."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Name) and func.id == "open":
            found.append(f"{path.name}:{node.lineno} open")
        if isinstance(func, ast.Attribute) and func.attr in FILE_CALLS:
            receiver = ast.unparse(func.value)
            if receiver == "host" or receiver.endswith(".host") or receiver in {"self._db", "git", "g"}:
                continue
            if func.attr == "run" and receiver not in {"subprocess", "os"}:
                continue  # tmux.run, a Radar's run: not a process of their own
            found.append(f"{path.name}:{node.lineno} {receiver}.{func.attr}")
    return found


def test_engine_run_merge_and_report_touch_session_files_and_processes_only_through_a_host() -> None:
    offenders = {}
    for root in ROOTS:
        for path in sorted(root.rglob("*.py")):
            where = path.relative_to(root.parent.parent).as_posix()
            calls = _own_calls(path)
            if calls:
                offenders[where] = calls
    assert set(offenders) <= set(OFF_THE_HOST), {k: v for k, v in offenders.items() if k not in OFF_THE_HOST}
    gone = set(OFF_THE_HOST) - set(offenders)
    assert not gone, f"no longer off the host: {gone}"


def test_whether_branches_and_paths_are_free_is_two_looks_however_many_sessions(
        repo_factory: RepoFactory, tmp_path: Path) -> None:
    """On an SSH host each look is a round trip: the check before a run asks git once for the
    branches and lists each worktree folder once, and still names everything that is taken."""
    from engine.hosts.worktrees import check_free  # noqa: PLC0415

    repo = repo_factory(FILES)
    subprocess.run(["git", "-C", str(repo), "branch", "parallel/s3"], check=True)
    base = tmp_path / "worktrees"
    base.mkdir()
    (base / "s5").mkdir()
    (base / "s6").symlink_to(tmp_path / "gone")  # dangling: there all the same
    host = RecordingHost("build1")
    wanted = [(f"parallel/s{i}", base / f"s{i}") for i in range(8)]
    why = check_free(repo, wanted, host=host)
    assert why == ["branch parallel/s3 already exists", f"worktree path {base / 's5'} already exists",
                   f"worktree path {base / 's6'} already exists"]
    assert len(host.calls) == 1 and "for-each-ref" in host.calls[0]
    assert host.files == [("listdir", str(base))]
    assert check_free(repo, [("parallel/new", tmp_path / "no-such" / "x")], host=host) == []

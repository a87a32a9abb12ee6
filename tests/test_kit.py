"""A session's kit: our tools on a host with only its python3, and unchanged sessions here.

The kit is shipped for real: into a temp folder through LocalHost (fast: layout, imports,
python 3.9), and onto the sshd host `second` (another user, another home, who cannot read this
checkout), where the ownership hook, the status hook and the demo agent run through
`host.run` exactly as the session's command lines name them.
"""

from __future__ import annotations

import ast
import json
import os
import pwd
import shlex
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path, PurePosixPath
from typing import Any, cast

import pytest

from engine.agents import hook_writer, ownership_hook
from engine.agents.descriptors import AGENTS, LaunchContext, build_argv, settings_input, window_argv
from engine.agents.hooks import hook_command, ownership_command
from engine.agents.kit import LOCAL_KIT, Kit, KitError, kit_files, ship_kit
from engine.claude import statusline_writer
from engine.claude.settings import session_settings
from engine.core.config import ParallelConfig
from engine.core.kit import DEMO_AGENT, MIN_PYTHON, TOOLS
from engine.core.ownership import Boundaries
from engine.hosts.host import LOCAL, Host
from engine.hosts.remote import RemoteHost
from tests.sshd import SshHosts

CONFIG = ParallelConfig(demo_seconds=0.0)


def context(root: Path | PurePosixPath, kit: Kit = LOCAL_KIT, host: Host = LOCAL) -> LaunchContext:
    return LaunchContext(name="a", worktree=Path(root, "wt"), prompt_file=Path(root, "a.prompt"),
                         files=("a.py",), specialist="", hook_file=Path(root, "a.hook.jsonl"),
                         stream_file=Path(root, "a.stream"), exit_file=Path(root, "a.exit"), kit=kit,
                         host=host)


def guard(host: Host, root: PurePosixPath, kit: Kit) -> Path:
    """The ownership file the launch writes for subtask `a` (owns a.py; b.py is b's), with the
    kit's host's places in it."""
    places = kit.places()
    bounds = Boundaries(subtask="a", worktree=str(root / "wt"), owned=("a.py",), others={"b": ("b.py",)},
                        protected=ownership_hook.protected_places(places.home, str(root / "state"),
                                                                  str(root / "config")),
                        scratch=ownership_hook.scratch_places(places.temp_dir, places.uid))
    target = ownership_hook.ownership_file_for(Path(root, "a.hook.jsonl"))
    host.write_bytes(target, ownership_hook.ownership_json(bounds, mode="deny",
                                                           hook_file=Path(root, "a.hook.jsonl")))
    return target


def edit(path: str) -> bytes:
    return json.dumps({"hook_event_name": "PreToolUse", "tool_name": "Write", "session_id": "s1",
                       "tool_input": {"file_path": path, "content": "x"}}).encode()


# --- here: a local session is as it was ---------------------------------------------------------


def test_a_local_sessions_command_lines_are_what_they_were(tmp_path: Path) -> None:
    """The local kit names this interpreter and this checkout's files, resolved, as before."""
    ctx = context(tmp_path)
    demo = build_argv(AGENTS["demo"], ctx, CONFIG, None)
    assert demo == [sys.executable, "-P", "-m", "engine.agents.demo", "--prompt-file",
                    str(tmp_path / "a.prompt"), "--files", "a.py", "--seconds", "0.0", "--name", "a"]
    hook = tmp_path / "a.hook.jsonl"
    assert hook_command(hook) == shlex.join([sys.executable, "-I", str(Path(hook_writer.__file__).resolve()),
                                             str(hook.resolve())])
    guard(LOCAL, PurePosixPath(tmp_path), LOCAL_KIT)
    settings = json.loads(session_settings(settings_input(ctx, CONFIG)))
    [owner] = [h for g in settings["hooks"]["PreToolUse"] for h in g["hooks"] if "ownership" in h["command"]]
    assert owner["command"].startswith(shlex.join([
        sys.executable, "-I", str(Path(ownership_hook.__file__).resolve()),
        str(ownership_hook.ownership_file_for(hook).resolve())]) + " || ")
    assert settings["statusLine"]["command"] == shlex.join([
        sys.executable, "-I", str(Path(statusline_writer.__file__).resolve()),
        str((tmp_path / "a.usage.json").resolve())])


def test_the_kit_holds_only_standard_library_tools() -> None:
    """What a host runs imports nothing but the standard library and the rule shipped with it."""
    files = kit_files()
    assert set(TOOLS) <= set(files)
    shipped = {rel.removesuffix(".py").removesuffix("/__init__").replace("/", ".") for rel in files}
    for rel in TOOLS:
        for node in ast.walk(ast.parse(files[rel])):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            for name in names:
                top = name.split(".")[0]
                assert top in sys.stdlib_module_names or name in shipped or top == "__future__", (rel, name)


def python(minor: int) -> str:
    """A python 3.`minor` that runs, if this machine has one (on PATH, or pyenv's)."""
    pyenv = Path(os.environ.get("PYENV_ROOT") or Path(pwd.getpwuid(os.getuid()).pw_dir, ".pyenv"))
    found = [shutil.which(f"python3.{minor}") or "",
             *map(str, sorted(pyenv.glob(f"versions/3.{minor}.*/bin/python3.{minor}")))]
    for candidate in filter(None, found):
        if subprocess.run([candidate, "-c", f"import sys; assert sys.version_info[:2] == (3, {minor})"],
                          capture_output=True, check=False).returncode == 0:
            return candidate
    pytest.skip(f"no python 3.{minor} on this machine")


def test_a_shipped_kit_runs_on_python_3_9_without_this_checkout(tmp_path: Path) -> None:
    kit = ship_kit(LOCAL, str(tmp_path / "work"))
    assert not kit.local and kit.root.startswith(str(tmp_path / "work" / "kit") + "/")
    old = Kit(python=python(9), root=kit.root, facts=kit.facts)
    root = PurePosixPath(tmp_path)
    (tmp_path / "wt").mkdir()
    owners = guard(LOCAL, root, old)
    refused = LOCAL.run(["/bin/sh", "-c", ownership_command(owners, old)], stdin=edit(str(root / "wt/b.py")),
                        cwd=tmp_path)
    assert refused.returncode == 0, refused.stderr
    decision = json.loads(refused.stdout)["hookSpecificOutput"]
    assert decision["permissionDecision"] == "deny" and "subtask b" in decision["permissionDecisionReason"]
    status = LOCAL.run(["/bin/sh", "-c", hook_command(tmp_path / "s.jsonl", old)],
                       stdin=b'{"hook_event_name": "Stop"}')
    assert status.returncode == 0 and json.loads((tmp_path / "s.jsonl").read_text())["event"] == "Stop"
    demo = LOCAL.run([*old.demo_argv(), "--help"])
    assert demo.returncode == 0, demo.stderr


def test_a_python_older_than_the_kit_needs_is_refused_and_leaves_nothing(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "python3").symlink_to(python(8))
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    with pytest.raises(KitError, match=r"python3 is 3\.8\.\d+ .*need 3\.9 or newer") as caught:
        ship_kit(LOCAL, str(tmp_path / "work"))
    assert caught.value.hint.startswith("install python3 3.9")
    assert MIN_PYTHON == (3, 9)
    assert list((tmp_path / "work" / "kit").iterdir()) == []


def test_a_relative_folder_is_refused_before_anything_is_written() -> None:
    with pytest.raises(ValueError, match="absolute path on the host"):
        ship_kit(LOCAL, "work")


# --- there: the sshd host `second` ---------------------------------------------------------------


class Counting:
    """A host that counts the calls that do something (writes, commands) on the one it wraps."""

    def __init__(self, host: RemoteHost) -> None:
        self.host, self.name = host, host.name
        self.done: list[str] = []

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self.host, name)
        if name in ("write_bytes", "append_bytes", "mkdir", "run", "which", "remove", "chmod"):
            def counted(*args: object, **kwargs: object) -> object:
                self.done.append(name)
                return attr(*args, **kwargs)
            return counted
        return attr


@pytest.fixture(scope="module")
def second(ssh_hosts: SshHosts) -> Iterator[RemoteHost]:
    with RemoteHost(ssh_hosts.second.spec()) as host:
        yield host


def fresh(ssh_hosts: SshHosts) -> PurePosixPath:
    """A folder of its own on `second` (the host lives as long as the test session)."""
    return PurePosixPath(ssh_hosts.second.home, f"t-{uuid.uuid4().hex[:8]}")


@pytest.mark.slow
def test_shipping_twice_copies_nothing_the_second_time(ssh_hosts: SshHosts, second: RemoteHost) -> None:
    work = fresh(ssh_hosts) / "work"
    counting = Counting(second)
    kit = ship_kit(cast("Host", counting), str(work))
    assert counting.done.count("write_bytes") == len(kit_files()) and counting.done.count("run") == 1
    assert kit.python.startswith("/") and kit.root.startswith(f"{work}/kit/")
    assert kit.places().home == str(ssh_hosts.second.home) and kit.places().uid != os.getuid()
    again = Counting(second)
    assert ship_kit(cast("Host", again), str(work)) == kit
    assert again.done == [], "a kit that is there is only read"
    assert second.listdir(Path(work, "kit")) == [PurePosixPath(kit.root).name], "no temp folder left"


@pytest.mark.slow
def test_launches_shipping_at_once_end_with_one_whole_kit(ssh_hosts: SshHosts, second: RemoteHost) -> None:
    work = str(fresh(ssh_hosts) / "work")
    with ThreadPoolExecutor(3) as pool:
        kits = list(pool.map(lambda _: ship_kit(second, work), range(3), timeout=60))
    assert kits[0] == kits[1] == kits[2]
    assert second.listdir(Path(work, "kit")) == [PurePosixPath(kits[0].root).name]
    assert sorted(second.listdir(Path(kits[0].root))) == ["engine", "kit.json"]


@pytest.mark.slow
def test_the_hooks_judge_and_report_on_a_host_with_only_python3(ssh_hosts: SshHosts,
                                                                second: RemoteHost) -> None:
    """Another user in another home: the ownership hook denies and allows as here (exit 2 for
    Gemini), refusals and the status hook's line land in the hook file, and a session's settings
    name the kit (the guard decided by the ownership file on the host)."""
    root = fresh(ssh_hosts)
    kit = ship_kit(second, str(root / "work"))
    bare = second.run([kit.python, "-I", "-c", "import engine"])
    assert bare.returncode != 0 and b"No module named 'engine'" in bare.stderr, "only the kit's own tree"
    wt = root / "wt"
    second.mkdir(Path(wt))
    owners = guard(second, root, kit)
    assert str(ssh_hosts.second.home / ".ssh") in json.loads(second.read_bytes(owners))["protected"]
    judge = ["/bin/sh", "-c", ownership_command(owners, kit)]

    refused = second.run(judge, stdin=edit(str(wt / "b.py")), cwd=Path(wt))
    assert refused.returncode == 0, refused.stderr
    decision = json.loads(refused.stdout)["hookSpecificOutput"]
    assert decision["permissionDecision"] == "deny" and "subtask b" in decision["permissionDecisionReason"]
    gemini = f"{ownership_command(owners, kit).split(' || ', 1)[0]} gemini"
    blocked = second.run(["/bin/sh", "-c", gemini], stdin=edit(str(wt / "b.py")), cwd=Path(wt))
    assert blocked.returncode == 2 and b"subtask b" in blocked.stderr
    allowed = second.run(judge, stdin=edit(str(wt / "a.py")), cwd=Path(wt))
    assert (allowed.returncode, allowed.stdout) == (0, b""), allowed.stderr

    hook = Path(root, "a.hook.jsonl")
    status = second.run(["/bin/sh", "-c", hook_command(hook, kit)], stdin=b'{"hook_event_name": "Stop"}')
    assert status.returncode == 0, status.stderr
    lines = [json.loads(line) for line in second.read_bytes(hook).splitlines()]
    assert [line["event"] for line in lines] == ["OwnershipRefused", "OwnershipRefused", "Stop"]

    settings = json.loads(session_settings(settings_input(context(root, kit, second), CONFIG)))
    commands = [h["command"] for groups in settings["hooks"].values() for g in groups for h in g["hooks"]]
    assert commands.count(ownership_command(owners, kit)) == 1, "the guard: its file is on the host"
    assert all(c.startswith(kit.python) for c in commands)
    assert settings["statusLine"]["command"] == shlex.join([kit.python, "-I", kit.statusline_writer,
                                                            str(root / "a.usage.json")])


@pytest.mark.slow
def test_the_demo_agent_commits_on_a_host_with_only_python3(ssh_hosts: SshHosts, second: RemoteHost) -> None:
    root = fresh(ssh_hosts)
    kit = ship_kit(second, str(root / "work"))
    wt = Path(root, "wt")
    assert second.run(["git", "init", "-q", str(wt)]).returncode == 0
    ctx = context(root, kit, second)
    second.write_bytes(ctx.prompt_file, b"make a.py")
    argv = build_argv(AGENTS["demo"], ctx, CONFIG, None)
    assert argv[:3] == [kit.python, "-I", f"{kit.root}/{DEMO_AGENT}"]
    demo = second.run(window_argv(AGENTS["demo"], argv, ctx), cwd=wt, timeout=60)
    assert demo.returncode == 0, demo.stdout + demo.stderr
    log = second.run(["git", "-C", str(wt), "log", "--format=%s", "--name-only"])
    assert log.stdout.decode().split() == ["demo:", "a", "a.py"]
    assert second.read_bytes(ctx.exit_file).strip() == b"0"

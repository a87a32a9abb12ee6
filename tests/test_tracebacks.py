"""Environment faults (git missing, state directory broken, corrupt journal) and the safety net.

Each fault once printed a 21–38 line traceback. Now each is one line `error: … — fix` with its
own exit code, and anything nobody foresaw becomes one line naming a crash log (exit 70).
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from textual.widgets import Static

from engine.cli import status_cmd
from engine.core.errors import ExitCode, StateError
from engine.run.journal import open_journal
from engine.run.lock import held
from engine.service import build_engine
from tests.conftest import RepoFactory
from tests.run_helpers import FILES, branches, cli, windows, worktree_paths
from tui import entry
from tui.app import ParallelApp


def one_line(err: str) -> str:
    """stderr holds exactly one line, an `error:` line, and no traceback."""
    assert "Traceback" not in err, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("error: "), err
    return lines[0]


def error_line(err: str) -> str:
    """The one `error:` line after whatever progress a verb printed first; no traceback."""
    assert "Traceback" not in err, err
    errors = [ln for ln in err.splitlines() if ln.startswith("error: ")]
    assert len(errors) == 1 and err.strip().splitlines()[-1] == errors[0], err
    return errors[0]


@pytest.fixture
def freeze() -> Iterator[Callable[[Path], Path]]:
    """Make folders nothing can be created in: immutable for root (who ignores mode bits), 0555
    otherwise; thawed again after the test so tmp cleanup works."""
    frozen: list[Path] = []

    def make(folder: Path) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            if subprocess.run(["chattr", "+i", str(folder)], capture_output=True, check=False).returncode:
                pytest.skip("chattr +i is not available here and root ignores a read-only mode")
        else:
            folder.chmod(0o555)
        frozen.append(folder)
        return folder

    try:
        yield make
    finally:
        for folder in frozen:
            if os.geteuid() == 0:
                subprocess.run(["chattr", "-i", str(folder)], check=True)
            else:
                folder.chmod(0o755)


@pytest.fixture
def unwritable(freeze: Callable[[Path], Path], tmp_path: Path) -> Path:
    return freeze(tmp_path / "locked")


# --- git missing from PATH ------------------------------------------------------------------


@pytest.mark.parametrize("argv", [
    ["analyze"], ["status"], ["plan", "add a login page"], ["table", "--minutes", "30"],
    ["install-claude"], ["cleanup", "--dry-run"],
], ids=lambda a: a[0])
def test_git_missing_from_path_is_one_line(argv: list[str], repo_factory: RepoFactory, tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    repo = repo_factory(FILES)
    empty_bin = tmp_path / "bin"
    empty_bin.mkdir()
    monkeypatch.setenv("PATH", str(empty_bin))
    code, _, err = cli(capsys, *argv, "--repo", str(repo))
    line = one_line(err)
    assert code == ExitCode.GIT, err
    assert "git is not installed" in line and "PATH" in line


def test_repo_path_too_long_for_the_os_is_one_line(tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    """Found by the property test: `--repo` with a 3,000-character name (ENAMETOOLONG)."""
    code, _, err = cli(capsys, "analyze", "--repo", str(tmp_path / ("x" * 3000)))
    line = one_line(err)
    assert code == ExitCode.GIT and "File name too long" in line and len(line) < 400


# --- the state directory ----------------------------------------------------------------------


def test_state_dir_that_is_a_file_is_one_line(repo_factory: RepoFactory, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    repo = repo_factory(FILES)
    state = tmp_path / "state"
    state.write_text("not a folder")
    monkeypatch.setenv("PARALLEL_TUI_HOME", str(state))
    code, _, err = cli(capsys, "status", "--repo", str(repo))
    line = one_line(err)
    assert code == ExitCode.STATE
    assert str(state) in line and "is a file" in line and "PARALLEL_TUI_HOME" in line
    assert state.read_text() == "not a folder"


def test_state_dir_under_a_file_is_one_line(repo_factory: RepoFactory, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    repo = repo_factory(FILES)
    (tmp_path / "file").write_text("x")
    monkeypatch.setenv("PARALLEL_TUI_HOME", str(tmp_path / "file" / "state"))
    code, _, err = cli(capsys, "status", "--list", "--repo", str(repo))
    line = one_line(err)
    assert code == ExitCode.STATE
    assert str(tmp_path / "file") in line


def test_unwritable_state_dir_is_one_line(unwritable: Path, repo_factory: RepoFactory,
                                           monkeypatch: pytest.MonkeyPatch,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    repo = repo_factory(FILES)
    monkeypatch.setenv("PARALLEL_TUI_HOME", str(unwritable))
    code, _, err = cli(capsys, "status", "--repo", str(repo))
    line = one_line(err)
    assert code == ExitCode.STATE
    assert str(unwritable) in line and "not writable" in line


def test_state_dir_that_cannot_be_created_is_one_line(unwritable: Path, repo_factory: RepoFactory,
                                                       monkeypatch: pytest.MonkeyPatch,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    repo = repo_factory(FILES)
    monkeypatch.setenv("PARALLEL_TUI_HOME", str(unwritable / "ptui"))
    code, _, err = cli(capsys, "status", "--repo", str(repo))
    line = one_line(err)
    assert code == ExitCode.STATE
    assert str(unwritable / "ptui") in line


@pytest.mark.tmux
@pytest.mark.parametrize("folder", ["locks", "runs"])
def test_a_state_folder_that_is_a_file_is_one_line_and_creates_nothing(
        folder: str, repo_factory: RepoFactory, isolated_env: Path, tmux_socket: str,
        capsys: pytest.CaptureFixture[str]) -> None:
    repo = repo_factory(FILES)
    state = isolated_env / "ptui"
    state.mkdir(parents=True, exist_ok=True)
    (state / folder).write_text("in the way")
    code, _, err = cli(capsys, "run", "--repo", str(repo), "--tasks", "a,b", "--prompt", "hi",
                       "--agent", "demo", "--yes")
    line = error_line(err)
    assert code == ExitCode.STATE
    assert str(state / folder) in line and "is a file" in line
    assert branches(repo) == [] and worktree_paths(repo) == [str(repo)] and windows(tmux_socket) == []


def test_unwritable_locks_dir_is_one_line(freeze: Callable[[Path], Path], isolated_env: Path) -> None:
    """`locks` immutable (or read-only) while the state dir itself is fine."""
    locks = freeze(isolated_env / "ptui" / "locks")
    with pytest.raises(StateError) as caught, held("run:x", "run x"):
        pass
    assert str(locks) in caught.value.one_line() and "not writable" in caught.value.one_line()


# --- a corrupt journal --------------------------------------------------------------------------


def test_corrupt_journal_is_moved_aside_and_the_next_command_works(
        repo_factory: RepoFactory, isolated_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    repo = repo_factory(FILES)
    state = isolated_env / "ptui"
    state.mkdir(parents=True, exist_ok=True)
    junk = os.urandom(8192)
    (state / "journal.sqlite3").write_bytes(junk)
    (state / "journal.sqlite3-wal").write_bytes(b"stale wal")
    code, _, err = cli(capsys, "status", "--repo", str(repo))
    line = one_line(err)
    assert code == ExitCode.STATE
    aside = [p for p in state.iterdir() if p.name.startswith("journal.sqlite3.corrupt-")]
    moved = [p for p in aside if not p.name.endswith("-wal")]
    assert len(moved) == 1 and moved[0].read_bytes() == junk, aside  # moved, byte for byte, never deleted
    assert next(p for p in aside if p.name.endswith("-wal")).read_bytes() == b"stale wal"
    assert str(moved[0]) in line and "sqlite3" in line and "run the command again" in line
    code, _, err = cli(capsys, "status", "--list", "--repo", str(repo))
    assert code == 0, err
    assert "Traceback" not in err


def test_journal_with_a_good_header_and_garbage_pages_is_moved_aside(
        repo_factory: RepoFactory, isolated_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    repo = repo_factory(FILES)
    path = isolated_env / "ptui" / "journal.sqlite3"
    with open_journal(path):
        pass
    data = bytearray(path.read_bytes())
    data[100:4096] = os.urandom(3996)  # page 1 (the schema) after the 100-byte header
    path.write_bytes(bytes(data))
    code, _, err = cli(capsys, "status", "--repo", str(repo))
    line = one_line(err)
    assert code == ExitCode.STATE and "is corrupt" in line, err
    [moved] = [p for p in path.parent.glob("journal.sqlite3.corrupt-*")
               if p.name[-4:] not in ("-wal", "-shm")]
    assert moved.read_bytes() == bytes(data)


def test_second_corrupt_journal_never_overwrites_the_first(
        repo_factory: RepoFactory, isolated_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    repo = repo_factory(FILES)
    state = isolated_env / "ptui"
    state.mkdir(parents=True, exist_ok=True)
    for junk in (b"first" * 300, b"second" * 300):
        (state / "journal.sqlite3").write_bytes(junk)
        code, _, err = cli(capsys, "status", "--list", "--repo", str(repo))
        assert code == ExitCode.STATE, err
    kept = sorted(p.read_bytes()[:6] for p in state.glob("journal.sqlite3.corrupt-*"))
    assert kept == [b"firstf", b"second"]


def test_read_only_journal_is_one_line_before_anything_is_written(
        repo_factory: RepoFactory, isolated_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    repo = repo_factory(FILES)
    path = isolated_env / "ptui" / "journal.sqlite3"
    with open_journal(path):
        pass
    root = os.geteuid() == 0
    if root and subprocess.run(["chattr", "+i", str(path)], capture_output=True, check=False).returncode:
        pytest.skip("chattr +i is not available here and root ignores a read-only mode")
    if not root:
        path.chmod(0o444)
    try:
        code, _, err = cli(capsys, "status", "--repo", str(repo))
    finally:
        if root:
            subprocess.run(["chattr", "-i", str(path)], check=True)
        else:
            path.chmod(0o644)
    line = one_line(err)
    assert code == ExitCode.STATE and str(path) in line and "not writable" in line


def test_journal_that_is_a_folder_is_one_line(repo_factory: RepoFactory, isolated_env: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    repo = repo_factory(FILES)
    (isolated_env / "ptui" / "journal.sqlite3").mkdir(parents=True)
    code, _, err = cli(capsys, "status", "--repo", str(repo))
    line = one_line(err)
    assert code == ExitCode.STATE
    assert "journal.sqlite3" in line


# --- the last-resort handler --------------------------------------------------------------------


def _boom(_args: object) -> int:
    raise RuntimeError("boom: an unforeseen fault\nwith a second line")


def test_unexpected_exception_is_one_line_with_a_crash_log(
        repo_factory: RepoFactory, isolated_env: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(status_cmd, "run", _boom)
    code, _, err = cli(capsys, "status", "--repo", str(repo_factory(FILES)))
    line = one_line(err)
    assert code == ExitCode.INTERNAL and int(ExitCode.INTERNAL) == 70
    assert "status" in line and "RuntimeError" in line and "boom" in line
    logs = list((isolated_env / "ptui" / "crashes").glob("*.log"))
    assert len(logs) == 1 and str(logs[0]) in line
    text = logs[0].read_text()
    assert "Traceback" in text and "_boom" in text and "with a second line" in text


def test_crash_log_falls_back_to_temp_when_the_state_dir_is_unusable(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    state = tmp_path / "state-file"
    state.write_text("x")
    monkeypatch.setenv("PARALLEL_TUI_HOME", str(state))
    temp = tmp_path / "tmp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    monkeypatch.setattr(status_cmd, "run", _boom)
    code, _, err = cli(capsys, "status")
    line = one_line(err)
    assert code == ExitCode.INTERNAL
    logs = list(temp.rglob("*.log"))
    assert len(logs) == 1 and str(logs[0]) in line
    assert "boom" in logs[0].read_text()


def test_interrupt_message_is_true_and_generic(monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    def interrupted(_args: object) -> int:
        raise KeyboardInterrupt

    monkeypatch.setattr(status_cmd, "run", interrupted)
    code, _, err = cli(capsys, "status")
    line = one_line(err)
    assert code == ExitCode.INTERRUPTED
    assert "nothing was left half-done" not in line
    assert "parallel-tui status" in line and "parallel-tui cleanup" in line


# --- the app: the same last resort --------------------------------------------------------------


async def test_unexpected_error_in_the_plan_worker_is_one_line_with_a_crash_log(
        web_repo: Path, isolated_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    async def broken_plan(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("boom in the planner")

    monkeypatch.setattr("tui.backend.Backend.plan", broken_plan)
    app = ParallelApp(build_engine(web_repo, planner="offline"), planner="offline")
    async with app.run_test() as pilot:
        await pilot.pause()
        await pilot.press(*"Add search", "enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        text = str(app.screen.query_one("#progress", Static).render())
        text = text[text.index("error:"):]
    assert text.startswith("error: internal error") and "boom in the planner" in text, text
    [log] = (isolated_env / "ptui" / "crashes").glob("*.log")
    assert str(log) in " ".join(text.split()) and "broken_plan" in log.read_text()


def test_unexpected_error_in_the_app_is_one_line_and_exit_70(
        web_repo: Path, isolated_env: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    def broken_mount(_self: object) -> None:
        raise RuntimeError("boom on mount")

    run = ParallelApp.run
    monkeypatch.setattr(ParallelApp, "run", lambda self, **kw: run(self, headless=True, **kw))
    monkeypatch.setattr(ParallelApp, "on_mount", broken_mount)
    capsys.readouterr()
    code = entry.main(["--repo", str(web_repo)])
    err = capsys.readouterr().err
    line = one_line(err)
    assert code == ExitCode.INTERNAL
    assert "boom on mount" in line and "terminal UI" in line
    [log] = (isolated_env / "ptui" / "crashes").glob("*.log")
    assert str(log) in line and "broken_mount" in log.read_text()


def test_interrupt_or_crash_outside_the_app_loop_is_one_line(
        web_repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    def interrupted(_self: object) -> None:
        raise KeyboardInterrupt

    def broken(_self: object) -> None:
        raise OSError(5, "Input/output error")  # e.g. the terminal went away

    for fault, code, says in ((interrupted, ExitCode.INTERRUPTED, "parallel-tui cleanup"),
                              (broken, ExitCode.INTERNAL, "Input/output error")):
        monkeypatch.setattr(ParallelApp, "run", fault)
        capsys.readouterr()
        assert entry.main(["--repo", str(web_repo)]) == code
        assert says in one_line(capsys.readouterr().err)


# --- the analysis cache: a bad entry is a miss, never a crash ----------------------------------------


@pytest.mark.parametrize("junk", ["[" * 100_000, '{"churn": 5}', '"text"', "\x00\xff"],
                         ids=["deep", "types", "str", "bin"])
def test_corrupt_analysis_cache_entry_is_a_miss(junk: str, repo_factory: RepoFactory, isolated_env: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    repo = repo_factory(FILES)
    code, first, err = cli(capsys, "analyze", "--repo", str(repo), "--json")
    assert code == 0, err
    [entry] = (isolated_env / "ptui" / "analysis").glob("*.json")
    entry.write_text(junk)
    code, again, err = cli(capsys, "analyze", "--repo", str(repo), "--json")
    assert code == 0 and "Traceback" not in err, err
    assert json.loads(again)["files"] == json.loads(first)["files"]


def test_unwritable_analysis_cache_only_costs_time(
        freeze: Callable[[Path], Path], repo_factory: RepoFactory, isolated_env: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    repo = repo_factory(FILES)
    freeze(isolated_env / "ptui" / "analysis")
    code, out, err = cli(capsys, "analyze", "--repo", str(repo), "--json")
    assert code == 0 and json.loads(out)["files"] == len(FILES), err


def test_an_emptied_journal_is_moved_aside_like_a_corrupt_one(
        repo_factory: RepoFactory, isolated_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    repo = repo_factory(FILES)
    path = isolated_env / "ptui" / "journal.sqlite3"
    with open_journal(path):
        pass
    path.write_bytes(b"")
    for sidecar in ("-wal", "-shm"):
        Path(f"{path}{sidecar}").unlink(missing_ok=True)
    os.utime(path, (time.time() - 60, time.time() - 60))
    code, _, err = cli(capsys, "status", "--list", "--repo", str(repo))
    line = one_line(err)
    assert code == ExitCode.STATE and "is empty" in line and "moved to" in line, err
    assert [p.stat().st_size for p in path.parent.glob("journal.sqlite3.corrupt-*")] == [0]
    assert cli(capsys, "status", "--list", "--repo", str(repo))[0] == 0

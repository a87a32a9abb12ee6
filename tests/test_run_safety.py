"""Issue 7, items 1–6: never lose work, never leave the repository, never say what is false.

Each test is a case a hostile probe found; each failed before its fix.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import libtmux
import pytest

from engine.core.errors import GitError
from engine.core.models import Subtask
from engine.hosts.host import LOCAL
from engine.hosts.tmux_sessions import server_path, session_name
from engine.run import orchestrator as run_engine
from engine.run.branch_guard import mass_deletion
from engine.run.journal import open_journal
from engine.service import build_engine
from tests.conftest import RepoFactory
from tests.gitrepo import git
from tests.run_helpers import FILES, branches, cli, status_json, windows, worktree_paths

pytestmark = pytest.mark.tmux

MANY = {**FILES, **{f"pkg/m{i}.py": f"M = {i}\n" for i in range(8)}}


def parallel_dir(repo: Path) -> Path:
    return repo.parent / f"{repo.name}.parallel"


def run_demo(capsys: pytest.CaptureFixture[str], repo: Path, tasks: str, *extra: str) -> tuple[int, str, str]:
    return cli(capsys, "run", "--repo", str(repo), "--tasks", tasks, "--agent", "demo", "--yes", *extra)


def deletions(repo: Path, branch: str) -> list[str]:
    return git(repo, "diff", "--name-only", "--diff-filter=D", "HEAD", branch).split()


def interrupt_checkout(monkeypatch: pytest.MonkeyPatch) -> None:
    """Ctrl-C right after the worktrees were registered (`--no-checkout`), before any checkout."""
    def ctrl_c(*_args: object, **_kwargs: object) -> dict[Path, float]:
        raise KeyboardInterrupt

    monkeypatch.setattr(run_engine, "checkout_all", ctrl_c)


# 1 ─ a folder the user made is never adopted, never deleted


def test_reuse_refuses_a_users_folder_and_cleanup_never_deletes_it(
        repo_factory: RepoFactory, tmux_socket: str, capsys: pytest.CaptureFixture[str]) -> None:
    repo = repo_factory(FILES)
    mine = parallel_dir(repo) / "a"
    mine.mkdir(parents=True)
    (mine / "notes.txt").write_text("the user's own notes\n")
    code, _, err = run_demo(capsys, repo, "a", "--reuse")
    assert code != 0
    assert err.startswith("error: ") and err.count("\n") == 1 and "not a worktree" in err, err
    assert branches(repo) == [], "refused before anything was created"
    assert cli(capsys, "cleanup", "--repo", str(repo), "--yes")[0] == 0
    assert (mine / "notes.txt").read_text() == "the user's own notes\n"


def test_cleanup_keeps_a_worktree_the_user_made_that_reuse_ran_in(
        repo_factory: RepoFactory, tmux_socket: str, capsys: pytest.CaptureFixture[str]) -> None:
    repo = repo_factory(FILES)
    mine = parallel_dir(repo) / "a"
    git(repo, "worktree", "add", "-q", "-b", "parallel/a", str(mine))
    code, _, err = run_demo(capsys, repo, "a", "--reuse", "--wait")
    assert code == 0, err
    code, out, err = cli(capsys, "cleanup", "--repo", str(repo), "--yes")
    assert code == 0, err
    assert "parallel-tui did not create this worktree" in out + err
    assert worktree_paths(repo) == [str(repo), str(mine)]


# 2 ─ an unreadable worktree is unknown, and unknown is kept


def test_cleanup_keeps_worktrees_whose_git_status_cannot_be_read(
        repo_factory: RepoFactory, tmux_socket: str, capsys: pytest.CaptureFixture[str]) -> None:
    repo = repo_factory(FILES)
    assert run_demo(capsys, repo, "a,b,c", "--wait")[0] == 0
    base = parallel_dir(repo)
    for name in ("a", "b", "c"):
        (base / name / "draft.txt").write_text(f"uncommitted work in {name}\n")
    (base / "a" / ".git").unlink()  # the worktree's link is gone
    subprocess.run(["rm", "-rf", str(repo / ".git" / "worktrees" / "b")], check=True)  # git's side is gone
    (repo / ".git" / "worktrees" / "c" / "index").write_bytes(b"not an index")  # git status fails
    code, out, err = cli(capsys, "cleanup", "--repo", str(repo), "--yes")
    assert code == 0, err
    for name in ("a", "b", "c"):
        assert (base / name / "draft.txt").read_text() == f"uncommitted work in {name}\n"
    assert "kept as unknown" in out + err
    code, out, err = cli(capsys, "cleanup", "--repo", str(repo), "--yes", "--force")
    assert code == 0, err
    for name in ("a", "b"):  # not a worktree git can confirm: never deleted, not even with --force
        assert (base / name / "draft.txt").read_text() == f"uncommitted work in {name}\n"
    assert (base / "c" / "draft.txt").is_file(), "an unreadable state is unknown: kept even with --force"


# 3 ─ a worktree whose checkout never completed is finished, not adopted; the guard


def test_reuse_finishes_a_checkout_that_never_completed(
        repo_factory: RepoFactory, tmux_socket: str, capsys: pytest.CaptureFixture[str]) -> None:
    repo = repo_factory(MANY)
    for name in ("a", "b"):  # what kill -9 between `worktree add --no-checkout` and the checkout leaves
        git(repo, "worktree", "add", "-q", "--no-checkout", "-b", f"parallel/{name}",
            str(parallel_dir(repo) / name))
    code, _, err = run_demo(capsys, repo, "a,b", "--reuse", "--wait")
    assert code == 0, err
    for name in ("a", "b"):
        assert deletions(repo, f"parallel/{name}") == [], "the agent's commit deletes nothing"
        assert git(repo, "rev-list", "--count", f"HEAD..parallel/{name}").strip() == "1"
    assert all(not s["deletes_most_files"] for s in status_json(capsys, repo)["sessions"])  # type: ignore[attr-defined]


def test_reuse_after_a_ctrl_c_in_creation_deletes_nothing(
        repo_factory: RepoFactory, tmux_socket: str, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """The probe's own sequence: Ctrl-C between registration and checkout, then `--reuse`."""
    repo = repo_factory(MANY)
    with monkeypatch.context() as patch:
        interrupt_checkout(patch)
        assert run_demo(capsys, repo, "a,b,c")[0] == 130
    code, _, err = run_demo(capsys, repo, "a,b,c", "--reuse", "--wait")
    assert code == 0, err
    for name in ("a", "b", "c"):
        assert deletions(repo, f"parallel/{name}") == []


def test_status_flags_a_branch_that_deletes_most_files(
        repo_factory: RepoFactory, tmux_socket: str, capsys: pytest.CaptureFixture[str]) -> None:
    repo = repo_factory(MANY)
    assert run_demo(capsys, repo, "a,b", "--wait")[0] == 0
    wt = parallel_dir(repo) / "a"
    git(wt, "rm", "-q", "-r", "pkg", "src")
    git(wt, "commit", "-q", "-m", "oops")
    sessions = {s["name"]: s for s in status_json(capsys, repo)["sessions"]}  # type: ignore[attr-defined]
    assert sessions["a"]["deletes_most_files"] is True
    assert sessions["b"]["deletes_most_files"] is False
    code, out, _ = cli(capsys, "status", "--repo", str(repo))
    assert code == 0
    assert "parallel/a deletes 10 of the 11 tracked files of its base — do not merge it" in out


def test_mass_deletion_is_one_reusable_function(repo_factory: RepoFactory) -> None:
    repo = repo_factory({"a": "1\n", "b": "2\n", "c": "3\n"})
    base = git(repo, "rev-parse", "HEAD").strip()
    git(repo, "checkout", "-q", "-b", "half")
    git(repo, "rm", "-q", "a")
    git(repo, "commit", "-q", "-m", "one of three")
    assert mass_deletion(repo, base, "half", host=LOCAL) is None, "a third is not most"
    git(repo, "rm", "-q", "b")
    git(repo, "commit", "-q", "-m", "two of three")
    found = mass_deletion(repo, base, "refs/heads/half", host=LOCAL)
    assert found is not None and (found.deleted, found.tracked) == (2, 3)
    assert mass_deletion(repo, base, "refs/heads/missing", host=LOCAL) is None


# 4 ─ after an interrupted creation: a true message; empty worktrees and branches go


def test_ctrl_c_during_creation_says_what_is_left_and_cleanup_removes_the_empty_parts(
        repo_factory: RepoFactory, tmux_socket: str, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    repo = repo_factory(MANY)
    interrupt_checkout(monkeypatch)
    code, _, err = run_demo(capsys, repo, "a,b,c")
    assert code == 130
    run_id = str(status_json(capsys, repo)["run_id"])
    assert "nothing was left half-done" not in err and "Traceback" not in err
    last = err.splitlines()[-1]
    assert last.startswith("error: interrupted (Ctrl-C) — ")
    assert f"run {run_id} is half-made (3 worktrees, 3 branches left)" in last, err
    assert f"`parallel-tui run --resume {run_id}`" in last
    assert f"`parallel-tui cleanup --run {run_id}`" in last
    assert len(worktree_paths(repo)) == 4
    code, _, err = cli(capsys, "cleanup", "--repo", str(repo), "--yes")  # no --force
    assert code == 0, err
    assert worktree_paths(repo) == [str(repo)]
    assert branches(repo) == []
    assert not parallel_dir(repo).exists()


def test_half_made_worktree_with_a_new_file_is_kept(
        repo_factory: RepoFactory, tmux_socket: str, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    repo = repo_factory(FILES)
    interrupt_checkout(monkeypatch)
    assert run_demo(capsys, repo, "a,b")[0] == 130
    (parallel_dir(repo) / "a" / "mine.txt").write_text("written by hand in a half-made worktree\n")
    assert cli(capsys, "cleanup", "--repo", str(repo), "--yes")[0] == 0
    assert (parallel_dir(repo) / "a" / "mine.txt").exists()
    assert branches(repo) == ["parallel/a"]


# 5 ─ the run's own tmux server, its own options


def globals_of(socket: str) -> tuple[str, ...]:
    server = libtmux.Server(socket_name=socket)
    return tuple(" ".join(server.cmd("show-options", *flags, name).stdout)
                 for flags in (("-g",), ("-gw",)) for name in ("remain-on-exit", "history-limit"))


def test_a_run_never_changes_the_servers_global_options(
        repo_factory: RepoFactory, tmux_socket: str, capsys: pytest.CaptureFixture[str]) -> None:
    repo = repo_factory(FILES)
    subprocess.run(["tmux", "-L", tmux_socket, "new-session", "-d", "-s", "user", "sleep 600"], check=True)
    before = globals_of(tmux_socket)
    assert run_demo(capsys, repo, "a,b", "--wait")[0] == 0
    assert globals_of(tmux_socket) == before
    states = {s["name"]: (s["state"], s["source"]) for s in status_json(capsys, repo)["sessions"]}  # type: ignore[attr-defined]
    assert states == {"a": ("done", "pane"), "b": ("done", "pane")}, "dead panes are still kept"


@pytest.fixture
def users_tmux(isolated_env: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A tmux server this test 'runs inside' ($TMUX), all under a private TMUX_TMPDIR."""
    tmpdir = Path(tempfile.mkdtemp(prefix="ptui-", dir="/tmp"))
    monkeypatch.setenv("TMUX_TMPDIR", str(tmpdir))
    monkeypatch.setenv("PARALLEL_TUI_DEMO_SECONDS", "0.3")
    socket = tmpdir / "user.sock"
    subprocess.run(["tmux", "-S", str(socket), "new-session", "-d", "-s", "user", "sleep 600"], check=True)
    monkeypatch.setenv("TMUX", f"{socket},{os.getpid()},0")
    yield socket
    for path in (socket, tmpdir / f"tmux-{os.getuid()}" / "default"):
        server = libtmux.Server(socket_path=path)
        if server.is_alive():
            server.kill()
    subprocess.run(["rm", "-rf", str(tmpdir)], check=False)


def test_cleanup_outside_tmux_reaches_the_server_a_run_inside_tmux_used(
        repo_factory: RepoFactory, users_tmux: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    repo = repo_factory(FILES)
    assert run_demo(capsys, repo, "a,b", "--wait")[0] == 0
    server = libtmux.Server(socket_path=users_tmux)

    def names() -> list[str]:
        return sorted(server.cmd("list-windows", "-a", "-F", "#{session_name}:#{window_name}").stdout)

    assert f"{session_name(repo)}:a" in names()
    monkeypatch.delenv("TMUX")
    code, _, err = cli(capsys, "cleanup", "--repo", str(repo), "--yes")
    assert code == 0, err
    assert [n.split(":")[0] for n in names()] == ["user"], "only the user's own window is left"
    assert worktree_paths(repo) == [str(repo)]


# 6 ─ status of a half-made run: the truth, no false overlaps, and no writes


def test_status_of_an_interrupted_creation_shows_no_false_overlaps(
        repo_factory: RepoFactory, tmux_socket: str, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    repo = repo_factory(MANY)
    interrupt_checkout(monkeypatch)
    assert run_demo(capsys, repo, "a,b,c")[0] == 130
    status = status_json(capsys, repo)
    assert status["overlaps"] == []
    assert status["orchestrator"] == "interrupted"
    for session in status["sessions"]:  # type: ignore[attr-defined]
        assert session["interrupted"] is True and session["files_changed"] == 0
        assert "run --resume" in session["problem"]
    code, out, _ = cli(capsys, "status", "--repo", str(repo))
    assert code == 0 and len(out.splitlines()) < 12


def test_status_never_writes_a_worktrees_index(
        repo_factory: RepoFactory, tmux_socket: str, capsys: pytest.CaptureFixture[str]) -> None:
    repo = repo_factory(FILES)
    assert run_demo(capsys, repo, "a", "--wait")[0] == 0
    wt = parallel_dir(repo) / "a"
    future = wt.stat().st_mtime + 100
    for name in FILES:
        os.utime(wt / name, (future, future))  # stat changed, content not: git would refresh
    index = repo / ".git" / "worktrees" / "a" / "index"
    before = (index.stat().st_mtime_ns, index.read_bytes())
    assert cli(capsys, "status", "--repo", str(repo), "--json")[0] == 0
    assert cli(capsys, "cleanup", "--repo", str(repo), "--dry-run")[0] == 0
    assert (index.stat().st_mtime_ns, index.read_bytes()) == before


# preflight: where the worktrees go is checked before anything is created


@pytest.mark.parametrize("where", ["parallel-is-a-file", "root-is-a-file", "root-under-a-file"])
def test_a_file_where_the_worktrees_go_is_one_line(
        where: str, repo_factory: RepoFactory, tmux_socket: str, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    repo = repo_factory(FILES)
    blocker = tmp_path / "blocker"
    blocker.write_text("a file\n")
    if where == "parallel-is-a-file":
        parallel_dir(repo).write_text("a file\n")
    else:
        root = blocker if where == "root-is-a-file" else blocker / "deeper" / "wt"
        monkeypatch.setenv("PARALLEL_TUI_WORKTREE_ROOT", str(root))
    code, out, err = run_demo(capsys, repo, "a")
    assert code == 2 and out == ""
    assert err.startswith("error: cannot put worktrees in ") and "is a file, not a folder" in err
    assert err.count("\n") == 1
    assert branches(repo) == [] and windows(tmux_socket) == []


@pytest.mark.parametrize("real", [True, False])
def test_a_read_only_parent_folder_is_one_line(
        real: bool, repo_factory: RepoFactory, tmux_socket: str, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    if real and os.geteuid() == 0:
        pytest.skip("root writes into read-only folders")
    repo = repo_factory(FILES)
    parent = repo.parent
    if not real:  # as root, only the permission check itself can be shown
        access = os.access
        monkeypatch.setattr(os, "access", lambda p, mode: Path(p) != parent and access(p, mode))
    parent.chmod(0o555)
    try:
        code, _, err = run_demo(capsys, repo, "a")
    finally:
        parent.chmod(0o755)
    assert code == 2 and f"{parent} is not writable" in err and err.count("\n") == 1
    assert branches(repo) == []


def test_old_journal_gains_the_new_columns(isolated_env: Path) -> None:
    path = isolated_env / "old.sqlite3"
    db = sqlite3.connect(path)
    db.executescript("""
        CREATE TABLE runs (id TEXT PRIMARY KEY, repo TEXT NOT NULL, base_sha TEXT NOT NULL,
            base_ref TEXT NOT NULL, agent TEXT NOT NULL, tmux_socket TEXT NOT NULL,
            tmux_session TEXT NOT NULL, task TEXT NOT NULL, created_at REAL NOT NULL, pid INTEGER NOT NULL);
        INSERT INTO runs VALUES ('r', '/repo', 'abc', 'main', 'demo', '', 's', 't', 1.0, 1);
        CREATE TABLE sessions (run_id TEXT NOT NULL, slug TEXT NOT NULL, name TEXT NOT NULL,
            branch TEXT NOT NULL, worktree TEXT NOT NULL, window_name TEXT NOT NULL,
            window_id TEXT NOT NULL DEFAULT '', agent TEXT NOT NULL,
            agent_session_id TEXT NOT NULL DEFAULT '', owned TEXT NOT NULL, phase TEXT NOT NULL,
            final_state TEXT NOT NULL DEFAULT '', reused INTEGER NOT NULL DEFAULT 0,
            started_at REAL NOT NULL DEFAULT 0, first_activity_at REAL NOT NULL DEFAULT 0,
            ended_at REAL NOT NULL DEFAULT 0, prompt_file TEXT NOT NULL, hook_file TEXT NOT NULL,
            stream_file TEXT NOT NULL, PRIMARY KEY (run_id, slug));
        INSERT INTO sessions (run_id, slug, name, branch, worktree, window_name, agent, owned, phase,
            prompt_file, hook_file, stream_file)
            VALUES ('r', 'a', 'a', 'parallel/a', '/wt/a', 'a', 'demo', '[]', 'started', 'p', 'h', 's');
    """)
    db.close()
    with open_journal(path) as journal:
        [session] = journal.sessions("r")
        assert session.made is True, "old rows were all created by the tool"
        run = journal.run("r")
        assert run is not None and run.tmux_server == ""
    with open_journal(path) as journal:  # idempotent
        assert journal.sessions("r")[0].made is True


def test_server_path_is_where_tmux_itself_would_look() -> None:
    uid = os.getuid()
    assert server_path("", {"TMUX": "/x/a,b.sock,123,0"}) == "/x/a,b.sock"
    assert server_path("mine", {"TMUX": "/x/y.sock,1,0", "TMUX_TMPDIR": "/t"}) == f"/t/tmux-{uid}/mine"
    assert server_path("", {}) == f"/tmp/tmux-{uid}/default"


def test_a_run_starts_its_server_where_no_tmux_ran_before(
        repo_factory: RepoFactory, tmux_socket: str, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    tmpdir = Path(tempfile.mkdtemp(prefix="ptui-", dir="/tmp"))
    monkeypatch.setenv("TMUX_TMPDIR", str(tmpdir))  # no tmux-<uid> folder in it yet
    repo = repo_factory(FILES)
    try:
        code, _, err = run_demo(capsys, repo, "a", "--wait")
        assert code == 0, err
        assert cli(capsys, "cleanup", "--repo", str(repo), "--yes")[0] == 0
    finally:
        server = libtmux.Server(socket_path=tmpdir / f"tmux-{os.getuid()}" / tmux_socket)
        if server.is_alive():
            server.kill()
        subprocess.run(["rm", "-rf", str(tmpdir)], check=False)


def test_resume_is_one_line_when_misused(
        repo_factory: RepoFactory, tmux_socket: str, capsys: pytest.CaptureFixture[str]) -> None:
    repo = repo_factory(FILES)
    for argv, words in ((("--resume", "x", "--tasks", "a"), "takes no --plan, --tasks or --reuse"),
                        (("--resume", "nosuch"), "no run 'nosuch' in the journal"),
                        (("--resume",), "no runs for")):
        code, out, err = cli(capsys, "run", "--repo", str(repo), *argv, "--yes")
        assert code == 2 and out == "" and err.count("\n") == 1 and words in err, err


def test_resume_of_a_finished_run_starts_nothing_again(
        repo_factory: RepoFactory, tmux_socket: str, capsys: pytest.CaptureFixture[str]) -> None:
    repo = repo_factory(FILES)
    assert run_demo(capsys, repo, "a,b", "--wait")[0] == 0
    code, out, err = cli(capsys, "run", "--repo", str(repo), "--resume", "--yes")
    assert code == 0, err
    assert sorted(set(windows(tmux_socket)) - {"parallel-tui"}) == ["a", "b"], "no second window"
    assert git(repo, "rev-list", "--count", "HEAD..parallel/a").strip() == "1"
    assert "a: started" in out


# A run that waited at its prompt never takes over the worktrees another run made meanwhile


def test_a_preflight_taken_meanwhile_is_refused_not_adopted(
        repo_factory: RepoFactory, tmux_socket: str) -> None:
    """Shell A previews (preflight) and waits at `[y/N]`; shell B runs the same tasks with
    --yes; A answers y with its old preflight: refused, naming --reuse, and nothing adopted."""
    repo = repo_factory(FILES)
    engine = build_engine(repo, planner="offline", agent="demo")
    parts = (Subtask(name="a", description="a"), Subtask(name="b", description="b"))
    waited = asyncio.run(engine.preflight(parts, "demo", task="x"))
    other = asyncio.run(engine.start_run(parts, "x", "demo"))
    with pytest.raises(GitError, match="already exists") as refused:
        asyncio.run(engine.start_run(parts, "x", "demo", preflight=waited))
    assert "--reuse" in (refused.value.hint or "")
    with open_journal() as journal:
        runs = journal.runs(str(repo))
        mine = [s for r in runs for s in journal.sessions(r.id)]
    assert [r.id for r in runs] == [other.run_id], "the refused run journaled nothing"
    assert sorted(s.name for s in mine) == ["a", "b"] and not any(s.reused for s in mine)


def test_reuse_never_adopts_a_worktree_whose_agent_still_runs(
        repo_factory: RepoFactory, tmux_socket: str, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """`--reuse` continues on a finished run's branches; while that run's agent still edits
    there, it is refused (two agents in one worktree, committing on one branch), naming the
    session and how to stop it. Once the agent has ended, the same `--reuse` is taken."""
    monkeypatch.setenv("PARALLEL_TUI_DEMO_SECONDS", "30")
    repo = repo_factory(FILES)
    assert run_demo(capsys, repo, "e")[0] == 0
    first = str(status_json(capsys, repo)["run_id"])
    code, _, err = run_demo(capsys, repo, "e", "--reuse")
    assert code != 0, err
    refusal = err.splitlines()[-1]
    assert refusal.startswith(f"error: parallel/e is in use by session e of run {first}"), err
    assert refusal.endswith(f"`parallel-tui stop e --run {first}`)"), err
    with open_journal() as journal:
        assert [r.id for r in journal.runs(str(repo))] == [first], "the refused run journaled nothing"
    assert cli(capsys, "stop", "--repo", str(repo), "--run", first, "e")[0] == 0
    monkeypatch.setenv("PARALLEL_TUI_DEMO_SECONDS", "0")
    code, _, err = run_demo(capsys, repo, "e", "--reuse", "--wait")
    assert code == 0, err


def test_two_repos_with_one_folder_name_get_a_tmux_session_each(
        tmp_path: Path, tmux_socket: str, capsys: pytest.CaptureFixture[str]) -> None:
    from tests.gitrepo import make_repo  # noqa: PLC0415

    first, second = make_repo(tmp_path / "x" / "app", FILES), make_repo(tmp_path / "y" / "app", FILES)
    for repo in (first, second):
        assert run_demo(capsys, repo, "a", "--wait")[0] == 0
    server = libtmux.Server(socket_name=tmux_socket)
    listed = sorted(server.cmd("list-windows", "-a", "-F", "#{session_name}:#{window_name}").stdout)
    assert f"{session_name(first)}:a" in listed and f"{session_name(second)}:a" in listed
    assert session_name(first) != session_name(second)
    assert cli(capsys, "cleanup", "--repo", str(first), "--yes")[0] == 0
    assert [s["name"] for s in status_json(capsys, second)["sessions"]] == ["a"]  # type: ignore[index]

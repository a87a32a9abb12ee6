"""Claude Code's sandbox around a session's shell, with the real CLI against the fake API.

The scripted model does what a model does when a command is blocked: it retries it with
`dangerouslyDisableSandbox: true`. The write outside the worktree must still leave nothing,
while the same session's `git commit` inside lands on its branch, without a prompt, under
`claude -p`. Where bubblewrap is missing (a PATH without it), `sandbox = "on"` falls back to
allowing only git add/commit and the test command, and `strict` refuses to start.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import pytest

from tests.conftest import RepoFactory
from tests.fake_messages_api import FakeMessagesAPI, tool_use
from tests.fake_messages_api import text as answer
from tests.gitrepo import git
from tests.run_helpers import branches, cli
from tests.test_claude_e2e import SKIP_E2E, claude_bin
from tests.test_run_claude_e2e import claude_env, sessions, side_requests, trusted_repo

__all__ = ["claude_bin", "claude_env"]

pytestmark = [pytest.mark.e2e, pytest.mark.tmux]


@pytest.fixture
def sandbox_programs() -> None:
    """`make test` runs these with the sandbox on: a machine without it fails, naming the fix,
    unless the e2e tests are skipped on purpose (as for a missing `claude`)."""
    if shutil.which("bwrap") and shutil.which("socat"):
        return
    if SKIP_E2E:
        pytest.skip("PARALLEL_TUI_SKIP_E2E=1 and no bubblewrap/socat")
    pytest.fail("Claude Code's sandbox needs bubblewrap and socat: `apt-get install bubblewrap socat` "
                "(`.ci/run` does it), or set PARALLEL_TUI_SKIP_E2E=1 to skip these tests on purpose",
                pytrace=False)


needs_bwrap = pytest.mark.usefixtures("sandbox_programs")


def tool_results(api: FakeMessagesAPI) -> list[str]:
    return [json.dumps(r.body["messages"][-1]) for r in api.requests if r.body.get("tools")]


def path_without(tmp: Path, missing: set[str]) -> str:
    """A PATH that has every program of this one except `missing` (symlinks in one folder)."""
    folder = tmp / "bin"
    folder.mkdir(exist_ok=True)
    for directory in reversed(os.environ["PATH"].split(os.pathsep)):
        if not directory or not Path(directory).is_dir():
            continue
        for program in Path(directory).iterdir():
            target = folder / program.name
            if program.name not in missing and not target.is_symlink():
                target.symlink_to(program)
    return str(folder)


@needs_bwrap
@pytest.mark.usefixtures("claude_bin", "claude_env", "tmux_socket")
def test_an_escape_retry_writes_nothing_outside_and_the_commit_inside_lands(
        repo_factory: RepoFactory, isolated_env: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    repo = trusted_repo(repo_factory, isolated_env)
    outside = repo.parent / "outside"
    outside.mkdir()
    config_file = isolated_env / "ptui" / "config.toml"
    script = [
        tool_use("Bash", {"command": f"echo x > {outside}/escaped.txt", "dangerouslyDisableSandbox": True}),
        tool_use("Bash", {"command": f"echo 'ownership = \"off\"' >> {config_file}",
                          "dangerouslyDisableSandbox": True}),
        tool_use("Bash", {"command": "echo hi > hello.txt && git add hello.txt && "
                                     "git commit -q -m 'sandboxed commit'"}),
        answer("DONE")]
    with FakeMessagesAPI(script, router=side_requests) as api:
        monkeypatch.setenv("ANTHROPIC_BASE_URL", api.url)
        code, _, err = cli(capsys, "run", "--repo", str(repo), "--tasks", "hello", "--prompt",
                           "Create hello.txt and commit it", "--agent", "claude-headless", "--yes", "--wait")
    assert code == 0, err
    assert git(repo, "log", "-1", "--format=%s", "parallel/hello").strip() == "sandboxed commit"
    assert "shell sandboxed" in err
    assert not (outside / "escaped.txt").exists()
    assert not config_file.exists() or "ownership" not in config_file.read_text()
    results = tool_results(api)
    assert sum("Read-only file system" in r for r in results) >= 2, results
    assert git(repo, "log", "-1", "--format=%s", "parallel/hello").strip() == "sandboxed commit"
    assert git(repo, "show", "parallel/hello:hello.txt") == "hi\n"
    [session] = sessions(capsys, repo)
    assert session["state"] == "done"


@pytest.mark.usefixtures("claude_bin", "claude_env", "tmux_socket")
def test_without_bubblewrap_a_headless_session_still_runs_the_tests_and_commits(
        repo_factory: RepoFactory, isolated_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """`sandbox = "on"` where the sandbox is unavailable: only git add, git commit and the
    configured test command run without a prompt; anything else is refused under `-p`."""
    repo = trusted_repo(repo_factory, isolated_env)
    monkeypatch.setenv("PARALLEL_TUI_TEST_COMMAND", "sh check.sh")
    monkeypatch.setenv("PATH", path_without(tmp_path, {"bwrap", "socat"}))
    outside = repo.parent / "outside"
    outside.mkdir()
    (repo / "check.sh").write_text("echo tests ran > tests.out\n")
    git(repo, "add", "check.sh")
    git(repo, "commit", "-q", "-m", "tests")
    script = [tool_use("Bash", {"command": "sh check.sh"}),
              tool_use("Bash", {"command": "git add tests.out"}),
              tool_use("Bash", {"command": "git commit -q -m 'tests pass'"}),
              tool_use("Bash", {"command": f"touch {outside}/stray.txt"}),
              answer("DONE")]
    with FakeMessagesAPI(script, router=side_requests) as api:
        monkeypatch.setenv("ANTHROPIC_BASE_URL", api.url)
        code, _, err = cli(capsys, "run", "--repo", str(repo), "--tasks", "t", "--prompt", "Run the tests",
                           "--agent", "claude-headless", "--yes", "--wait")
        assert code == 0, err
    assert git(repo, "log", "-1", "--format=%s", "parallel/t").strip() == "tests pass"
    assert "sandbox unavailable (bubblewrap, socat missing" in err
    assert "apt-get install bubblewrap socat" in err
    assert git(repo, "show", "parallel/t:tests.out") == "tests ran\n"
    assert not (outside / "stray.txt").exists()
    code, out, _ = cli(capsys, "status", "--repo", str(repo), "--json")
    status = json.loads(out)
    assert "sandbox unavailable" in status["sandbox"] and status["sandboxed"] is False


@pytest.mark.usefixtures("claude_bin", "tmux_socket")
def test_strict_refuses_to_start_where_bubblewrap_is_missing(
        repo_factory: RepoFactory, isolated_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    repo = trusted_repo(repo_factory, isolated_env)
    monkeypatch.setenv("PARALLEL_TUI_SANDBOX", "strict")
    monkeypatch.setenv("PATH", path_without(tmp_path, {"bwrap"}))
    code, _, err = cli(capsys, "run", "--repo", str(repo), "--tasks", "t", "--prompt", "x",
                       "--agent", "claude-headless", "--yes")
    assert code != 0
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert "bubblewrap missing" in lines[0] and "apt-get install bubblewrap socat" in lines[0]
    assert branches(repo) == []
    assert not (repo.parent / f"{repo.name}.parallel").exists()


@needs_bwrap
@pytest.mark.usefixtures("claude_bin", "claude_env", "tmux_socket")
def test_a_headless_session_is_refused_a_new_domain_at_once_and_carries_on(
        repo_factory: RepoFactory, isolated_env: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """Under `claude -p` nobody can answer the proxy's question: 2.1.197 answers 403 at once
    (no stall), and the session goes on to finish."""
    repo = trusted_repo(repo_factory, isolated_env)
    fetch = ("python3 -c \"import urllib.request as u\ntry: u.urlopen('http://not-allowed.invalid/', "
             "timeout=20)\nexcept Exception as e: print('refused', e)\"")
    script = [tool_use("Bash", {"command": fetch}), answer("DONE")]
    with FakeMessagesAPI(script, router=side_requests) as api:
        monkeypatch.setenv("ANTHROPIC_BASE_URL", api.url)
        code, _, err = cli(capsys, "run", "--repo", str(repo), "--tasks", "net", "--prompt", "fetch",
                           "--agent", "claude-headless", "--yes", "--wait")
    assert code == 0, err
    [result] = [r for r in tool_results(api) if "refused" in r]
    assert "403" in result, result
    [session] = sessions(capsys, repo)
    assert session["state"] == "done" and float(str(session["elapsed_s"])) < 20


@needs_bwrap
@pytest.mark.usefixtures("claude_bin", "claude_env", "tmux_socket")
def test_an_interactive_network_question_shows_as_needs_input(
        repo_factory: RepoFactory, isolated_env: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """In an interactive session the sandbox's proxy asks about a new domain; no hook fires and
    the registry says busy, so only the screen tells: the board must say needs input."""
    repo = trusted_repo(repo_factory, isolated_env)
    fetch = "python3 -c \"import urllib.request as u; u.urlopen('http://not-allowed.invalid/', timeout=60)\""
    script = [tool_use("Bash", {"command": fetch}), answer("DONE")]
    seen: list[tuple[object, object]] = []
    with FakeMessagesAPI(script, router=side_requests) as api:
        monkeypatch.setenv("ANTHROPIC_BASE_URL", api.url)
        code, _, err = cli(capsys, "run", "--repo", str(repo), "--tasks", "net", "--prompt", "fetch",
                           "--agent", "claude", "--yes")
        assert code == 0, err
        deadline = time.monotonic() + 45
        while time.monotonic() < deadline and (not seen or seen[-1][0] != "needs_input"):
            [session] = sessions(capsys, repo)
            seen.append((session["state"], session["source"]))
            time.sleep(0.5)
        assert cli(capsys, "cleanup", "--repo", str(repo), "--yes", "--force")[0] == 0
    assert seen[-1] == ("needs_input", "pane_text"), seen[-10:]

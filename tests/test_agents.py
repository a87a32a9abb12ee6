"""The other agents' launch pieces without their CLIs: what is refused before a run, what the
picker marks, how their results and edits are read. The e2e modules run the real CLIs."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from textual.widgets import Select

from engine.agents import codex, gemini, ownership_hook, results
from engine.agents.descriptors import AGENTS, check_installed, offered
from engine.agents.hooks import state_of
from engine.cli.status_cmd import status_lines
from engine.core.errors import UsageError
from engine.core.models import SessionState
from engine.run.status import RunStatus, SessionStatus
from engine.service import build_engine
from tests.conftest import RepoFactory
from tests.gitrepo import git
from tests.run_helpers import FILES, cli
from tui.app import ParallelApp
from tui.backend import NOT_INSTALLED
from tui.task_screen import TaskScreen


def _no_agent_clis(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A PATH with git and the shell, but none of the agent CLIs."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("git", "tmux", "sh", "cat", "env"):
        for folder in ("/usr/bin", "/bin", "/usr/local/bin"):
            if (Path(folder) / tool).exists():
                (bin_dir / tool).symlink_to(Path(folder) / tool)
                break
    monkeypatch.setenv("PATH", str(bin_dir))


def test_a_missing_cli_is_refused_naming_its_install_command_and_the_installed_agents(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    _no_agent_clis(monkeypatch, tmp_path)
    with pytest.raises(UsageError) as caught:
        check_installed(AGENTS["codex-headless"])
    assert "`codex`" in caught.value.problem
    assert "npm install -g @openai/codex@0.171.0" in caught.value.hint
    assert caught.value.hint.endswith("pick an installed agent: demo")
    assert dict(offered()) == {name: name == "demo" for name, _ in offered()}


def test_run_with_a_missing_agent_stops_before_anything_is_created(
        repo_factory: RepoFactory, monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    repo = repo_factory(FILES)
    _no_agent_clis(monkeypatch, tmp_path)
    code, _, err = cli(capsys, "run", "--repo", str(repo), "--tasks", "a", "--prompt", "x",
                       "--agent", "gemini-headless", "--yes")
    assert code != 0
    assert "npm install -g @google/gemini-cli@0.61.0" in err, err
    assert not (repo.parent / f"{repo.name}.parallel").exists()


async def test_the_picker_marks_agents_whose_cli_is_missing(
        web_repo: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    _no_agent_clis(monkeypatch, tmp_path)
    app = ParallelApp(build_engine(web_repo, planner="offline", agent="demo"), planner="offline",
                      label="test-repo", still=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, TaskScreen)
        picker = app.screen.query_one("#agent", Select)
        labels = {str(value): str(label) for label, value in picker._options if value is not Select.BLANK}
    assert labels["demo"] == "demo"
    assert labels["codex"] == "codex" + NOT_INSTALLED
    assert labels["gemini-headless"] == "gemini-headless" + NOT_INSTALLED
    assert "aider" not in labels  # withdrawn


def test_codex_sandbox_makes_both_git_dirs_of_a_linked_worktree_writable(repo_factory: RepoFactory) -> None:
    repo = repo_factory(FILES)
    worktree = repo.parent / "wt"
    git(repo, "worktree", "add", "-q", str(worktree), "-b", "w")
    words = codex.sandbox_args(worktree, "on")
    assert words[:2] == ["--sandbox", "workspace-write"]
    roots = [words[i + 1] for i, w in enumerate(words) if w == "--add-dir"]
    assert roots == [str((repo / ".git").resolve()), str((repo / ".git" / "worktrees" / "wt").resolve())]
    assert codex.sandbox_args(worktree, "off") == ["--sandbox", "danger-full-access"]
    with pytest.raises(ValueError, match="sandbox mode"):
        codex.sandbox_args(worktree, "maybe")


def test_codex_hooks_go_on_the_command_line_with_the_ownership_hook_on_apply_patch(tmp_path: Path) -> None:
    hook_file = tmp_path / "s.hook.jsonl"
    plain = codex.hook_overrides(hook_file)
    assert plain[0] == "--dangerously-bypass-hook-trust"
    assert not any(ownership_hook.PATCH_TOOL in w for w in plain)
    owners = ownership_hook.ownership_file_for(hook_file)
    owners.write_text(json.dumps({"mode": "deny"}))
    guarded = [w for w in codex.hook_overrides(hook_file) if w.startswith("hooks.PreToolUse=")]
    assert len(guarded) == 1 and '"apply_patch"' in guarded[0] and "ownership_hook.py" in guarded[0]


def test_patch_paths_name_every_file_a_patch_touches() -> None:
    patch = ("*** Begin Patch\n*** Add File: a.txt\n+x\n*** Update File: src/b.py\n*** Move to: src/c.py\n"
             "@@\n-x\n+y\n*** Delete File: d.txt\n*** End Patch\n")
    assert ownership_hook.patch_paths(patch) == ["a.txt", "src/b.py", "src/c.py", "d.txt"]
    with pytest.raises(ValueError, match="file header"):
        ownership_hook.patch_paths("rm -rf /")


def test_a_patch_touching_another_subtask_s_file_is_refused(tmp_path: Path) -> None:
    config = {"mode": "deny", "subtask": "a", "worktree": str(tmp_path), "owned": ["a.txt"],
              "others": {"b": ["b.txt"]}, "elsewhere": {}, "hook_file": str(tmp_path / "h.jsonl")}
    mine = {"tool_name": "apply_patch", "cwd": str(tmp_path),
            "tool_input": {"command": "*** Begin Patch\n*** Add File: a.txt\n+x\n*** End Patch\n"}}
    assert ownership_hook.decide(config, mine, 1.0) is None
    both = {**mine, "tool_input": {"command": "*** Begin Patch\n*** Add File: a.txt\n+x\n"
                                              "*** Update File: b.txt\n+y\n*** End Patch\n"}}
    out = ownership_hook.decide(config, both, 1.0)
    assert out is not None and out["hookSpecificOutput"]["permissionDecision"] == "deny"  # type: ignore[index]


def test_the_gemini_form_of_the_ownership_hook_blocks_with_exit_2(tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    owners = tmp_path / "o.json"
    owners.write_text(json.dumps({"mode": "deny", "subtask": "a", "worktree": str(tmp_path),
                                  "owned": ["a.txt"], "others": {"b": ["b.txt"]}, "elsewhere": {},
                                  "hook_file": str(tmp_path / "h")}))
    payload = json.dumps({"tool_name": "write_file", "cwd": str(tmp_path),
                          "tool_input": {"file_path": "b.txt", "content": "x"}})
    out = io.StringIO()
    assert ownership_hook.main(["hook", str(owners), "gemini"], io.StringIO(payload), out) == 2
    assert out.getvalue() == ""
    assert "belongs to subtask b" in capsys.readouterr().err


def test_codex_and_gemini_results_carry_tokens_and_errors(tmp_path: Path) -> None:
    stream = tmp_path / "s.jsonl"
    stream.write_text("\n".join(json.dumps(x) for x in [
        {"type": "thread.started", "thread_id": "t1"}, {"type": "turn.started"},
        {"type": "item.completed", "item": {"type": "agent_message", "text": "All done"}},
        {"type": "turn.completed",
         "usage": {"input_tokens": 300, "cached_input_tokens": 0, "output_tokens": 20}}]))
    done = results.read_result(stream)
    assert done is not None and not done.is_error and done.tokens == 320
    assert (done.result, done.session_id, done.cost_usd) == ("All done", "t1", None)
    stream.write_text(json.dumps({"type": "error", "message": "Missing environment variable: `K`."})
                      + "\n" + json.dumps({"type": "turn.failed", "error": {"message": "Missing variable"}}))
    failed = results.read_result(stream)
    assert failed is not None and failed.is_error and "Missing" in failed.result
    stream.write_text(json.dumps({"type": "result", "status": "success",
                                  "stats": {"input_tokens": 900, "output_tokens": 60, "total_tokens": 960}}))
    gem = results.read_result(stream)
    assert gem is not None and not gem.is_error and gem.tokens == 960
    stream.write_text(json.dumps({"type": "result", "is_error": False, "result": "ok", "total_cost_usd": 0.5,
                                  "usage": {"input_tokens": 10, "output_tokens": 5}}))
    claude = results.read_result(stream)
    assert claude is not None and claude.tokens == 15 and claude.cost_usd == 0.5
    stream.write_text(json.dumps({"type": "turn.started"}))
    assert results.read_result(stream) is None


def test_gemini_hook_events_map_to_states() -> None:
    assert state_of({"event": "BeforeTool", "tool_name": "write_file"}) == (SessionState.WORKING,
                                                                           "BeforeTool write_file")
    assert state_of({"event": "AfterAgent"}) == (SessionState.IDLE, "AfterAgent")
    assert state_of({"event": "Notification", "notification_type": "ToolPermission"}) == (
        SessionState.NEEDS_INPUT, "Notification ToolPermission")


@pytest.mark.parametrize(("listed", "trusted"), [
    ({"{repo}": "TRUST_FOLDER"}, True), ({"{parent}": "TRUST_FOLDER"}, True),
    ({"{repo}/sub": "TRUST_PARENT"}, True), ({"{repo}": "DO_NOT_TRUST"}, False),
    ({"{repo}/sub": "TRUST_FOLDER"}, False), ({}, False)])
def test_gemini_trust_follows_the_user_s_trusted_folders(tmp_path: Path, listed: dict[str, str],
                                                         trusted: bool) -> None:
    repo = tmp_path / "work" / "repo"
    repo.mkdir(parents=True)
    home = tmp_path / "home"
    (home / ".gemini").mkdir(parents=True)
    entries = {k.format(repo=repo, parent=repo.parent): v for k, v in listed.items()}
    (home / ".gemini" / "trustedFolders.json").write_text(json.dumps(entries))
    assert gemini.trusts(repo, {"GEMINI_CLI_HOME": str(home)}) is trusted


def test_gemini_session_home_links_the_user_s_folder_and_adds_hooks_to_a_copy(tmp_path: Path) -> None:
    user = tmp_path / "user"
    (user / ".gemini").mkdir(parents=True)
    mine = {"security": {"auth": {"selectedType": "gemini-api-key"}},
            "hooks": {"AfterAgent": [{"hooks": [{"type": "command", "command": "notify-me"}]}]}}
    (user / ".gemini" / "settings.json").write_text(json.dumps(mine))
    (user / ".gemini" / "oauth_creds.json").write_text("{}")
    hook_file = tmp_path / "run" / "s.hook.jsonl"
    hook_file.parent.mkdir()
    home = gemini.session_home(hook_file, {"GEMINI_CLI_HOME": str(user)})
    assert (home / ".gemini" / "oauth_creds.json").resolve() == (user / ".gemini" / "oauth_creds.json")
    settings = json.loads((home / ".gemini" / "settings.json").read_text())
    assert settings["security"] == mine["security"]
    commands = [h["command"] for g in settings["hooks"]["AfterAgent"] for h in g["hooks"]]
    assert commands[0] == "notify-me" and "hook_writer.py" in commands[1]
    assert json.loads((user / ".gemini" / "settings.json").read_text()) == mine


def test_strict_sandbox_refuses_gemini_without_docker_or_podman(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _no_agent_clis(monkeypatch, tmp_path)
    repo = tmp_path / "repo"
    repo.mkdir()
    home = tmp_path / "home"
    (home / ".gemini").mkdir(parents=True)
    (home / ".gemini" / "trustedFolders.json").write_text(json.dumps({str(repo): "TRUST_FOLDER"}))
    environ = {"GEMINI_CLI_HOME": str(home)}
    gemini.check(repo, "on", environ)  # runs unsandboxed: nothing to refuse
    with pytest.raises(UsageError, match="needs Docker or Podman"):
        gemini.check(repo, "strict", environ)
    assert gemini.launch_args("strict") == ["--sandbox"] and gemini.launch_args("on") == []


def test_status_text_shows_tokens_where_the_agent_reports_them() -> None:
    def session(tokens: int | None) -> SessionStatus:
        return SessionStatus(name="a", slug="a", branch="parallel/a", worktree="/w", agent="codex-headless",
                             window="@1", state=SessionState.DONE, source="pane", detail="", problem="",
                             elapsed_s=1.0, commits=1, files_changed=1, changed_files=("a.txt",),
                             cost_usd=None, last_line="", tokens=tokens)
    shown = [status_lines(RunStatus(run_id="r", repo="/r", base_sha="0" * 40, base_ref="main",
                                    tmux_session="s", attach="", orchestrator="gone", sessions=(session(t),),
                                    overlaps=()))[1]
             for t in (12345, None)]
    assert shown[0].endswith("1 file(s) 12,345 tokens  parallel/a") and "tokens" not in shown[1]

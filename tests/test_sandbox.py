"""The sandbox mode, its config values, and the one `--settings` builder."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from engine.agents.descriptors import AGENTS, LaunchContext, build_argv, check_sandbox
from engine.claude.settings import SECRETS, session_settings
from engine.cli.main import main
from engine.core.config import DEFAULT_ALLOWED_DOMAINS, ParallelConfig, load_config
from engine.core.errors import ConfigError, UsageError
from engine.core.sandbox import (
    SessionSettings,
    missing_programs,
    plan_sandbox,
    widening,
)
from tests.conftest import RepoFactory


def built(**kwargs: object) -> dict[str, object]:
    data: dict[str, object] = json.loads(session_settings(SessionSettings(**kwargs)))  # type: ignore[arg-type]
    return data


def test_a_sandboxed_session_allows_bash_only_inside_a_closed_sandbox(tmp_path: Path) -> None:
    settings = built(status_file=tmp_path / "s.hook.jsonl", shell="sandboxed", allowed_domains=("pypi.org",))
    assert settings["permissions"] == {"allow": ["Bash"]}
    sandbox = settings["sandbox"]
    assert isinstance(sandbox, dict)
    assert sandbox["enabled"] is True and sandbox["failIfUnavailable"] is True
    assert sandbox["allowUnsandboxedCommands"] is False  # the retry with dangerouslyDisableSandbox fails
    assert {"~/.ssh", "~/.aws", "~/.config/gh", "~/.gnupg"} <= set(sandbox["filesystem"]["denyRead"])
    assert "allowWrite" not in sandbox["filesystem"]  # never wider than the worktree + temp dir
    assert sandbox["network"] == {"allowedDomains": ["pypi.org"]}
    assert "SessionStart" in settings["hooks"]  # type: ignore[operator]


def test_without_a_sandbox_only_git_add_commit_and_the_test_command_are_allowed(tmp_path: Path) -> None:
    settings = built(status_file=tmp_path / "s.hook.jsonl", shell="limited", test_command="make test")
    assert settings["permissions"] == {"allow": ["Bash(git add:*)", "Bash(git commit:*)", "Bash(make test)"]}
    assert "sandbox" not in settings
    off = built(status_file=tmp_path / "s.hook.jsonl", shell="asks")
    assert set(off) == {"hooks", "statusLine"}  # no permissions, no sandbox


def test_secrets_under_a_given_home_are_spelled_out(tmp_path: Path) -> None:
    settings = built(status_file=tmp_path / "h", shell="sandboxed", home=tmp_path)
    denied = settings["sandbox"]["filesystem"]["denyRead"]  # type: ignore[index]
    assert str(tmp_path / ".ssh") in denied and len(denied) == len(SECRETS)


def ctx(tmp_path: Path, shell: str) -> LaunchContext:
    return LaunchContext(name="a", worktree=tmp_path, prompt_file=tmp_path / "p", files=(), specialist="",
                         hook_file=tmp_path / "a.hook.jsonl", stream_file=tmp_path / "s",
                         exit_file=tmp_path / "e", shell=shell)  # type: ignore[arg-type]


@pytest.mark.parametrize("agent", ["claude", "claude-headless"])
def test_interactive_and_headless_sessions_both_get_the_builders_settings(tmp_path: Path, agent: str) -> None:
    config = ParallelConfig(sandbox_allowed_domains=("example.org",))
    argv = build_argv(AGENTS[agent], ctx(tmp_path, "sandboxed"), config, session_settings)
    [word] = [w for w in argv if w.startswith("--settings=")]
    settings = json.loads(word.removeprefix("--settings="))
    assert settings["sandbox"]["network"]["allowedDomains"] == ["example.org"]
    assert settings["permissions"] == {"allow": ["Bash"]}


def test_which_shell_each_agent_gets() -> None:
    with_all = {"PATH": "/usr/bin:/bin"}
    assert missing_programs({"PATH": "/nonexistent"}, "linux") == ("bubblewrap", "socat")
    assert missing_programs({"PATH": "/nonexistent"}, "darwin") == ()
    assert plan_sandbox("on", "gemini", with_all).shell == "unsandboxed"
    assert "gemini runs unsandboxed" in plan_sandbox("on", "gemini").note
    assert plan_sandbox("on", "codex", {"PATH": "/nonexistent"}, "linux").shell == "sandboxed"  # its own
    assert "Codex's workspace-write" in plan_sandbox("on", "codex").note
    assert plan_sandbox("off", "codex").shell == "unsandboxed"
    # Gemini's container sandbox runs under strict only (a missing runtime is refused before)
    assert plan_sandbox("strict", "gemini").shell == "sandboxed"
    assert "container sandbox" in plan_sandbox("strict", "gemini-headless").note
    assert plan_sandbox("off", "claude").shell == "asks"
    limited = plan_sandbox("on", "claude", {"PATH": "/nonexistent"}, "linux")
    assert limited.shell == "limited" and "apt-get install bubblewrap socat" in limited.note


def test_strict_refuses_an_unavailable_sandbox_and_an_unsandboxed_agent(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(UsageError, match="bubblewrap, socat missing") as caught:
        check_sandbox(AGENTS["claude"], ParallelConfig(sandbox="strict"))
    assert "apt-get install bubblewrap socat" in caught.value.hint
    with pytest.raises(UsageError, match="'demo' runs unsandboxed"):
        check_sandbox(AGENTS["demo"], ParallelConfig(sandbox="strict"))
    assert check_sandbox(AGENTS["claude"], ParallelConfig(sandbox="on")).shell == "limited"


def test_config_values_are_checked(tmp_path: Path) -> None:
    assert load_config(env={}).sandbox == "on"
    assert load_config(env={}).sandbox_allowed_domains == DEFAULT_ALLOWED_DOMAINS
    env = {"PARALLEL_TUI_SANDBOX_ALLOWED_DOMAINS": "a.example, *.b.example"}
    assert load_config(env=env).sandbox_allowed_domains == ("a.example", "*.b.example")
    (tmp_path / ".parallel-tui.toml").write_text('sandbox = "strict"\nsandbox_allowed_domains = []\n')
    repo_config = load_config(tmp_path, env={})
    assert (repo_config.sandbox, repo_config.sandbox_allowed_domains) == ("strict", ())
    with pytest.raises(ConfigError, match=r"sandbox='maybe'.*unknown"):
        load_config(env={"PARALLEL_TUI_SANDBOX": "maybe"})
    for bad in ("https://pypi.org/", "a b/c", "-x.org"):
        with pytest.raises(ConfigError, match="not a domain name"):
            load_config(env={"PARALLEL_TUI_SANDBOX_ALLOWED_DOMAINS": bad})
    (tmp_path / ".parallel-tui.toml").write_text("sandbox_allowed_domains = [1]\n")
    with pytest.raises(ConfigError, match="not a list of domains"):
        load_config(tmp_path, env={})


WIDENING_REPO_SETTINGS = {  # what widened a session's sandbox on 2.1.197 (facts §9, tested here)
    "sandbox": {"enabled": False, "allowUnsandboxedCommands": True,
                "filesystem": {"allowWrite": ["/srv/shared"], "allowRead": ["~/.ssh"]},
                "network": {"allowedDomains": ["example.com"]}},
    "permissions": {"allow": ["Edit(/etc/**)", "Bash(ls)"]}}


def test_what_a_repos_claude_settings_add_to_the_sandbox() -> None:
    added = widening(WIDENING_REPO_SETTINGS)
    assert added == ["sandbox.filesystem.allowWrite lets commands write to /srv/shared",
                     "sandbox.filesystem.allowRead lets commands read (even hidden secrets) ~/.ssh",
                     "sandbox.network.allowedDomains lets commands reach example.com",
                     "permissions.allow Edit(/etc/**) (Edit and WebFetch rules widen the sandbox)"]
    assert widening({"sandbox": {"enabled": True}, "hooks": {}}) == [] and widening([1]) == []


def test_plan_review_says_when_the_repo_widens_the_sandbox_or_the_agent_runs_unsandboxed(
        repo_factory: RepoFactory, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    repo = repo_factory({"README.md": "# r\n", "src/a.py": "A = 1\n",
                         ".claude/settings.json": json.dumps(WIDENING_REPO_SETTINGS)})
    plan = repo.parent / "plan.json"
    plan.write_text(json.dumps({"task": "t", "subtasks": [{"name": "a", "files_to_modify": ["src/a.py"]}]}))
    monkeypatch.setenv("PARALLEL_TUI_DEFAULT_AGENT", "claude")
    main(["plan", "--validate", str(plan), "--repo", str(repo)])
    out = capsys.readouterr().out
    if shutil.which("bwrap") and shutil.which("socat"):
        assert "widens every session's sandbox: sandbox.filesystem.allowWrite" in out, out
    else:
        assert "sandbox unavailable" in out, out
    monkeypatch.setenv("PARALLEL_TUI_DEFAULT_AGENT", "gemini")
    main(["plan", "--validate", str(plan), "--repo", str(repo)])
    assert "gemini runs unsandboxed" in capsys.readouterr().out

"""install-claude: files written from package data, never overwritten without --force."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from engine.claude.install import SPECIALISTS, install, matrix_agents, planned_files
from engine.cli.main import VERBS, main
from engine.planning.matching import DEFAULT, TASK_MATRIX
from tests.gitrepo import make_repo

EXPECTED_AGENTS = {"security-engineer", "backend-architect", "frontend-architect", "quality-engineer",
                   "refactoring-expert", "root-cause-analyst", "technical-writer", "performance-engineer",
                   "devops-architect", "system-architect", "general-purpose"}


def frontmatter(text: str) -> dict[str, str]:
    match = re.match(r"---\n(.*?)\n---\n", text, re.DOTALL)
    assert match, text[:200]
    fields = {}
    for line in match.group(1).splitlines():
        key, _, value = line.partition(": ")
        fields[key] = json.loads(value) if value.startswith('"') else value
    return fields


def test_every_matrix_agent_has_a_specialist_file() -> None:
    agents = set(matrix_agents())
    assert agents == EXPECTED_AGENTS
    assert agents == {a for _, a, _, _ in TASK_MATRIX} | {DEFAULT.name}
    assert set(SPECIALISTS) == agents
    files = planned_files()
    for agent in agents:
        meta = frontmatter(files[f".claude/agents/{agent}.md"])
        assert meta["name"] == agent
        assert len(meta["description"]) > 30
        assert "Read" in meta["tools"]
        assert meta["model"] in ("inherit", "sonnet", "opus", "haiku")


def test_orchestrator_agent_is_reached_for_on_the_spec_triggers() -> None:
    meta = frontmatter(planned_files()[".claude/agents/parallel-orchestrator.md"])
    assert meta["name"] == "parallel-orchestrator"
    for phrase in ("run in parallel", "split this task", "complex multi-part task"):
        assert phrase in meta["description"]
    assert meta["tools"] == "Read, Bash, Grep, Glob"


def test_commands_call_the_cli_with_zero_based_arguments() -> None:
    files = planned_files()
    parallel = files[".claude/commands/parallel.md"]
    orchestrate = files[".claude/commands/orchestrate.md"]
    for body in (parallel, orchestrate):
        meta = frontmatter(body)
        assert meta["description"]
        assert "Bash(parallel-tui:*)" in meta["allowed-tools"]
        assert "$ARGUMENTS" in body
        assert "$0" in body  # Claude Code 2.1 numbers arguments from $0
        assert "parallel-tui plan" in body
        assert "--json" in body
    assert "$1" in parallel  # --tasks <names>: the second argument
    assert "parallel-tui analyze --json" in parallel
    assert "parallel-tui check" in parallel and "git merge-tree" not in parallel  # --check uses the engine
    assert "parallel-tui run --plan" in orchestrate
    assert "parallel-tui status --json" in orchestrate
    assert "'\\''" in parallel  # the quoting rule for task text in shell commands


def test_install_writes_then_skips_then_force_overwrites(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "r")
    first = install(root)
    assert len(first.written) == 14
    assert not first.skipped
    parallel = ".claude/commands/parallel.md"
    assert (root / parallel).read_text() == planned_files()[parallel]
    mine = root / ".claude/agents/security-engineer.md"
    mine.write_text("my own agent\n", encoding="utf-8")
    second = install(root)
    assert not second.written
    assert not second.overwritten
    assert ".claude/agents/security-engineer.md" in second.skipped
    assert mine.read_text() == "my own agent\n"
    forced = install(root, force=True)
    assert forced.overwritten == (".claude/agents/security-engineer.md",)  # identical ones untouched
    assert mine.read_text() == planned_files()[".claude/agents/security-engineer.md"]


def test_cli_verb_json_and_text(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert "install-claude" in VERBS
    root = make_repo(tmp_path / "r")  # no commits: still fine
    (root / "sub").mkdir()
    assert main(["install-claude", "--repo", str(root / "sub"), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["root"] == str(root)
    assert len(report["written"]) == 14
    (root / ".claude/commands/parallel.md").write_text("edited\n", encoding="utf-8")
    assert main(["install-claude", "--repo", str(root)]) == 0
    out = capsys.readouterr().out
    assert "skipped      .claude/commands/parallel.md (exists; --force overwrites)" in out
    assert main(["install-claude", "--repo", str(root), "--force", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["overwritten"] == [".claude/commands/parallel.md"]


def test_cli_outside_a_repo_is_a_git_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["install-claude", "--repo", str(tmp_path)]) == 3
    assert "not inside a git repository" in capsys.readouterr().err


def test_a_file_where_a_folder_goes_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    repo = make_repo(tmp_path / "r", {"README.md": "x\n"})
    (repo / ".claude").write_text("not a folder\n")
    assert main(["install-claude", "--repo", str(repo)]) == 8
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: cannot write ") and ".claude" in err


def test_identical_files_are_up_to_date_not_skipped(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "r", {"README.md": "x\n"})
    install(repo)
    again = install(repo, force=True)
    assert again.skipped == () and again.overwritten == ()
    assert len(again.unchanged) == len(install(repo).unchanged) > 0

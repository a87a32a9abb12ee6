"""`table` and `install-claude` as Engine commands: the rules (which repo caps the rows, where
.claude/ goes) live in the engine; the CLI modules only parse and render."""

from __future__ import annotations

import ast
import asyncio
import json
import subprocess
from pathlib import Path

import pytest

from engine.core.errors import GitError
from engine.planning.overhead import MAX_ROWS
from engine.service import build_engine
from tests.conftest import RepoFactory
from tests.run_helpers import cli

CLI = Path(__file__).resolve().parent.parent / "engine" / "cli"
TWO_FILES = {"a.py": "1\n", "b.py": "2\n"}
"""A repo with two files: the structure caps the splits well below the model's ten."""


def test_table_caps_by_the_repo_only_when_there_is_one(repo_factory: RepoFactory, tmp_path: Path) -> None:
    engine = build_engine(repo_factory(TWO_FILES), inline=True, resolve=False)
    capped = asyncio.run(engine.table(45, repo=None)).table
    pure = asyncio.run(engine.table(45, repo=False)).table
    assert capped.split_cap < pure.split_cap and len(pure.rows) == MAX_ROWS
    assert asyncio.run(engine.table(45, repo=True)).table == capped
    outside = build_engine(tmp_path, inline=True, resolve=False)
    assert asyncio.run(outside.table(45)).table == pure  # not a repo: the pure model
    with pytest.raises(GitError, match="not inside a git repository"):
        asyncio.run(outside.table(45, repo=True))


def test_install_claude_writes_once_then_finds_it_up_to_date(tmp_path: Path) -> None:
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)  # no commit needed
    engine = build_engine(tmp_path, inline=True, resolve=False)
    first = asyncio.run(engine.install_claude())
    again = asyncio.run(engine.install_claude())
    assert first.written and not first.unchanged
    assert not again.written and set(again.unchanged) == set(first.written)


def test_the_cli_prints_what_the_engine_returns(repo_factory: RepoFactory,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    repo = repo_factory(TWO_FILES)
    code, out, err = cli(capsys, "table", "--minutes", "45", "--repo", str(repo), "--json")
    assert code == 0, err
    view = asyncio.run(build_engine(repo, inline=True).table(45, repo=True))
    assert json.loads(out)["split_cap"] == view.table.split_cap < MAX_ROWS
    code, out, err = cli(capsys, "install-claude", "--repo", str(repo), "--json")
    assert code == 0 and json.loads(out)["written"], err


@pytest.mark.parametrize("module", ["table_cmd.py", "install_claude_cmd.py"])
def test_the_verb_modules_reach_no_rule_below_the_engine(module: str) -> None:
    """They import the parser, rendering helpers and the Engine, not the layers it drives."""
    tree = ast.parse((CLI / module).read_text(encoding="utf-8"))
    imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
    below = ("engine.analysis", "engine.hosts", "engine.report", "engine.run", "engine.core.config")
    assert {m for m in imported if m.startswith(below)} == set()
    assert "install" not in {a.name for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) for a in n.names}


@pytest.mark.parametrize("argv", [["table", "--minutes", "10", "--json"], ["install-claude", "--json"]])
@pytest.mark.parametrize("where", ["x" * 3000, "/nonexistent/x"])
def test_a_repo_that_cannot_be_read_is_one_line(argv: list[str], where: str,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    """The repo is resolved before its config is read: a name too long is git's one line, not
    an OSError from the config loader (found by test_cli_property)."""
    code, _, err = cli(capsys, *argv, "--repo", where)
    assert code == 3 and err.startswith("error: ") and err.count("\n") == 1, err

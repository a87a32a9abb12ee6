"""Typed config at load: finite numbers in range, whole counts, strings, well-formed agent rules.

A bad value is refused when the config is read, in one line naming the key and the file (or
environment variable) it came from, exit 8, so no later arithmetic or regex meets it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.core.config import ParallelConfig, load_config
from engine.core.errors import ExitCode
from tests.conftest import RepoFactory
from tests.run_helpers import cli

REPO_FILES = {"a.py": "1\n", "b.py": "2\n"}

BAD_TOML = [
    ("coordination_factor = nan", "coordination_factor", "finite"),
    ("worktree_creation_time = inf", "worktree_creation_time", "finite"),
    ("session_startup_time = -inf", "session_startup_time", "finite"),
    ("max_concurrent_sessions = 1e400", "max_concurrent_sessions", "whole number"),
    ("max_concurrent_sessions = 2.5", "max_concurrent_sessions", "whole number"),
    ("max_worktrees = nan", "max_worktrees", "whole number"),
    ("churn_days = 9223372036854775807", "churn_days", "outside 1..36500"),
    ("context_building_time = 1e308", "context_building_time", "outside 0..86400"),
    ("min_efficiency_gain_pct = 1000", "min_efficiency_gain_pct", "outside 0..100"),
    ("coordination_factor = 1e300", "coordination_factor", "outside 1..10"),
    ("planner_max_retries = 1000000", "planner_max_retries", "outside 0..10"),
    ("planner_model = 5", "planner_model", "not a string"),
    ("tmux_socket = [1, 2]", "tmux_socket", "not a string"),
    ("permission_mode = {a = 1}", "permission_mode", "not a string"),
    ('planner_model = "a\\u0000b"', "planner_model", "NUL"),
    ('[[agent_rules]]\npattern = 5\nagent = "a"\nskill = "s"', "agent_rules[0]", "pattern=5 is not a string"),
    ('[[agent_rules]]\npattern = "x"\nagent = ["a"]\nskill = "s"', "agent_rules[0]", "agent=['a']"),
    ('[[agent_rules]]\npattern = ""\nagent = "a"\nskill = "s"', "agent_rules[0]", "empty"),
    ('[[agent_rules]]\npattern = "auth||jwt"\nagent = "a"\nskill = "s"', "agent_rules[0]", "empty"),
    ('[[agent_rules]]\npattern = "x"\nagent = "a"\nskill = "s"\nconfidence = "high"', "agent_rules[0]",
     "confidence='high'"),
    ('[[agent_rules]]\npattern = "x"\nagent = "a"\nskill = "s"\nconfidence = 7', "agent_rules[0]",
     "from 0 to 1"),
    ('[[agent_rules]]\npattern = "x"\nagent = "a"\nskill = "s"\nconfidence = nan', "agent_rules[0]",
     "confidence=nan"),
    ('[[agent_rules]]\npattern = "x"\nagent = "a"\nskill = "s"\nconfidence = true', "agent_rules[0]",
     "confidence=True"),
    ('[[agent_rules]]\npattern = "x"\nagent = "a"\nskill = "s"\n[[agent_rules]]\npattern = "y"\n'
     'agent = "b"\nskill = "s"\nwhy = 3', "agent_rules[1]", "why=3"),
]


def refused(capsys: pytest.CaptureFixture[str], repo: Path) -> str:
    code, _, err = cli(capsys, "analyze", "--repo", str(repo))
    assert code == ExitCode.CONFIG, err
    assert "Traceback" not in err and err.count("\n") == 1 and err.startswith("error: "), err
    return err


@pytest.mark.parametrize(("toml", "key", "says"), BAD_TOML,
                         ids=[t[0].replace("\n", " ")[:50] for t in BAD_TOML])
def test_bad_repo_config_value_is_one_line_naming_key_and_file(
        toml: str, key: str, says: str, repo_factory: RepoFactory,
        capsys: pytest.CaptureFixture[str]) -> None:
    repo = repo_factory(REPO_FILES)
    (repo / ".parallel-tui.toml").write_text(toml + "\n")
    err = refused(capsys, repo)
    assert key in err and says in err and str(repo / ".parallel-tui.toml") in err, err


def test_config_nested_too_deep_is_one_line(repo_factory: RepoFactory,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    repo = repo_factory(REPO_FILES)
    (repo / ".parallel-tui.toml").write_text("a = " + "[" * 100_000 + "]" * 100_000 + "\n")
    err = refused(capsys, repo)
    assert str(repo / ".parallel-tui.toml") in err and "nested too deep" in err


def test_bad_user_config_value_names_the_user_file(repo_factory: RepoFactory, isolated_env: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    repo = repo_factory(REPO_FILES)
    user = isolated_env / "ptui" / "config.toml"
    user.parent.mkdir(parents=True, exist_ok=True)
    user.write_text("coordination_factor = nan\n")
    err = refused(capsys, repo)
    assert "coordination_factor" in err and str(user) in err


@pytest.mark.parametrize(("name", "value", "says"), [
    ("COORDINATION_FACTOR", "nan", "finite"),
    ("WORKTREE_CREATION_TIME", "inf", "finite"),
    ("MAX_CONCURRENT_SESSIONS", "1e400", "whole number"),
    ("MAX_CONCURRENT_SESSIONS", "2.5", "whole number"),
    ("DEMO_SECONDS", "1e999", "finite"),
])
def test_bad_environment_value_names_the_variable(name: str, value: str, says: str,
                                                  repo_factory: RepoFactory,
                                                  monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    repo = repo_factory(REPO_FILES)
    monkeypatch.setenv(f"PARALLEL_TUI_{name}", value)
    err = refused(capsys, repo)
    assert f"$PARALLEL_TUI_{name}" in err and says in err, err


def test_good_values_still_load(tmp_path: Path) -> None:
    (tmp_path / ".parallel-tui.toml").write_text(
        'max_concurrent_sessions = 4.0\ncoordination_factor = 2\nplanner_model = "m"\n'
        '[[agent_rules]]\npattern = "auth|login"\nagent = "sec"\nskill = "/s"\nconfidence = 1\n')
    config = load_config(tmp_path, env={"PARALLEL_TUI_MAX_WORKTREES": " 7 "})
    assert config.max_concurrent_sessions == 4 and isinstance(config.max_concurrent_sessions, int)
    assert config.coordination_factor == 2.0 and isinstance(config.coordination_factor, float)
    assert config.max_worktrees == 7
    assert config.agent_rules[0].confidence == 1.0
    assert load_config(None, env={}) == ParallelConfig()

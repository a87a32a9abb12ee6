"""Bad input: one clear line naming the problem and the fix, a distinct non-zero exit."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import NamedTuple

import pytest

from engine.cli.main import main
from tests.conftest import RepoFactory


class BadCase(NamedTuple):
    test_id: str
    args: list[str]
    code: int
    says: str


def cases(repo: Path, empty: Path, plain: Path, tmp: Path) -> list[BadCase]:
    notjson = tmp / "broken.json"
    notjson.write_text("{ nope")
    return [
        BadCase("not-a-repo", ["analyze", "--repo", str(plain)], 3, "not inside a git repository"),
        BadCase("missing-dir", ["analyze", "--repo", str(tmp / "nope")], 3, "does not exist"),
        BadCase("no-commits", ["plan", "x", "--repo", str(empty)], 3, "has no commits yet"),
        BadCase("empty-task", ["plan", "   ", "--repo", str(repo)], 2, "task text is empty"),
        BadCase("huge-task", ["plan", "x" * 100_000, "--repo", str(repo)], 2, "limit 16,000"),
        BadCase("splits-0", ["plan", "t", "--splits", "0", "--repo", str(repo)], 2, "outside 1..10"),
        BadCase("splits-11", ["plan", "t", "--splits", "11", "--repo", str(repo)], 2, "outside 1..10"),
        BadCase("minutes-negative", ["plan", "t", "--minutes", "-3", "--repo", str(repo)], 2,
                "not a positive number"),
        BadCase("table-minutes-zero", ["table", "--minutes", "0", "--no-repo"], 2, "not a positive"),
        BadCase("unknown-scope", ["plan", "t", "--task-scope", "huge", "--repo", str(repo)], 2,
                "invalid choice: 'huge'"),
        BadCase("unknown-planner", ["plan", "t", "--planner", "gpt", "--repo", str(repo)], 2,
                "invalid choice"),
        BadCase("plan-not-json", ["plan", "--validate", str(notjson), "--repo", str(repo)], 7,
                "is not valid JSON"),
        BadCase("plan-missing", ["plan", "--validate", str(tmp / "none.json")], 7, "does not exist"),
        BadCase("no-task", ["plan", "--repo", str(repo)], 7, "no task given"),
        BadCase("unknown-verb", ["frobnicate"], 2, "invalid choice"),
    ]


def test_every_bad_input_gets_one_line_and_its_code(repo_factory: RepoFactory, tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    repo = repo_factory({"a.py": "1\n", "b.py": "2\n"})
    empty = repo_factory()
    plain = tmp_path / "plain"
    plain.mkdir()
    for case in cases(repo, empty, plain, tmp_path):
        code = main(case.args)
        captured = capsys.readouterr()
        lines = captured.err.strip().splitlines()
        assert code == case.code, (case.test_id, captured.err)
        assert len(lines) == 1, (case.test_id, lines)
        assert lines[0].startswith("error: ") and " — " in lines[0], case.test_id
        assert case.says in lines[0], (case.test_id, lines[0])
        assert captured.out == "", case.test_id


def test_paths_out_of_the_repo_are_all_named(repo_factory: RepoFactory, tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    repo = repo_factory({"a.py": "1\n"})
    traversal = tmp_path / "traversal.json"
    traversal.write_text(json.dumps({"task": "t", "estimate": {"sequential_minutes": 30},
                                     "subtasks": [{"name": "a", "files_to_modify": ["../x"]},
                                                  {"name": "b", "files_to_create": ["/etc/x"]}]}))
    assert main(["plan", "--validate", str(traversal), "--repo", str(repo)]) == 7
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: the plan has 2 problem(s): "), err
    assert "a: ../x (leaves the repository (..))" in err and "b: /etc/x (absolute path)" in err


def test_bad_config_value_is_named(repo_factory: RepoFactory, capsys: pytest.CaptureFixture[str],
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    repo = repo_factory({"a.py": "1\n"})
    (repo / ".parallel-tui.toml").write_text("max_worktrees = -1\n")
    assert main(["analyze", "--repo", str(repo)]) == 8
    assert "max_worktrees=-1" in capsys.readouterr().err
    (repo / ".parallel-tui.toml").write_text("")
    monkeypatch.setenv("PARALLEL_TUI_COORDINATION_FACTOR", "abc")
    assert main(["analyze", "--repo", str(repo)]) == 8
    assert "coordination_factor='abc'" in capsys.readouterr().err


def test_config_layers_override_in_order(repo_factory: RepoFactory, isolated_env: Path,
                                         monkeypatch: pytest.MonkeyPatch,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    repo = repo_factory({f"f{i}.py": "1\n" for i in range(30)})
    user = isolated_env / "ptui" / "config.toml"
    user.parent.mkdir(parents=True, exist_ok=True)
    user.write_text("max_concurrent_sessions = 3\n")
    assert main(["table", "--minutes", "240", "--repo", str(repo), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["optimal_splits"] == 3
    (repo / ".parallel-tui.toml").write_text("max_concurrent_sessions = 2\n")
    assert main(["table", "--minutes", "240", "--repo", str(repo), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["optimal_splits"] == 2
    monkeypatch.setenv("PARALLEL_TUI_MAX_CONCURRENT_SESSIONS", "4")
    assert main(["table", "--minutes", "240", "--repo", str(repo), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["optimal_splits"] == 4


def test_the_console_script_exits_non_zero_with_one_line(tmp_path: Path) -> None:
    script = Path(sys.executable).parent / "parallel-tui"
    proc = subprocess.run([str(script), "plan", "x", "--repo", str(tmp_path)], capture_output=True,
                          text=True, check=False)
    assert proc.returncode == 3
    assert proc.stderr.count("\n") == 1
    assert "not inside a git repository" in proc.stderr


@pytest.mark.parametrize(("estimate", "says"), [
    ('{"sequential_minutes": NaN}', "NaN is not a number JSON allows"),
    ('{"sequential_minutes": Infinity}', "Infinity is not a number JSON allows"),
    ('{"sequential_minutes": 1e400}', "estimate.sequential_minutes is inf, not a number in 0.1..100,000"),
    ('{"sequential_minutes": 40, "base_minutes": "x"}', "estimate.base_minutes is 'x'"),
    ('{"sequential_minutes": 40, "complexity_factor": [1]}', "estimate.complexity_factor"),
    ('{"sequential_minutes": true}', "estimate.sequential_minutes is True"),
])
def test_odd_numbers_in_a_plan_file_are_one_line(repo_factory: RepoFactory, tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str], estimate: str,
                                                 says: str) -> None:
    repo = repo_factory({"a.py": "1\n"})
    plan = tmp_path / "p.json"
    plan.write_text(f'{{"estimate": {estimate}, "subtasks": [{{"name": "a"}}]}}')
    assert main(["plan", "--validate", str(plan), "--repo", str(repo)]) == 7
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and says in err, err


def test_duplicate_subtask_names_are_refused(repo_factory: RepoFactory, tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    repo = repo_factory({"a.py": "1\n"})
    plan = tmp_path / "p.json"
    plan.write_text('{"estimate": {"sequential_minutes": 40}, "subtasks": ['
                    '{"name": "a", "files_to_modify": ["x"]}, {"name": "a", "files_to_modify": ["y"]}]}')
    assert main(["plan", "--validate", str(plan), "--repo", str(repo)]) == 7
    assert "'a' more than once" in capsys.readouterr().err
    assert main(["run", "--tasks", "a,b,a", "--repo", str(repo), "--agent", "demo", "--yes"]) == 2
    assert "repeats a name" in capsys.readouterr().err


@pytest.mark.parametrize("name", ["custom_agent_command", "worktree_setup_command"])
def test_a_command_setting_that_cannot_be_split_is_a_config_error(
        repo_factory: RepoFactory, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    repo = repo_factory({"a.py": "1\n"})
    monkeypatch.setenv(f"PARALLEL_TUI_{name.upper()}", "tool 'unclosed")
    assert main(["run", "--tasks", "a", "--repo", str(repo), "--agent", "demo", "--yes"]) == 8
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "cannot be split into words" in err


def _plan(tmp: Path, name: str, text: str) -> str:
    path = tmp / name
    path.write_text(text)
    return str(path)


def _minutes_plan(tmp: Path, estimate: str, sub_minutes: str = "5") -> str:
    subtask = f'{{"name": "a", "files_to_modify": ["a.py"], "estimated_minutes": {sub_minutes}}}'
    return _plan(tmp, f"minutes-{estimate}-{sub_minutes}.json",
                 f'{{"estimate": {{"sequential_minutes": {estimate}}}, "subtasks": [{subtask}]}}')


def traceback_cases(repo: Path, tmp: Path) -> list[BadCase]:
    """Inputs that once printed a 21-38 line traceback (issue 7): each is now one line and a code."""
    deep = _plan(tmp, "deep.json", '{"subtasks": ' + "[" * 100_000 + "]" * 100_000 + "}")
    r = ["--repo", str(repo)]
    return [
        BadCase("plan-nested-100k", ["plan", "--validate", deep, *r], 7, "nested too deeply"),
        BadCase("run-nested-100k", ["run", "--plan", deep, *r, "--agent", "demo", "--yes"], 7,
                "nested too deeply"),
        BadCase("plan-estimate-1e308", ["plan", "--validate", _minutes_plan(tmp, "1e308"), *r], 7,
                "estimate.sequential_minutes is 1e+308"),
        BadCase("plan-estimate-1e-300", ["plan", "--validate", _minutes_plan(tmp, "1e-300"), *r], 7,
                "estimate.sequential_minutes is 1e-300"),
        BadCase("plan-subtask-1e308", ["plan", "--validate", _minutes_plan(tmp, "40", "1e308"), *r], 7,
                "estimated_minutes is 1e+308"),
        BadCase("plan-subtask-1e-300", ["plan", "--validate", _minutes_plan(tmp, "40", "1e-300"), *r],
                7, "estimated_minutes is 1e-300"),
        BadCase("plan-description-list", ["plan", "--validate", _plan(
            tmp, "desc.json", '{"subtasks": [{"name": "a", "description": [[1]]}]}'), *r], 7,
            "subtask 'a' `description` is a list, not a string"),
        BadCase("table-1e308", ["table", "--minutes", "1e308", "--no-repo"], 2, "--minutes 1e+308"),
        BadCase("table-1e-300", ["table", "--minutes", "1e-300", "--no-repo"], 2, "--minutes 1e-300"),
        BadCase("plan-minutes-1e308", ["plan", "t", "--minutes", "1e308", *r], 2, "--minutes 1e+308"),
        BadCase("plan-minutes-1e-300", ["plan", "t", "--minutes", "1e-300", *r], 2, "--minutes 1e-300"),
        BadCase("plan-o-folder", ["plan", "t", "-o", str(tmp), *r], 7, "is a folder"),
        BadCase("plan-o-missing-folder", ["plan", "t", "-o", str(tmp / "no" / "p.json"), *r], 7,
                "does not exist"),
    ]


TRACEBACK_IDS = ["plan-nested-100k", "run-nested-100k", "plan-estimate-1e308", "plan-estimate-1e-300",
                 "plan-subtask-1e308", "plan-subtask-1e-300", "plan-description-list", "table-1e308",
                 "table-1e-300", "plan-minutes-1e308", "plan-minutes-1e-300", "plan-o-folder",
                 "plan-o-missing-folder"]


@pytest.mark.parametrize("case_id", TRACEBACK_IDS)
def test_inputs_that_were_tracebacks_are_one_line(repo_factory: RepoFactory, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str], case_id: str) -> None:
    repo = repo_factory({"a.py": "1\n"})
    [case] = [c for c in traceback_cases(repo, tmp_path) if c.test_id == case_id]
    code = main(case.args)
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert code == case.code, captured.err[-300:]
    assert len(lines) == 1 and lines[0].startswith("error: ") and " — " in lines[0], lines
    assert case.says in lines[0], lines[0]
    assert captured.out == ""
    assert not (tmp_path / "no").exists()


def test_every_traceback_case_is_run(tmp_path: Path) -> None:
    assert sorted(TRACEBACK_IDS) == sorted(c.test_id for c in traceback_cases(tmp_path, tmp_path))

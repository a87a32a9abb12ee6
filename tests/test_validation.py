"""Validation rules: overlaps (exact and by folder), paths, dependencies, risk, verdict."""

from __future__ import annotations

from typing import NamedTuple

import pytest

from engine.core.config import ParallelConfig
from engine.core.models import ConflictRisk, Subtask
from engine.planning.overhead import overhead_table
from engine.planning.validation import (
    Resources,
    dependency_waves,
    find_overlaps,
    implied_dependencies,
    unsafe_path,
    validate,
)

OK = Resources(existing_worktrees=0, tmux_available=True)
TABLE = overhead_table(45.0, ParallelConfig())


def sub(name: str, modify: tuple[str, ...] = (), create: tuple[str, ...] = (),
        depends: tuple[str, ...] = (), description: str = "") -> Subtask:
    return Subtask(name=name, description=description or name, files_to_modify=modify,
                   files_to_create=create, depends_on=depends)


def test_same_file_in_two_subtasks_is_an_overlap_and_high_risk() -> None:
    subs = [sub("a", ("api/x.py",)), sub("b", create=("api/x.py",)), sub("c", ("web/y.ts",))]
    v = validate(subs, TABLE, ParallelConfig(), OK)
    assert [(o.file, o.subtasks) for o in v.overlaps] == [("api/x.py", ("a", "b"))]
    assert v.conflict_risk is ConflictRisk.HIGH
    assert not v.verdict.parallelize
    assert "same files" in v.verdict.reason


def test_file_inside_a_folder_another_subtask_owns_overlaps() -> None:
    subs = [sub("mod", ("src/auth/",)), sub("other", ("src/auth/token.py",)), sub("x", ("b.py",))]
    overlaps = find_overlaps(subs)
    assert [(o.file, set(o.subtasks)) for o in overlaps] == [("src/auth/token.py", {"mod", "other"})]


def test_a_path_inside_another_planned_path_overlaps_folder_or_not() -> None:
    """`src/auth` is a folder (or a file one subtask creates where the other needs a folder):
    either way the two subtasks cannot both have their way (issue 7 item 10)."""
    subs = [sub("mod", ("src/auth",)), sub("other", ("src/auth/token.py",))]
    assert [(o.file, o.subtasks, o.via) for o in find_overlaps(subs)] == [
        ("src/auth/token.py", ("mod", "other"), ("src/auth/",))]
    assert find_overlaps(subs, known_dirs={"src/auth/"})[0].via == ("src/auth/",)
    assert find_overlaps([sub("one", ("x", "x/y.py"))]) == (), "one subtask may own both"


class PathCase(NamedTuple):
    test_id: str
    path: str
    bad: bool


PATHS = [
    PathCase("relative", "api/x.py", False),
    PathCase("dot-slash", "./api/x.py", False),
    PathCase("parent", "../x", True),
    PathCase("nested-parent", "a/../../x", True),
    PathCase("absolute", "/etc/passwd", True),
    PathCase("home", "~/x", True),
    PathCase("git-dir", ".git/config", True),
    PathCase("empty", "", True),
]


@pytest.mark.parametrize("case", PATHS, ids=[c.test_id for c in PATHS])
def test_unsafe_paths(case: PathCase) -> None:
    assert (unsafe_path(case.path) is not None) is case.bad


def test_paths_outside_the_repo_are_problems() -> None:
    v = validate([sub("a", ("../x",)), sub("b", ("/abs",))], TABLE, ParallelConfig(), OK)
    assert any("../x" in p for p in v.problems)
    assert any("/abs" in p for p in v.problems)


def test_a_subtask_that_names_anothers_new_file_waits_for_it() -> None:
    subs = [sub("api", create=("api/auth.py",)),
            sub("tests", create=("tests/test_auth.py",), description="Test api/auth.py end to end"),
            sub("ui", create=("web/login.tsx",))]
    deps = implied_dependencies(subs)
    assert deps["tests"] == {"api"}
    v = validate(subs, TABLE, ParallelConfig(), OK)
    assert v.order == (("api", "ui"), ("tests",))
    assert any("tests must wait for api" in w for w in v.warnings)
    assert v.verdict.parallelize


def test_cycles_are_rejected() -> None:
    waves, problems = dependency_waves({"a": {"b"}, "b": {"a"}, "c": set()})
    assert waves == (("c",),)
    assert problems == ["dependency cycle among a, b"]
    v = validate([sub("a", ("a.py",), depends=("b",)), sub("b", ("b.py",), depends=("a",))],
                 TABLE, ParallelConfig(), OK)
    assert not v.verdict.parallelize
    assert "cycle" in v.verdict.reason


def test_unknown_dependency_is_a_problem() -> None:
    v = validate([sub("a", ("a.py",), depends=("ghost",)), sub("b", ("b.py",))], TABLE,
                 ParallelConfig(), OK)
    assert any("unknown subtask 'ghost'" in p for p in v.problems)


def test_a_pure_chain_should_not_parallelise() -> None:
    subs = [sub("a", ("a.py",)), sub("b", ("b.py",), depends=("a",)), sub("c", ("c.py",), depends=("b",))]
    v = validate(subs, TABLE, ParallelConfig(), OK)
    assert v.order == (("a",), ("b",), ("c",))
    assert "sequential dependencies" in v.verdict.reason


@pytest.mark.parametrize("path", ["package.json", "pyproject.toml", "yarn.lock", "app/settings.py"])
def test_shared_config_raises_risk_to_medium(path: str) -> None:
    v = validate([sub("a", (path,)), sub("b", ("b.py",))], TABLE, ParallelConfig(), OK)
    assert v.conflict_risk is ConflictRisk.MEDIUM
    assert any(path in r for r in v.risk_reasons)


def test_common_utilities_and_related_tests_raise_risk() -> None:
    util = validate([sub("a", ("src/utils/x.py",)), sub("b", ("b.py",))], TABLE, ParallelConfig(), OK)
    assert util.conflict_risk is ConflictRisk.MEDIUM
    tests = validate([sub("a", ("tests/test_a.py",)), sub("b", ("tests/test_b.py",))], TABLE,
                     ParallelConfig(), OK)
    assert any("related test files" in r for r in tests.risk_reasons)


def test_disjoint_modules_are_low_risk() -> None:
    v = validate([sub("a", ("auth/x.py",)), sub("b", ("api/y.py",)), sub("c", ("ui/z.tsx",))],
                 TABLE, ParallelConfig(), OK)
    assert v.conflict_risk is ConflictRisk.LOW
    assert v.verdict.parallelize


def test_resource_limits_and_missing_tmux() -> None:
    subs = [sub(f"s{i}", (f"f{i}.py",)) for i in range(4)]
    config = ParallelConfig(max_concurrent_sessions=3, max_worktrees=5)
    v = validate(subs, TABLE, config, Resources(existing_worktrees=2, tmux_available=False))
    assert not v.resources_ok
    text = " ".join(v.problems)
    assert "max_concurrent_sessions=3" in text
    assert "max_worktrees=5" in text
    assert "tmux is not installed" in text


def test_low_gain_is_a_verdict_of_no() -> None:
    table = overhead_table(5.5, ParallelConfig())
    v = validate([sub("a", ("a.py",)), sub("b", ("b.py",))], table, ParallelConfig(), OK)
    assert not v.verdict.parallelize


def test_duplicate_names_are_problems() -> None:
    v = validate([sub("a", ("a.py",)), sub("a", ("b.py",))], TABLE, ParallelConfig(), OK)
    assert "the plan names subtask 'a' more than once" in v.problems


def test_a_file_named_with_a_trailing_slash_still_overlaps() -> None:
    overlaps = find_overlaps([sub("a", ("api/a.txt/",)), sub("b", ("api/a.txt",))])
    assert [o.subtasks for o in overlaps] == [("a", "b")]


def test_the_whole_repository_is_not_a_path() -> None:
    assert unsafe_path(".") == "names the whole repository"
    assert unsafe_path("./") == "names the whole repository"


# --- one shape check on every way a plan comes in (issue 18, items 4, 6, 7, 11) -----------------


def test_a_draft_with_a_lone_surrogate_is_a_problem_not_a_crash() -> None:
    """What the app's edit dialog, or any planner, hands `validate`: checked by the same rules."""
    drafts = [Subtask(name="a\ud800", description="d", files_to_modify=("a.py",)),
              Subtask(name="b", description="d\udfff", files_to_create=("b.py",)),
              Subtask(name="c", description="d", files_to_create=("c\udc80.py",))]
    problems = validate(drafts, TABLE, ParallelConfig(), OK).problems
    assert "subtask #1 name holds \\ud800, which is not text (a lone surrogate)" in problems
    assert "subtask 'b' description holds \\udfff, which is not text (a lone surrogate)" in problems
    assert "subtask 'c' files_to_create[0] holds \\udc80, which is not text (a lone surrogate)" in problems


def test_names_that_differ_only_in_case_are_a_problem() -> None:
    v = validate([sub("api", ("a.py",)), sub("API", ("b.py",))], TABLE, ParallelConfig(), OK)
    assert any("'API' more than once (as 'api'" in p for p in v.problems)


@pytest.mark.parametrize("path", ["src/.git/hooks/pre-commit", "a/.Git/config", ".git"])
def test_a_git_folder_is_refused_as_any_component(path: str) -> None:
    assert unsafe_path(path) is not None
    assert unsafe_path("src/.gitignore") is None and unsafe_path(".github/workflows/ci.yml") is None


@pytest.mark.parametrize(("field", "value", "says"), [
    ("files_to_modify", {"a.py": 1}, "is a JSON object, not a list of strings"),
    ("files_to_modify", "a.py", "is a string, not a list of strings"),
    ("name", "a\ud800", "lone surrogate"),
    ("files_to_create", ["ok.py", "b\ud800.py"], "lone surrogate"),
    ("estimated_minutes", int("9" * 401), "a 401-digit number"),
])
def test_claudes_answer_goes_through_the_same_shape_check(field: str, value: object, says: str) -> None:
    from engine.claude.answer import UnusableAnswer, read_answer  # noqa: PLC0415

    item = {"name": "a", "description": "d", "files_to_modify": ["a.py"], field: value}
    with pytest.raises(UnusableAnswer, match=says):
        read_answer({"subtasks": [item]}, task="t", default_minutes=5)

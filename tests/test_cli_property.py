"""Generated argv, plan files and config files at the CLI: never a traceback, never the safety net.

The last-resort handler (exit 70) turns a bug into one line, so "no traceback" alone would
hide bugs; the property is stronger: every input is answered by a *specific* error (or
success), so exit 70 must never appear. Runs in-process (`engine.cli.main.main`) against a
real repo in a temp dir, with a private tmux socket, and never passes `run --yes`, so nothing
is created. No input is excused.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from engine.cli.main import build_parser, main
from engine.core.config import _BOUNDS as BOUNDS
from engine.core.config import REPO_CONFIG_NAME, ParallelConfig
from engine.core.errors import ExitCode
from tests.conftest import RepoFactory
from tests.run_helpers import FILES

FAST = settings(max_examples=int(os.environ.get("PARALLEL_TUI_PROPERTY_EXAMPLES", "40")), deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                       HealthCheck.filter_too_much], database=None)
"""Bounded for a loaded 2-core machine; no per-example deadline (git calls vary with load)."""

TEXT = st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=40)
"""Argv can hold any text but NUL, and surrogates only as undecodable bytes: leave both out."""

ODD = ["", " ", "-", "--", "-1", "0", "1", "2.5", "10", "11", "nan", "inf", "-inf", "1e308", "1e-300",
       "1e400", "99999999999999999999", "..", "../x", ".", "/", "/dev/null", "/nonexistent/x", "~",
       "a,b,a", ",", "é✓🚀", "x" * 3000, "$(touch pwned)", "--repo", "\n", "\t", "a\nb", "auto",
       "offline", "demo", "custom", "api,ui"]


def _verbs() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(sub.choices)


VERBS = _verbs()
SAFE_CHOICES = {"claude"}
"""`--planner claude` would reach for the network; every other choice is generated."""


PLACES = [".", "../plain", "../file.txt", "../missing", "../plan.json"]
"""Relative to the repo the test stands in: itself, a plain folder, a file, nothing, a good plan."""


def _value(action: argparse.Action) -> st.SearchStrategy[str]:
    choices = [str(c) for c in action.choices or () if str(c) not in SAFE_CHOICES]
    return st.sampled_from(ODD + PLACES + choices) | TEXT


def _options(verb: str) -> st.SearchStrategy[list[str]]:
    """Flags of `verb` (from its own parser) with odd values; never `--yes` on `run`."""
    words: list[st.SearchStrategy[list[str]]] = []
    for action in VERBS[verb]._actions:
        flags = [f for f in action.option_strings if f not in ("-h", "--help")]
        if (action.option_strings and not flags) or (verb == "run" and "--yes" in flags):
            continue
        value = _value(action)
        if not flags:
            words.append(value.map(lambda v: [v]))
        elif action.nargs == 0:
            words.append(st.sampled_from(flags).map(lambda f: [f]))
        else:
            words.append(st.tuples(st.sampled_from(flags), value).map(list))
    return st.lists(st.one_of(words), max_size=6).map(lambda parts: [w for p in parts for w in p])


@st.composite
def argvs(draw: st.DrawFn) -> list[str]:
    verb = draw(st.sampled_from(sorted(VERBS)) if draw(st.integers(0, 9)) else st.sampled_from(ODD) | TEXT)
    if verb not in VERBS:
        return [verb, *draw(st.lists(st.sampled_from(ODD) | TEXT, max_size=3))]
    return [verb, *draw(_options(verb))]


def answered(code: int, err: str, what: object) -> None:
    """The property: a specific answer (success or `error:` line), never a traceback or exit 70."""
    assert "Traceback" not in err, (what, err)
    assert code != ExitCode.INTERNAL, (what, _crash_log(err))
    if code not in (0, 1):
        assert err.strip().splitlines()[-1].startswith("error: "), (what, err)


def _crash_log(err: str) -> str:
    """The traceback the safety net logged, so a failure report shows where the bug is."""
    found = re.search(r"the traceback is in (\S+\.log)", err)
    return Path(found.group(1)).read_text()[-3000:] if found else err


def call(capsys: pytest.CaptureFixture[str], argv: list[str]) -> tuple[int, str]:
    capsys.readouterr()
    try:
        code = main(argv)
    except SystemExit as exc:  # --help exits through argparse, as it should
        code = exc.code if isinstance(exc.code, int) else 0
    err = capsys.readouterr().err
    event(f"{argv[0][:12]!r} exit {code}")  # --hypothesis-show-statistics: how deep inputs get
    return code, err


@pytest.fixture
def repo(repo_factory: RepoFactory, tmp_path: Path, tmux_socket: str,
         monkeypatch: pytest.MonkeyPatch) -> Path:
    """A repo to stand in (cwd), with PLACES beside it; a private tmux socket, just in case."""
    repo = repo_factory(FILES)
    (tmp_path / "plain").mkdir()
    (tmp_path / "file.txt").write_text("x")
    (tmp_path / "plan.json").write_text(json.dumps({
        "task": "t", "estimate": {"sequential_minutes": 40},
        "subtasks": [{"name": "a", "files_to_modify": ["src/a.py"]}]}))
    monkeypatch.chdir(repo)
    return repo


@FAST
@given(argv=argvs())
@example(argv=["analyze", "--repo", "x" * 3000])  # found by this test: ENAMETOOLONG from resolve_repo
def test_generated_argv_is_always_answered(argv: list[str], repo: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    code, err = call(capsys, argv)
    answered(code, err, argv)


# --- plan files ----------------------------------------------------------------------------------

NUMBERS = st.sampled_from([0, -1, 1, 2.5, 1e308, 1e-300, math.inf, -math.inf, math.nan, 10**30, True,
                           int("9" * 401), -int("9" * 401), 2**1024]) \
    | st.floats() | st.integers()
LONE = st.text(st.characters(categories=["Cs"]), min_size=1, max_size=2)
"""Lone surrogates: JSON's `\\ud800` escapes make them, no terminal or file can hold them."""
ODD_TEXT = TEXT | st.tuples(TEXT, LONE, TEXT).map("".join)
WRONG_LIST = st.sampled_from([{"src/a.py": 1}, "src/a.py", "ab", {"x": ["y"]}, 5, None])
"""A wrong JSON type where a list of paths belongs: an object (its keys), a string (its letters)."""
PATHS = st.sampled_from(["src/a.py", "src/b.py", "README.md", "../x", "/etc/x", "a/../../b", "", ".", "src",
                         "src/a.py/x", "a\\b", "x" * 300, "-rf", "*", "src/*.py", ".git/config", "~/.ssh/x",
                         "ü/ß.py", "a b/c d.py", "a\nb", "src/.git/hooks/pre-commit", "a/.GIT/x",
                         ".git", "src/.gitignore"]) | ODD_TEXT
JSONISH = st.recursive(st.none() | st.booleans() | NUMBERS | TEXT,
                       lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
                       max_leaves=12)
SUBTASK = st.fixed_dictionaries({}, optional={
    "name": st.sampled_from(["a", "b", "api", "A", "API", "", " ", "a/b", "-x", "a" * 200])
    | ODD_TEXT | JSONISH,
    "description": ODD_TEXT | JSONISH,
    "files_to_modify": st.lists(PATHS, max_size=4) | JSONISH,
    "files_to_create": st.lists(PATHS, max_size=4) | JSONISH,
    "files_to_delete": st.lists(PATHS, max_size=2),
    "depends_on": st.lists(st.sampled_from(["a", "b", "zzz"]) | TEXT, max_size=3) | JSONISH,
    "agent": st.fixed_dictionaries({"name": TEXT | JSONISH, "confidence": NUMBERS | JSONISH}) | JSONISH,
    "estimated_minutes": NUMBERS | JSONISH,
})
PLAN = st.fixed_dictionaries({}, optional={
    "task": TEXT | JSONISH,
    "estimate": st.fixed_dictionaries({}, optional={"sequential_minutes": NUMBERS | JSONISH,
                                                    "base_minutes": NUMBERS, "complexity_factor": NUMBERS})
    | JSONISH,
    "subtasks": st.lists(SUBTASK, max_size=5) | JSONISH,
    "splits": NUMBERS | JSONISH,
})
SANE_PATHS = st.sampled_from(["src/a.py", "src/b.py", "README.md", "src/new.py", "docs/x.md", "src"]) | PATHS
SANE_SUBTASK = st.fixed_dictionaries(
    {"name": st.sampled_from(["a", "b", "c", "api", "ui", "A", "Api", "UI", "a\ud800"]),
     "files_to_modify": st.lists(SANE_PATHS, max_size=3) | WRONG_LIST},
    optional={"description": ODD_TEXT, "files_to_create": st.lists(SANE_PATHS, max_size=2) | WRONG_LIST,
              "depends_on": st.lists(st.sampled_from(["a", "b", "c", "zzz"]), max_size=2) | WRONG_LIST,
              "estimated_minutes": st.floats(0, 600) | NUMBERS})
SANE_PLAN = st.fixed_dictionaries(
    {"task": st.just("add search") | TEXT, "subtasks": st.lists(SANE_SUBTASK, min_size=1, max_size=4),
     "estimate": st.fixed_dictionaries({"sequential_minutes": st.floats(1, 600) | NUMBERS})},
    optional={"repo": st.sampled_from([".", "/", "x"]) | TEXT})
"""Mostly valid plans with one odd part, so generated input gets past parsing into validation."""
PLAN_TEXT = (SANE_PLAN.map(lambda p: json.dumps(p, allow_nan=True))
             | PLAN.map(lambda p: json.dumps(p, allow_nan=True)) | JSONISH.map(json.dumps)
             | st.sampled_from(["", "{", "[]", "null", "\ufeff{}", '{"subtasks": [' * 50])
             | st.integers(1000, 100_000).map(lambda n: "[" * n + "]" * n) | TEXT)


def _plan(*subtasks: dict[str, object]) -> str:
    return json.dumps({"task": "t", "estimate": {"sequential_minutes": 40}, "subtasks": list(subtasks)})


PROBE_PLANS = [  # issue 18's probe: each reached the crash handler, or passed when it must not
    _plan({"name": "a\ud800", "files_to_modify": ["src/a.py"]}),
    _plan({"name": "a", "files_to_modify": ["src/a.py"], "estimated_minutes": int("9" * 401)}),
    _plan({"name": "a", "files_to_modify": {"src/a.py": 1}}, {"name": "b", "files_to_create": "src/n.py"}),
    _plan({"name": "a", "files_to_create": ["src/.git/hooks/pre-commit"]},
          {"name": "b", "files_to_modify": ["x"]}),
    _plan({"name": "a", "files_to_modify": ["src/a.py"]}, {"name": "A", "files_to_modify": ["src/b.py"]}),
]
"""Refused, each with one line (asserted beyond `answered`)."""


@pytest.mark.parametrize("text", PROBE_PLANS,
                         ids=["surrogate", "401-digits", "wrong-types", "dot-git", "case"])
@pytest.mark.parametrize("how", ["validate", "run"])
def test_the_probes_plans_are_refused_in_one_line(text: str, how: str, repo: Path, tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    plan = tmp_path / "probe-plan.json"
    plan.write_text(text, encoding="utf-8")
    argv = (["plan", "--validate", str(plan), "--repo", str(repo)] if how == "validate"
            else ["run", "--plan", str(plan), "--repo", str(repo), "--agent", "demo"])
    capsys.readouterr()
    code = main(argv)
    err = capsys.readouterr().err
    answered(code, err, (argv, text))
    assert code in (ExitCode.PLAN, ExitCode.CONFLICT) and len(err.strip().splitlines()) == 1, err


@FAST
@given(text=PLAN_TEXT, how=st.sampled_from(["validate", "run"]))
def test_generated_plan_files_are_always_answered(text: str, how: str, repo: Path, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    plan = tmp_path / "generated-plan.json"
    plan.write_text(text, encoding="utf-8")
    argv = (["plan", "--validate", str(plan), "--repo", str(repo)] if how == "validate"
            else ["run", "--plan", str(plan), "--repo", str(repo), "--agent", "demo"])
    code, err = call(capsys, argv)
    answered(code, err, (argv, text[:300]))


# --- config files --------------------------------------------------------------------------------

KEYS = sorted(f.name for f in ParallelConfig.__dataclass_fields__.values() if f.name != "agent_rules")
TOML_SCALAR = (st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.floats() | TEXT
               | st.sampled_from([10**30, 1e400, 2.5, "nan", "8", "", "1e400", "merge", "pr", "claude"]))
TOML_VALUE = st.recursive(TOML_SCALAR, lambda inner: st.lists(inner, max_size=3)
                          | st.dictionaries(TEXT, inner, max_size=3), max_leaves=6)
STEMS = st.lists(st.sampled_from(["auth", "api", "ui", "x", "", " ", "log in", "a|b", "\\b", "(", "*", "é"])
                 | TEXT, min_size=1, max_size=4).map("|".join)
RULE = st.fixed_dictionaries(
    {"pattern": STEMS, "agent": st.sampled_from(["sec", "a"]) | TEXT, "skill": st.just("/s") | TEXT},
    optional={"why": TEXT, "confidence": st.floats(0, 1) | TOML_VALUE}) \
    | st.fixed_dictionaries({}, optional=dict.fromkeys(
        ("pattern", "agent", "skill", "why", "confidence", "extra"), TOML_VALUE))


def _plausible(key: str) -> st.SearchStrategy[object]:
    """Values a user might write for `key`: in range (edges included) far more often than not."""
    default = ParallelConfig.__dataclass_fields__[key].default
    if key == "sandbox":
        return st.sampled_from(["strict", "on", "off", "On", "", "yes", True])
    if key == "sandbox_allowed_domains":
        domain = st.sampled_from(["pypi.org", "*.example.com", "", "http://x.org/", "a..b", "-x.org",
                                  "x" * 300, "é.org", "localhost", "*", "a,b"]) | TEXT
        return st.lists(domain, max_size=4) | domain
    if key in BOUNDS:
        low, high = BOUNDS[key]
        edges = st.sampled_from([low, high, low - 1, high + 1, (low + high) / 2])
        inside = st.integers(int(low), int(high)) if isinstance(default, int) else st.floats(low, high)
        return inside | edges
    return st.sampled_from([default, "", " ", "x", "-", "a b", "'unclosed", "{name} {worktree}", "..", "/",
                            "/dev/null", "merge", "pr", "demo", "claude", "bogus"]) | TEXT


ODD_SETTINGS = st.sampled_from([math.nan, math.inf, -math.inf, 2.5, 10**30, -1, 0, True, "nan", "inf", "x",
                                [1], {"a": 1}])
"""The probe's own finds: nan, inf (TOML's 1e400 is inf), fractions and huge ints for counts, wrong types."""
SETTING = st.sampled_from(KEYS).flatmap(
    lambda k: st.tuples(st.just(k), _plausible(k) | ODD_SETTINGS | TOML_VALUE))
CONFIG = st.tuples(st.lists(SETTING, max_size=5).map(dict)
                   | st.dictionaries(st.sampled_from(KEYS) | TEXT, TOML_VALUE, max_size=3),
                   st.lists(RULE, max_size=3))


def toml(value: object) -> str:
    """A TOML literal: json's string escapes are TOML's; nan/inf are TOML's own words."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf") if math.isinf(value) \
            else repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(toml(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(k)} = {toml(v)}" for k, v in value.items()) + "}"
    return json.dumps(value) if isinstance(value, str) else str(value)


def config_text(table: dict[str, object], rules: list[dict[str, object]]) -> str:
    lines = [f"{json.dumps(k)} = {toml(v)}" for k, v in table.items()]
    for rule in rules:
        lines += ["[[agent_rules]]", *(f"{json.dumps(k)} = {toml(v)}" for k, v in rule.items())]
    return "\n".join(lines) + "\n"


@FAST
@given(config=CONFIG, where=st.sampled_from(["repo", "user", "env"]),
       verb=st.sampled_from([["plan", "add a login api and its ui tests"], ["table", "--minutes", "45"],
                             ["analyze"], ["run", "--tasks", "a,b", "--agent", "demo"]]))
# the probe's finds (issue 7), run every time before anything generated
@example(config=({"coordination_factor": math.nan}, []), where="repo", verb=["plan", "add a login api"])
@example(config=({"worktree_creation_time": math.inf}, []), where="user", verb=["table", "--minutes", "45"])
@example(config=({"max_concurrent_sessions": math.inf}, []), where="repo", verb=["plan", "add a login api"])
@example(config=({"max_concurrent_sessions": "1e400"}, []), where="env", verb=["analyze"])
@example(config=({"sandbox": "strict"}, []), where="repo", verb=["run", "--tasks", "a,b", "--agent", "demo"])
@example(config=({"sandbox_allowed_domains": ["https://x.org/", 5]}, []), where="user", verb=["analyze"])
@example(config=({"sandbox_allowed_domains": "a.org, ,b"}, []), where="env", verb=["analyze"])
@example(config=({}, [{"pattern": 5, "agent": "a", "skill": "s"}]), where="repo", verb=["plan", "add login"])
@example(config=({}, [{"pattern": "auth", "agent": "a", "skill": "s", "confidence": "high"}]), where="repo",
         verb=["plan", "add login"])
def test_generated_config_is_always_answered(config: tuple[dict[str, object], list[dict[str, object]]],
                                             where: str, verb: list[str], repo: Path,
                                             isolated_env: Path, monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    table, rules = config
    user = isolated_env / "ptui" / "config.toml"
    user.parent.mkdir(parents=True, exist_ok=True)
    for path in (user, repo / REPO_CONFIG_NAME):
        path.unlink(missing_ok=True)
    with monkeypatch.context() as env:
        if where == "env":
            for key, value in table.items():
                if isinstance(key, str) and "\x00" not in key + str(value) and "=" not in key:
                    env.setenv(f"PARALLEL_TUI_{key.upper()}", str(value))
        else:
            (user if where == "user" else repo / REPO_CONFIG_NAME).write_text(config_text(table, rules))
        code, err = call(capsys, [*verb, "--repo", str(repo)])
    answered(code, err, (where, config_text(table, rules)))

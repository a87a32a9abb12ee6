"""Fast start: the CLI imports only the verb being run, and the hot paths never load GitPython.

Each check runs a fresh interpreter (`sys.modules` of this one is full of everything) and
asks it which modules the call loaded.
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import json
import os
import subprocess
import sys
import typing
from pathlib import Path

import pytest

from engine.analysis.cache import SHAPE
from engine.analysis.profile import analyze_repo
from engine.cli.analyze_cmd import _plain_json_call
from engine.cli.main import VERB_TABLE, VERBS, build_parser, main
from engine.core.config import REPO_CONFIG_NAME, load_config
from engine.core.errors import ExitCode
from engine.core.jsonio import to_jsonable
from engine.core.models import RepoProfile
from tests.conftest import RepoFactory
from tests.run_helpers import FILES, cli

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("libtmux", "asyncio", "engine.core.models", "engine.run", "engine.planning", "git")
"""Never needed to print the verb list."""

PROBE = """
import json, sys
from engine.cli.main import main
try:
    code = main(sys.argv[1:])
except SystemExit as exc:
    code = exc.code or 0
sys.stdout.flush()
print("\\n@@" + json.dumps([code, sorted(sys.modules)]))
"""


def _probe(*argv: str, cwd: Path = ROOT) -> tuple[int, str, set[str]]:
    """Run the CLI in a fresh interpreter; its exit code, output and loaded modules."""
    proc = subprocess.run([sys.executable, "-c", PROBE, *argv], capture_output=True, text=True,
                          cwd=cwd, env={**os.environ, "PYTHONPATH": str(ROOT)}, check=False, timeout=60)
    out, _, tail = proc.stdout.rpartition("\n@@")
    assert tail, proc.stderr
    code, modules = json.loads(tail)
    return int(code), out, set(modules)


def _loaded(modules: set[str], roots: tuple[str, ...]) -> list[str]:
    return sorted(m for m in modules if any(m == r or m.startswith(r + ".") for r in roots))


def test_help_lists_every_verb_without_importing_them() -> None:
    code, out, modules = _probe("--help")
    assert code == 0
    for entry in VERB_TABLE:
        assert entry.name in out
    assert _loaded(modules, HEAVY) == []
    assert not any(m.endswith("_cmd") for m in modules), "no verb module for --help"


def test_the_console_scripts_help_loads_no_planner_nor_engine() -> None:
    """`parallel-tui --help` (the console script: the verbs, then the app's flags with the
    planners' names) loads what `--help` needs and no more: the planners' module brought the
    offline planner, the models and asyncio (5 times a bare Python start, goal ≤ 5)."""
    probe = PROBE.replace("from engine.cli.main import main", "from tui.entry import main")
    proc = subprocess.run([sys.executable, "-c", probe, "--help"], capture_output=True, text=True, cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, check=False, timeout=60)
    out, _, tail = proc.stdout.rpartition("\n@@")
    code, modules = json.loads(tail)
    assert code == 0 and "--planner {auto,claude,claude-code,offline}" in out, proc.stderr
    assert _loaded(set(modules), (*HEAVY, "engine.claude", "textual")) == []


def test_a_verb_imports_only_its_own_module() -> None:
    code, _, modules = _probe("table", "--minutes", "30", "--no-repo", "--json", "--no-chart")
    assert code == 0
    cmds = sorted(m for m in modules if m.startswith("engine.cli.") and m.endswith(("_cmd", "_cmds")))
    assert cmds == ["engine.cli.table_cmd"]


def test_the_table_matches_what_each_verb_module_builds() -> None:
    """The help lines shown without importing are the modules' own, and every verb has an entry."""
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    helps = {action.dest: action.help for action in sub._choices_actions}
    assert {e.name: e.help for e in VERB_TABLE} == helps
    assert tuple(sub.choices) == VERBS


def test_an_unknown_verb_is_one_line() -> None:
    code, _, _ = _probe("frobnicate")
    assert code == 2


@pytest.mark.tmux
def test_cached_analyze_and_status_do_not_load_gitpython(
        repo_factory: RepoFactory, tmux_socket: str, capsys: pytest.CaptureFixture[str]) -> None:
    """`import git` costs ~0.1 s, libtmux ~0.05 s, asyncio ~0.02 s: the calls scripts and status polling make
    often never pay them (tmux runs through the host, GitPython only where history is read)."""
    repo = repo_factory(FILES)
    assert cli(capsys, "analyze", "--repo", str(repo), "--json")[0] == 0  # fills the cache
    code, _, err = cli(capsys, "run", "--repo", str(repo), "--tasks", "a,b", "--prompt", "go",
                       "--agent", "demo", "--yes", "--wait")
    assert code == 0, err
    for argv in (("analyze", "--json"), ("status", "--json")):
        code, out, modules = _probe(*argv, "--repo", str(repo))
        assert code == 0, out
        assert _loaded(modules, ("git", "libtmux", "asyncio")) == [], argv  # 0.1, 0.05 and 0.02 s of import
    assert json.loads(out)["sessions"][0]["commits"] == 1


ANALYZE_HIT_SKIPS = ("engine.core.models", "engine.core.events", "engine.service", "engine.run",
                     "engine.planning", "engine.analysis.profile", "platformdirs", "tomllib", "hashlib",
                     "datetime", "git", "libtmux", "argparse", "dataclasses", "inspect", "typing", "pathlib",
                     "shutil", "engine.core.config", "engine.cli.parser")
"""What a cached `analyze --json` once loaded (~50 ms) and no longer needs: it prints the entry
(tomllib only when a config file exists; platformdirs only without PARALLEL_TUI_HOME), before
argparse is loaded, with the config's two numbers kept from its last load (`cache.settings`)."""


def test_cached_analyze_json_prints_the_entry_without_the_models_or_the_engine(
        repo_factory: RepoFactory, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    repo = repo_factory(FILES)
    assert cli(capsys, "analyze", "--repo", str(repo), "--json")[0] == 0  # fills the cache
    subprocess.run(["git", "-C", str(repo), "worktree", "add", "-q", "-b", "side", str(tmp_path / "side")],
                   check=True)  # after the entry was written: worktrees are read fresh on a hit
    code, out, modules = _probe("analyze", "--json", "--repo", str(repo))
    assert code == 0, out
    assert _loaded(modules, ANALYZE_HIT_SKIPS) == []
    printed = json.loads(out)
    full = to_jsonable(analyze_repo(repo, load_config(repo)))  # the models' path, also a hit
    assert isinstance(full, dict) and full["cached"] is True and printed["worktrees"][0]["branch"] == "side"
    assert list(printed) == list(full)
    assert {**printed, "analysis_seconds": 0} == {**full, "analysis_seconds": 0}


def test_a_changed_config_is_loaded_again_and_a_bad_one_refused_as_before(
        repo_factory: RepoFactory, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The hit path keeps the config's numbers only while its sources are unchanged: a new file,
    an edit or another environment value is loaded in full, with the full path's errors."""
    repo = repo_factory(FILES)
    assert cli(capsys, "analyze", "--repo", str(repo), "--json")[0] == 0  # fills the cache
    _, _, modules = _probe("analyze", "--json", "--repo", str(repo))
    assert "engine.core.config" not in modules
    config = repo / REPO_CONFIG_NAME
    config.write_text("churn_days = 7\n")
    code, out, modules = _probe("analyze", "--json", "--repo", str(repo))
    assert code == 0 and json.loads(out)["churn"]["days"] == 7 and "engine.core.config" in modules
    config.write_text("churn_days = 8\n")  # same size, same second: still seen
    assert json.loads(_probe("analyze", "--json", "--repo", str(repo))[1])["churn"]["days"] == 8
    config.write_text("churn_days = 0\n")
    code, _, err = cli(capsys, "analyze", "--repo", str(repo), "--json")
    assert code == ExitCode.CONFIG and "churn_days=0" in err and str(config) in err, err
    config.unlink()
    monkeypatch.setenv("PARALLEL_TUI_MIN_FILES_PER_SUBTASK", "nope")
    code, _, err = cli(capsys, "analyze", "--repo", str(repo), "--json")
    assert code == ExitCode.CONFIG and "PARALLEL_TUI_MIN_FILES_PER_SUBTASK" in err, err


def test_a_garbled_kept_config_is_loaded_again(repo_factory: RepoFactory, isolated_env: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    repo = repo_factory(FILES)
    (repo / REPO_CONFIG_NAME).write_text("churn_days = 9\n")
    assert cli(capsys, "analyze", "--repo", str(repo), "--json")[0] == 0
    [kept] = (isolated_env / "ptui" / "analysis" / "settings").iterdir()
    for junk in ("[1]", '["a", 2]', "{", "[99999, 2] x"):
        kept.write_text(junk)
        code, out, err = cli(capsys, "analyze", "--repo", str(repo), "--json")
        assert code == 0 and json.loads(out)["churn"]["days"] == 9, (junk, err)
    assert json.loads(kept.read_text()) == [9, 2]


@pytest.mark.parametrize(("argv", "repo"), [
    (["analyze", "--json"], "."), (["analyze", "--repo", "x y", "--json"], "x y"),
    (["analyze", "--json", "--repo=x"], "x"), (["analyze", "--json", "--no-cache"], None),
    (["analyze", "--json", "--json"], None), (["analyze", "--repo", "x"], None),
    (["analyze", "--json", "--repo", "-x"], None), (["analyze", "--json", "--rep", "x"], None),
    (["analyze", "--json", "--repo", "x", "--repo", "y"], None), (["analyze", "--json", "-h"], None),
    (["analyze", "--json", "--repo="], None), (["status", "--json"], None),
    (["analyze", "--repo", "--json", "."], None), (["analyze", "--repo", "x", "--json"], "x"),
    (["analyze", "--repo=x", "--json"], "x"), (["analyze", "--repo", "--json"], None),
    (["analyze", "--json", "x"], None), (["analyze", "x", "--json"], None),
    (["analyze", "--repo=x", "--json", "--repo=y"], None), (["analyze", "--json", "--repo", "x", "y"], None),
])
def test_only_a_plain_analyze_json_skips_the_parser(argv: list[str], repo: str | None) -> None:
    assert _plain_json_call(argv) == repo


def test_analyze_words_argparse_refuses_are_refused_on_a_cache_hit_too(
        repo_factory: RepoFactory, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """`analyze --repo --json .` is a usage error (argparse: `--repo` needs a value, `.` is
    unexpected): a cached profile must not turn it into exit 0."""
    repo = repo_factory(FILES)
    monkeypatch.chdir(repo)
    miss = cli(capsys, "analyze", "--repo", "--json", ".")
    assert cli(capsys, "analyze", "--json")[0] == 0  # fills the cache
    hit = cli(capsys, "analyze", "--repo", "--json", ".")
    assert miss[0] == hit[0] == 2 and hit[1] == miss[1] == "", (miss, hit)
    assert cli(capsys, "analyze", "--repo", ".", "--json")[0] == 0


def _shape_of(kind: type) -> dict[str, object]:
    """A record type's JSON shape as `cache.SHAPE` writes it: field names, nested records inside."""
    hints = typing.get_type_hints(kind)
    shape: dict[str, object] = {}
    for f in dataclasses.fields(kind):
        hint = hints[f.name]
        inner = typing.get_args(hint)[0] if typing.get_origin(hint) is tuple else None
        shape[f.name] = ([_shape_of(inner)] if dataclasses.is_dataclass(inner)
                         else _shape_of(hint) if dataclasses.is_dataclass(hint) else hint)
    return shape


def test_the_cache_shape_is_the_repo_profile() -> None:
    """The hit path checks entries against SHAPE, not the models: it must stay their mirror."""
    assert _shape_of(RepoProfile) == SHAPE
    assert list(_shape_of(RepoProfile)) == list(SHAPE)


def test_a_verb_runs_with_the_collector_on(monkeypatch: pytest.MonkeyPatch) -> None:
    """The collector is off only while the verb's modules load (`engine.cli.main._dispatch`)."""
    from engine.cli import table_cmd  # noqa: PLC0415

    seen: list[bool] = []
    monkeypatch.setattr(table_cmd, "run", lambda _args: seen.append(gc.isenabled()) or 0)
    assert main(["table", "--minutes", "30", "--no-repo", "--json", "--no-chart"]) == 0
    assert seen == [True] and gc.isenabled()

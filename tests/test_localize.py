"""Localization on real generated repos: the ranking, the per-commit index, and the plans it shapes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from engine.analysis.layout import covering_tests, name_under_test, naming_of_tests
from engine.analysis.localize import index_for, path_token_rank, rank
from engine.analysis.localize_index import index_dir, open_index, symbols_of
from engine.cli.main import main
from engine.hosts.gitcli import head_sha
from tests.conftest import RepoFactory
from tests.gitrepo import commit

CACHE_TASK = "Add a plugin caching layer with tests and docs"
PLUGIN_REPO: dict[str, str] = {
    "plugins/cache/__init__.py": "from .store import CacheStore\n",
    "plugins/cache/store.py": "class CacheStore:\n    def get(self, key):\n        return None\n",
    "plugins/cache/backend.py": "def cache_backend(name):\n    return name\n",
    "plugins/auth/login.py": "def login(user):\n    return user\n",
    "plugins/auth/tokens.py": "class TokenStore:\n    pass\n",
    "plugins/registry.py": "def load_plugins():\n    return []\n",
    "core/engine.py": "def run():\n    pass\n",
    "core/scheduler.py": "def schedule():\n    pass\n",
    "core/http/client.py": "class HttpClient:\n    pass\n",
    "test/plugins/store_test.py": "def test_store():\n    pass\n",
    "test/plugins/login_test.py": "def test_login():\n    pass\n",
    "test/core/engine_test.py": "def test_engine():\n    pass\n",
    "manual/plugins/auth.rst": "Auth plugin\n===========\n",
    "manual/plugins/cache.rst": "Cache plugin\n============\nThe cache plugin keeps results.\n",
    "manual/index.rst": "Manual\n======\n",
    "README.md": "# demo\n",
    "pyproject.toml": "[project]\nname = 'demo'\n",
}
"""A repo with a `plugins/cache/` folder, `*_test.py` tests under `test/`, and .rst docs under `manual/`."""


def plan_json(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, Any]:
    assert main(["plan", *args, "--json", "--planner", "offline"]) == 0
    data: dict[str, Any] = json.loads(capsys.readouterr().out)
    return data


@pytest.fixture
def plugin_repo(repo_factory: RepoFactory) -> Path:
    return repo_factory(PLUGIN_REPO)


def test_ranking_puts_the_named_folder_first(plugin_repo: Path) -> None:
    index = open_index(plugin_repo, head_sha(plugin_repo))
    ranked = rank(index, CACHE_TASK, limit=10)
    order = [r.path for r in ranked]
    assert all(p.startswith("plugins/cache/") for p in order[:2])
    assert order.index("plugins/registry.py") > order.index("plugins/cache/store.py")  # one word, not two
    assert {"plugin", "caching"} <= set(ranked[0].words)
    assert ranked[0].rank == 1


def test_symbols_and_text_rank_files_their_path_does_not_name(plugin_repo: Path) -> None:
    index = open_index(plugin_repo, head_sha(plugin_repo))
    by_symbol = rank(index, "Reuse the HttpClient connection", limit=3)
    assert by_symbol[0].path == "core/http/client.py"
    assert by_symbol[0].symbols == ("HttpClient",)
    by_text = rank(index, "keeps results", limit=3)
    assert by_text[0].path == "manual/plugins/cache.rst"
    assert by_text[0].text_rank == 1


def test_camel_and_snake_case_split_into_words(plugin_repo: Path) -> None:
    index = open_index(plugin_repo, head_sha(plugin_repo))
    assert rank(index, "token store", limit=1)[0].path == "plugins/auth/tokens.py"
    assert rank(index, "cache backend", limit=1)[0].path == "plugins/cache/backend.py"


def test_index_is_built_once_per_commit(plugin_repo: Path) -> None:
    head = head_sha(plugin_repo)
    first = open_index(plugin_repo, head)
    meta = index_dir(plugin_repo, head) / "meta.json"
    built_at = meta.stat().st_mtime_ns
    again = open_index(plugin_repo, head)
    assert (first.cached, again.cached) == (False, True)
    assert meta.stat().st_mtime_ns == built_at
    assert again.paths == first.paths
    assert rank(again, CACHE_TASK, limit=3) == rank(first, CACHE_TASK, limit=3)
    new_head = commit(plugin_repo, {"plugins/cache/ttl.py": "def expire():\n    pass\n"})
    moved = open_index(plugin_repo, new_head)
    assert moved.cached is False
    assert "plugins/cache/ttl.py" in moved.paths
    assert index_dir(plugin_repo, new_head) != index_dir(plugin_repo, head)


def test_a_tree_git_cannot_read_is_ranked_by_path_words(tmp_path: Path) -> None:
    index = index_for(tmp_path / "gone", "0" * 40, ["billing/invoice.py", "auth/login.py"])
    assert index.text is None
    assert rank(index, "Fix invoice totals")[0].path == "billing/invoice.py"


def test_the_plan_names_the_plugin_folder_and_follows_the_repo_naming(
        plugin_repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = plan_json(capsys, CACHE_TASK, "--repo", str(plugin_repo), "--minutes", "60", "--splits", "3")
    [change] = data["subtasks"]  # one change: its tests and docs are part of it, not features of their own
    assert change["files_to_modify"][0].startswith("plugins/cache/")
    assert "test/plugins/store_test.py" in change["files_to_modify"]  # covers plugins/cache/store.py
    assert "manual/plugins/cache.rst" in change["files_to_modify"]  # the repo's .rst pages, not docs/*.md
    assert "manual/plugins/auth.rst" not in change["files_to_modify"]  # one page about the task, not two
    # nothing invented: the one new file is the tests the task asks for, for code that has none,
    # where and how the repo names tests; no new module, no copy of a test module, no page
    assert change["files_to_create"] == ["test/plugins/backend_test.py"]
    assert "README.md" not in change["files_to_modify"]
    assert any("1 independent part" in n for n in data["planner_notes"])


def test_plan_json_says_why_each_file_was_chosen(plugin_repo: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    data = plan_json(capsys, CACHE_TASK, "--repo", str(plugin_repo), "--minutes", "60", "--splits", "3")
    [change] = data["subtasks"]
    reasons = {r["path"]: r for r in change["file_reasons"]}
    assert set(reasons) == set(change["files_to_modify"] + change["files_to_create"])
    top = reasons[change["files_to_modify"][0]]
    assert top["rank"] == 1
    assert {"plugin", "caching"} <= set(top["terms"])
    assert "rank 1" in top["why"]
    assert reasons["test/plugins/store_test.py"]["why"] == "covers plugins/cache/store.py"


def test_a_one_change_task_is_a_focused_plan(repo_factory: RepoFactory,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    files = {f"pkg/mod{i}/file{j}.py": f"def handler_{i}_{j}():\n    return {j}\n"
             for i in range(10) for j in range(10)}
    files |= {f"tests/test_file{j}.py": "def test():\n    pass\n" for j in range(10)}
    repo = repo_factory({**files, **PLUGIN_REPO})
    data = plan_json(capsys, "Fix cache expiry in the plugin store", "--repo", str(repo),
                     "--minutes", "90")
    named = [p for s in data["subtasks"] for p in s["files_to_modify"] + s["files_to_create"]]
    assert len(data["subtasks"]) == 1  # one change is one session, whatever the minutes
    assert data["validation"]["verdict"]["parallelize"] is False
    assert len(named) <= 8
    assert data["subtasks"][0]["files_to_modify"][0] == "plugins/cache/store.py"


def test_layered_tasks_keep_their_documented_split(web_repo: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    data = plan_json(capsys, "Implement user authentication with frontend and backend",
                     "--repo", str(web_repo), "--minutes", "45")
    backend, frontend = data["subtasks"][:2]
    assert backend["files_to_modify"] == ["api/auth_routes.py"]  # the head word decides: not users.py
    assert frontend["files_to_create"] == ["components/Auth.tsx"]


def test_path_token_baseline_counts_path_words() -> None:
    files = ["src/cache_store.py", "src/cache.py", "docs/index.md"]
    assert path_token_rank(files, "Fix the cache store") == ["src/cache_store.py", "src/cache.py"]


@pytest.mark.parametrize(("path", "style", "name"), [
    ("tests/test_store.py", "test_{}", "store"), ("pkg/store_test.go", "{}_test", "store"),
    ("src/Store.test.tsx", "{}.test", "Store"), ("src/StoreTest.java", "{}Test", "Store"),
    ("spec/store_spec.rb", "{}_spec", "store"),
])
def test_file_names_are_read_back(path: str, style: str, name: str) -> None:
    assert name_under_test(path) == (style, name)


def test_test_style_and_covering_tests_follow_the_repo() -> None:
    files = list(PLUGIN_REPO)
    assert naming_of_tests(files) == "{}_test"
    assert covering_tests("plugins/cache/store.py", files) == ["test/plugins/store_test.py"]
    mkdocs = ["mkdocs/utils/__init__.py", "mkdocs/tests/utils/utils_tests.py", "mkdocs/tests/init_tests.py"]
    assert covering_tests("mkdocs/utils/__init__.py", mkdocs) == ["mkdocs/tests/utils/utils_tests.py"]
    assert name_under_test("plugins/cache/store.py") is None


def test_old_indexes_are_pruned(plugin_repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("engine.analysis.localize_index.KEEP_INDEXES", 2)
    first = head_sha(plugin_repo)
    open_index(plugin_repo, first)
    for i in range(2):
        open_index(plugin_repo, commit(plugin_repo, {"core/engine.py": f"def run():\n    return {i}\n"}))
    assert not index_dir(plugin_repo, first).exists()
    assert len(list(index_dir(plugin_repo, first).parent.iterdir())) == 2


@pytest.mark.parametrize(("path", "text", "names"), [
    ("a.py", "class Store:\n    def get(self):\n        pass\ndef helper():\n    pass\n",
     ["Store", "get", "helper"]),
    ("a.tsx", "export const LoginForm = () => null;\nexport default function App() {}\n",
     ["LoginForm", "App"]),
    ("a.go", "func (s *Server) Serve() {}\ntype Config struct{}\n", ["Serve", "Config"]),
    ("a.md", "def not_code():\n", []),
])
def test_symbols_are_read_by_a_regex_per_language(path: str, text: str, names: list[str]) -> None:
    assert symbols_of(path, text) == names


def test_a_damaged_index_is_built_anew(plugin_repo: Path) -> None:
    head = head_sha(plugin_repo)
    open_index(plugin_repo, head)
    for part in (index_dir(plugin_repo, head) / "text").iterdir():
        part.write_bytes(b"garbage")
    again = open_index(plugin_repo, head)
    assert again.cached is False
    assert rank(again, CACHE_TASK, limit=1)[0].path.startswith("plugins/cache/")


def test_a_sweeping_task_owns_folders_and_a_one_change_fix_does_not(
        repo_factory: RepoFactory, capsys: pytest.CaptureFixture[str]) -> None:
    files = {f"{m}/f{i}.py": "x = 1\n" for m in ("billing", "orders", "users") for i in range(4)}
    repo = repo_factory({**files, "billing/invoice_totals.py": "def invoice_total():\n    pass\n"})
    sweep = plan_json(capsys, "Refactor logging across the codebase", "--repo", str(repo),
                      "--minutes", "90", "--splits", "3")
    assert [s["files_to_modify"] for s in sweep["subtasks"]] == [["billing/"], ["orders/"], ["users/"]]
    assert sweep["subtasks"][0]["file_reasons"][0]["why"].startswith("the whole module")
    fix = plan_json(capsys, "Fix invoice totals rounding", "--repo", str(repo), "--minutes", "90",
                    "--splits", "3")
    assert fix["subtasks"][0]["files_to_modify"] == ["billing/invoice_totals.py"]
    everyone = plan_json(capsys, "Fix invoice totals rounding for all customers", "--repo", str(repo),
                         "--minutes", "90", "--splits", "3")  # "all" of something is not the codebase
    assert everyone["subtasks"][0]["files_to_modify"][0] == "billing/invoice_totals.py"
    whole = plan_json(capsys, "Update logging in all modules", "--repo", str(repo), "--minutes", "90",
                      "--splits", "3")
    assert [s["files_to_modify"] for s in whole["subtasks"]] == [["billing/"], ["orders/"], ["users/"]]


NAMED_REPO: dict[str, str] = {
    "pkg/__init__.py": "",
    "pkg/sub/__init__.py": "",
    "pkg/sub/_options.py": "DEFAULTS = {}\n",
    "pkg/sub/options_view.py": "def show_options():\n    pass\n",
    "pkg/options.py": "def options():\n    pass\n",
    "pkg/session.py": "class Session:\n    def resolve_url(self):\n        pass\n",
    "pkg/urls.py": "def resolve(url):\n    return url\n",
    "pkg/store.py": "def parse_timeout_value(text):\n    return text\n",
    "pkg/sub/_funcs.py": "def astuple(inst):\n    return ()\n",
}


@pytest.mark.parametrize(("task", "named"), [
    ("Change the defaults in pkg.sub._options", "pkg/sub/_options.py"),
    ("Fix Session.resolve_url for relative links", "pkg/session.py"),
    ("Make `parse_timeout_value` accept minutes", "pkg/store.py"),
    ("Improve performance of pkg.sub.astuple", "pkg/sub/_funcs.py"),  # the package re-exports it
])
def test_what_the_task_names_outright_ranks_first(repo_factory: RepoFactory, task: str, named: str) -> None:
    """A dotted module path, Class.method and a backticked identifier point at one file each,
    where their words alone ("options", "resolve") are shared by several."""
    repo = repo_factory(NAMED_REPO)
    assert rank(open_index(repo, head_sha(repo)), task, limit=3)[0].path == named

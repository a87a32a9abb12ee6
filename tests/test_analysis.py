"""Repo analysis on real git repos: counts, modules, churn, worktrees, cache."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.analysis.profile import analyze_repo, complexity_score, max_splits, module_of
from engine.cli.main import main
from engine.core.config import ParallelConfig
from tests.conftest import RepoFactory
from tests.gitrepo import commit, git


def test_counts_files_loc_modules_and_languages(repo_factory: RepoFactory) -> None:
    repo = repo_factory({
        "src/auth/login.py": "a\nb\nc\n",
        "src/auth/token.py": "a\n",
        "src/billing/pay.py": "x\ny\n",
        "web/app.ts": "1\n2\n3\n4\n",
        "web/view.ts": "1\n",
        "logo.png": b"\x89PNG\x00\x01\x02binary",
        "README.md": "# hi\n",
    })
    p = analyze_repo(repo, ParallelConfig())
    assert p.files == 7
    assert p.loc == 3 + 1 + 2 + 4 + 1 + 1  # the binary file is skipped
    assert {(m.path, m.files, m.loc) for m in p.modules} == {("src/auth", 2, 4), ("web", 2, 5)}
    assert {g.name: g.files for g in p.languages} == {"Python": 3, "TypeScript": 2, "Markdown": 1}
    assert p.head == git(repo, "rev-parse", "HEAD").strip()


def test_churn_counts_recent_commits_and_hot_files(repo_factory: RepoFactory) -> None:
    repo = repo_factory({"a.py": "1\n", "b.py": "1\n"})
    commit(repo, {"a.py": "2\n"})
    commit(repo, {"a.py": "3\n", "c.py": "x\n"})
    churn = analyze_repo(repo, ParallelConfig()).churn
    assert churn.commits == 3
    assert churn.files == 3
    assert churn.hot_files[0].path == "a.py"
    assert churn.hot_files[0].commits == 3


def test_old_commits_fall_outside_the_churn_window(repo_factory: RepoFactory,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GIT_AUTHOR_DATE", "2001-01-01T00:00:00")
    monkeypatch.setenv("GIT_COMMITTER_DATE", "2001-01-01T00:00:00")
    repo = repo_factory({"a.py": "1\n"})
    assert analyze_repo(repo, ParallelConfig()).churn.commits == 0


def test_odd_file_names_survive(repo_factory: RepoFactory) -> None:
    repo = repo_factory({"dir one/file:colon.py": "1\n2\n", "dir one/ünï cödé.py": "1\n"})
    p = analyze_repo(repo, ParallelConfig())
    assert p.loc == 3
    assert p.modules[0].path == "dir one"


def test_existing_worktrees_are_listed(repo_factory: RepoFactory, tmp_path: Path) -> None:
    repo = repo_factory({"a.py": "1\n"})
    git(repo, "worktree", "add", "-q", "-b", "side", str(tmp_path / "side"))
    p = analyze_repo(repo, ParallelConfig())
    assert [(w.branch, Path(w.path).name) for w in p.worktrees] == [("side", "side")]


def test_second_run_is_a_cache_hit_and_a_commit_invalidates_it(repo_factory: RepoFactory,
                                                               tmp_path: Path) -> None:
    repo = repo_factory({"a.py": "1\n", "b.py": "2\n"})
    first = analyze_repo(repo, ParallelConfig())
    second = analyze_repo(repo, ParallelConfig())
    assert not first.cached
    assert second.cached
    assert second.loc == first.loc
    git(repo, "worktree", "add", "-q", "-b", "w", str(tmp_path / "w"))
    assert len(analyze_repo(repo, ParallelConfig()).worktrees) == 1  # fresh even on a hit
    commit(repo, {"c.py": "1\n2\n"})
    third = analyze_repo(repo, ParallelConfig())
    assert not third.cached
    assert third.loc == first.loc + 2


def test_a_corrupt_cache_entry_is_a_miss(repo_factory: RepoFactory, isolated_env: Path) -> None:
    repo = repo_factory({"a.py": "1\n"})
    analyze_repo(repo, ParallelConfig())
    for entry in (isolated_env / "ptui" / "analysis").glob("*.json"):
        entry.write_text("{not json")
    assert not analyze_repo(repo, ParallelConfig()).cached


def test_complexity_score_grows_with_size_and_churn() -> None:
    assert complexity_score(0, 0, 0, 0) == 0.0
    small = complexity_score(10, 500, 1, 1)
    large = complexity_score(10_000, 1_000_000, 10, 10_000)
    assert 0 < small < large
    assert large == pytest.approx(1.0)
    assert complexity_score(100_000, 10_000_000, 30, 100_000) > 1.0


@pytest.mark.parametrize(("files", "expected"), [(0, 1), (3, 1), (9, 4), (20, 10), (5000, 10)])
def test_max_splits_follows_files_per_subtask(files: int, expected: int) -> None:
    assert max_splits(files, 2)[0] == expected


def test_modules_descend_into_container_folders() -> None:
    assert module_of("src/auth/x.py") == "src/auth"
    assert module_of("api/x.py") == "api"
    assert module_of("src/x.py") == "src"
    assert module_of("setup.py") is None


def test_analyze_json_has_the_documented_keys(web_repo: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["analyze", "--repo", str(web_repo), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    for key in ("files", "loc", "modules", "languages", "churn", "complexity_score", "max_splits"):
        assert key in data
    assert set(data["churn"]) >= {"days", "commits", "files"}
    assert all(set(m) == {"path", "files", "loc"} for m in data["modules"])


def test_analyze_human_output_lists_modules(web_repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["analyze", "--repo", str(web_repo)]) == 0
    out = capsys.readouterr().out
    assert "Modules:" in out
    assert "api" in out
    assert "Complexity:" in out

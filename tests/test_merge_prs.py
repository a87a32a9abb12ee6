"""`merge --pr` with a local bare repository as the remote.

GitHub cannot exist here, so `gh` is the one thing mocked: a stand-in script on PATH that
records its arguments and prints a PR URL, as `gh pr create` does. The pushes are real.
"""

from __future__ import annotations

import io
import json
import os
import stat
from pathlib import Path

import pytest

from tests.conftest import RepoFactory
from tests.gitrepo import git
from tests.merge_helpers import BASE, branch, chain_plan, edit_line
from tests.run_helpers import cli

GH = """#!/bin/sh
printf '%s\\0' "$@" >> "{log}"
printf '\\036' >> "{log}"
n=$(($(cat "{log}.n" 2>/dev/null || echo 0) + 1)); echo $n > "{log}.n"
echo "https://github.invalid/o/r/pull/$n"
"""


class Terminal(io.StringIO):
    """A stdin that says it is a terminal, so the CLI asks (and reads the answer from it)."""

    def isatty(self) -> bool:
        return True


@pytest.fixture
def repo(repo_factory: RepoFactory, tmp_path: Path) -> Path:
    repo = repo_factory(BASE)
    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", str(remote))
    git(repo, "remote", "add", "origin", str(remote))
    return repo


@pytest.fixture
def gh_log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    bindir = tmp_path / "bin"
    bindir.mkdir()
    log = tmp_path / "gh.log"
    script = bindir / "gh"
    script.write_text(GH.format(log=log))
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}{os.environ['PATH']}")
    return log


def test_pr_pushes_each_branch_and_opens_one_pr_each(repo: Path, gh_log: Path, tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    branch(repo, "a", {"a.py": "A\n"})
    branch(repo, "b", {"app.py": edit_line(2, "B")})
    main_before = git(repo, "rev-parse", "main")
    code, out, err = cli(capsys, "merge", "--repo", str(repo), "--pr", "--yes", "--json", "a", "b")
    assert code == 0, err
    data = json.loads(out)
    assert [p["branch"] for p in data["pull_requests"]] == ["a", "b"]
    assert data["pull_requests"][1]["url"].endswith("/pull/2")
    remote = tmp_path / "remote.git"
    assert git(remote, "rev-parse", "a") == git(repo, "rev-parse", "a")
    calls = [call.split("\0")[:-1] for call in gh_log.read_text().split("\036")[:-1]]
    first = calls[0]
    assert first[:2] == ["pr", "create"]
    assert first[first.index("--base") + 1] == "main" and first[first.index("--head") + 1] == "a"
    body = first[first.index("--body") + 1]
    assert "merges cleanly into main" in body and "1 commit(s)" in body
    assert git(repo, "rev-parse", "main") == main_before, "a PR merges nothing locally"


def test_missing_gh_is_one_line_before_anything_is_pushed(repo: Path, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    branch(repo, "a", {"a.py": "A\n"})
    monkeypatch.setenv("PATH", "/usr/bin:/bin")  # git, no gh
    code, _, err = cli(capsys, "merge", "--repo", str(repo), "--pr", "--yes", "a")
    assert code == 2 and err.count("\n") == 1 and "`gh` is not on PATH" in err
    assert git(tmp_path / "remote.git", "for-each-ref") == "", "nothing was pushed"


def test_merge_strategy_pr_is_the_default_and_needs_a_remote(repo_factory: RepoFactory, gh_log: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    repo = repo_factory(BASE)
    (repo / ".parallel-tui.toml").write_text('merge_strategy = "pr"\n')
    git(repo, "add", ".parallel-tui.toml")
    git(repo, "commit", "-q", "-m", "config")
    branch(repo, "a", {"a.py": "A\n"})
    code, _, err = cli(capsys, "merge", "--repo", str(repo), "--yes", "a")
    assert code == 2 and "has no git remote" in err and not gh_log.exists()
    code, out, err = cli(capsys, "merge", "--repo", str(repo), "--yes", "--direct", "a")
    assert code == 0 and "merged a into main" in out, err


def test_plan_checklist_says_whether_prs_are_possible(repo_factory: RepoFactory,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    repo = repo_factory({**BASE, ".parallel-tui.toml": 'merge_strategy = "pr"\n'})
    code, out, err = cli(capsys, "plan", "--repo", str(repo), "Add a login page and tests", "--json")
    assert code == 0, err
    [item] = [i for i in json.loads(out)["checklist"] if i["item"].startswith("Merge strategy")]
    assert item["ok"] is False and "merge_strategy = pr" in item["detail"]


def test_prs_of_a_chain_are_stacked_on_their_dependencys_branch(
        repo: Path, gh_log: Path, tmp_path: Path, tmux_socket: str,
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """A real run where `api` builds on `models` (waves: api's branch has models' commits) and
    `docs` stands alone. Asked first, the question names each push and each PR's base; declined,
    nothing goes out. The pushes go to a real bare remote; only GitHub, which cannot exist
    here, is the recorded `gh` stand-in: api's PR is based on parallel/models, not main."""
    plan = chain_plan(tmp_path)
    code, _, err = cli(capsys, "run", "--repo", str(repo), "--plan", str(plan), "--agent", "demo", "--yes",
                       "--wait")
    assert code == 0, err
    monkeypatch.setattr("sys.stdin", Terminal("n\n"))
    code, out, err = cli(capsys, "merge", "--repo", str(repo), "--pr")
    remote = tmp_path / "remote.git"
    assert git(remote, "for-each-ref") == "" and not gh_log.exists(), "declined: nothing pushed"
    assert ("Push parallel/models, parallel/api, parallel/docs; PRs: parallel/models → main, "
            "parallel/api → parallel/models, parallel/docs → main (parallel/api stacked on the branch "
            "it builds on)? [y/N]") in out, out
    code, out, err = cli(capsys, "merge", "--repo", str(repo), "--pr", "--yes", "--json")
    assert code == 0, err
    bases = {p["branch"]: p["base"] for p in json.loads(out)["pull_requests"]}
    assert bases == {"parallel/models": "main", "parallel/api": "parallel/models", "parallel/docs": "main"}
    calls = [call.split("\0")[:-1] for call in gh_log.read_text().split("\036")[:-1]]
    asked = {c[c.index("--head") + 1]: c[c.index("--base") + 1] for c in calls}
    assert asked == bases, "gh was asked for the same bases"
    api = next(c for c in calls if c[c.index("--head") + 1] == "parallel/api")
    assert "stacked on parallel/models" in api[api.index("--body") + 1]
    assert git(remote, "merge-base", "--is-ancestor", "parallel/models", "parallel/api") == ""

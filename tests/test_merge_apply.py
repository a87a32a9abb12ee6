"""`merge`: atomic compare-and-swap, verify like a merge queue, skip, dry run — real repos.

After every refused or failed merge the repo's refs, every index and every working tree
are byte-identical to before (`fingerprint`).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.hosts.gitrepo import open_repo
from engine.merge.apply import MergeRequest, TargetMoved, merge
from engine.merge.chain import Step
from tests.conftest import RepoFactory
from tests.gitrepo import commit, git, make_repo
from tests.merge_helpers import BASE, branch, edit_line, fingerprint
from tests.run_helpers import cli


@pytest.fixture
def repo(repo_factory: RepoFactory) -> Path:
    return repo_factory(BASE)


def merge_cli(capsys: pytest.CaptureFixture[str], repo: Path, *args: str) -> tuple[int, str, str]:
    return cli(capsys, "merge", "--repo", str(repo), "--yes", *args)


def test_clean_branches_merge_into_a_checked_out_target(repo: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    branch(repo, "a", {"a.py": "A\n"})
    branch(repo, "b", {"app.py": edit_line(5, "B")})
    old = git(repo, "rev-parse", "main").strip()
    code, out, err = merge_cli(capsys, repo, "a", "b")
    assert code == 0, err
    assert "merged a, b into main" in out and "ff-only in" in out
    assert (repo / "a.py").read_text() == "A\n" and "B\n" in (repo / "app.py").read_text()
    assert git(repo, "status", "--porcelain") == "", "ref, index and files moved together"
    parents = git(repo, "rev-list", "--parents", "-n", "1", "main").split()
    assert len(parents) == 3, "one merge commit per branch"
    assert git(repo, "merge-base", "--is-ancestor", old, "main") == ""
    assert "Merge b into main" in git(repo, "log", "-1", "--format=%s", "main")


def test_target_not_checked_out_moves_by_update_ref(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    git(repo, "branch", "release")
    branch(repo, "a", {"a.py": "A\n"})
    before_main = git(repo, "rev-parse", "main")
    code, out, err = merge_cli(capsys, repo, "a", "--into", "release")
    assert code == 0, err
    assert "(update-ref)" in out
    assert git(repo, "show", "release:a.py") == "A\n"
    assert git(repo, "rev-parse", "main") == before_main and not (repo / "a.py").exists()


def test_conflict_moves_nothing_and_names_the_hunks(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    branch(repo, "x", {"app.py": edit_line(4, "X")})
    branch(repo, "y", {"app.py": edit_line(4, "Y")})
    branch(repo, "z", {"z.py": "Z\n"})
    before = fingerprint(repo)
    code, _, err = merge_cli(capsys, repo, "x", "y", "z")
    assert code == 6
    assert "<<<<<<< x" in err and "y conflict(s) with the merge; nothing was merged" in err
    assert fingerprint(repo) == before
    code, out, err = merge_cli(capsys, repo, "x", "y", "z", "--skip", "y")
    assert code == 0, err
    assert "merged x, z into main" in out and "y: skipped" in out


def test_cas_refuses_when_the_target_moved(repo: Path) -> None:
    a = branch(repo, "a", {"a.py": "A\n"})
    stale = git(repo, "rev-parse", "main").strip()
    commit(repo, {"late.txt": "someone else committed\n"}, "late")
    for checked_out in (True, False):
        if not checked_out:
            git(repo, "checkout", "-q", "--detach")
        before = fingerprint(repo)
        with open_repo(repo) as g, pytest.raises(TargetMoved):
            merge(g, MergeRequest(target="main", old_sha=stale, steps=(Step(name="a", sha=a),), depends={}))
        assert fingerprint(repo) == before


def test_dirty_checked_out_target_is_refused_before_anything(repo: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    branch(repo, "a", {"a.py": "A\n"})
    (repo / "README.md").write_text("# edited, not committed\n")
    before = fingerprint(repo)
    code, _, err = merge_cli(capsys, repo, "a")
    assert code == 3 and "main is checked out at" in err and "uncommitted changes" in err
    assert fingerprint(repo) == before


VERIFY = "test ! -e a.py || test ! -e b.py"
"""Passes for either branch alone, fails once both are merged."""


def test_verify_catches_a_pair_that_only_fails_together(repo: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    branch(repo, "docs", {"docs/guide.md": "# Guide v2\n"})
    branch(repo, "a", {"a.py": "A\n"})
    branch(repo, "b", {"b.py": "B\n"})
    before = fingerprint(repo)
    worktrees = git(repo, "worktree", "list")
    code, _, err = merge_cli(capsys, repo, "docs", "a", "b", "--verify", VERIFY)
    assert code == 6
    assert "adding b breaks it" in err and "--skip b" in err
    assert fingerprint(repo) == before and git(repo, "worktree", "list") == worktrees
    code, out, err = merge_cli(capsys, repo, "docs", "a", "b", "--verify", VERIFY, "--skip", "b")
    assert code == 0, err
    assert "verify `test ! -e a.py || test ! -e b.py` passed" in out


def test_dry_run_builds_but_moves_nothing(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    branch(repo, "a", {"a.py": "A\n"})
    before = fingerprint(repo)
    code, out, err = cli(capsys, "merge", "--repo", str(repo), "a", "--dry-run", "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["outcome"]["moved"] is False and data["outcome"]["merged"] == ["a"]
    assert git(repo, "show", f"{data['outcome']['new_sha']}:a.py") == "A\n"
    assert "a.py | 1 +" in data["outcome"]["diffstat"] and "1 file changed" in data["outcome"]["diffstat"]
    code, out, _ = cli(capsys, "merge", "--repo", str(repo), "a", "--dry-run")
    assert code == 0 and "dry run: main would move" in out and "a.py | 1 +" in out
    assert fingerprint(repo) == before


def test_a_branch_that_deletes_most_files_is_refused(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    branch(repo, "wipe", dict.fromkeys(BASE))
    before = fingerprint(repo)
    code, _, err = merge_cli(capsys, repo, "wipe")
    assert code == 6 and "would delete most of the tracked files" in err
    assert fingerprint(repo) == before


def test_without_a_terminal_merge_asks_for_yes(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    branch(repo, "a", {"a.py": "A\n"})
    code, _, err = cli(capsys, "merge", "--repo", str(repo), "a")
    assert code == 2 and "--yes" in err


EDITS = st.lists(st.tuples(st.sampled_from(["app.py", "lib/util.py", "new.py"]),
                           st.integers(min_value=1, max_value=3)), min_size=1, max_size=3)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(edits=st.lists(EDITS, min_size=2, max_size=3), fail_verify=st.booleans(), dirty=st.booleans())
def test_any_failed_merge_leaves_everything_byte_identical(
        tmp_path_factory: pytest.TempPathFactory, edits: list[list[tuple[str, int]]],
        fail_verify: bool, dirty: bool) -> None:
    """Generated branch edits (often conflicting), a verify that may fail, a target that may
    be dirty: whenever the merge does not succeed, nothing at all changed."""
    repo = make_repo(tmp_path_factory.mktemp("prop") / "r", BASE)
    names = []
    for i, branch_edits in enumerate(edits):
        files = {path: f"branch {i} value {n}\n" if path != "app.py" else edit_line(n, f"B{i}")
                 for path, n in branch_edits}
        branch(repo, f"b{i}", files)
        names.append(f"b{i}")
    if dirty:
        (repo / "README.md").write_text("dirty\n")
    before = fingerprint(repo)
    with open_repo(repo) as g:
        old = g.sha("refs/heads/main")
        assert old
        steps = tuple(Step(name=n, sha=g.sha(f"refs/heads/{n}") or "") for n in names)
        request = MergeRequest(target="main", old_sha=old, steps=steps, depends={},
                               verify_command="false" if fail_verify else "")
        try:
            merge(g, request)
        except Exception:  # noqa: BLE001 — any failure must leave nothing behind
            assert fingerprint(repo) == before
            return
    assert not fail_verify and not dirty


def test_no_git_identity_is_one_line_before_anything_is_built(repo: Path, monkeypatch: pytest.MonkeyPatch,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    """A fresh machine with no user.name/email: the merge says what to set, and nothing moved
    (`useConfigOnly` stops git guessing an address from the host name, as it may elsewhere)."""
    branch(repo, "a", {"a.py": "A\n"})
    for name in ("GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL"):
        monkeypatch.delenv(name, raising=False)
    git(repo, "config", "user.useConfigOnly", "true")
    before = fingerprint(repo)
    code, _, err = merge_cli(capsys, repo, "a")
    assert code == 3 and err.count("\n") == 1
    assert "no name and email to write the merge commits" in err and "git config --global user.email" in err
    assert fingerprint(repo) == before

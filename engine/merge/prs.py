"""`merge --pr`: push each checked branch and open one pull request per branch with `gh`.

Everything that can fail is checked before the first push (gh on PATH, a remote); then each
branch is pushed to the same name on the remote and `gh pr create` gets a title and body
from the subtask, its agent, its measured time and the check's verdict. Arguments go to
`gh` as an argv list, never through a shell.
"""

from __future__ import annotations

import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from engine.core.errors import GitError, UsageError
from engine.hosts.gitrepo import RepoGit
from engine.hosts.pr_ready import pr_blocker, remotes
from engine.merge.check import BranchCheck, CheckReport
from engine.merge.targets import Candidate


@dataclass(frozen=True, slots=True, kw_only=True)
class OpenedPr:
    branch: str
    url: str


def open_prs(g: RepoGit, report: CheckReport, candidates: Sequence[Candidate],
             seconds: Mapping[str, float], remote: str | None = None) -> tuple[OpenedPr, ...]:
    """Push the report's mergeable branches and open their PRs against its target."""
    if why := pr_blocker(g.path):
        raise UsageError(f"cannot open pull requests: {why.split(' — ')[0]}; nothing was pushed",
                         hint=why.split(" — ")[-1])
    name = remote or _default_remote(g.path)
    by_branch = {c.branch: c for c in candidates}
    checks = {b.name: b for b in report.branches}
    opened = []
    for branch in report.mergeable:
        g.call("push", "-q", name, f"refs/heads/{branch}:refs/heads/{branch}")
        title, body = _text(by_branch[branch], checks[branch], report, seconds.get(branch))
        opened.append(OpenedPr(branch=branch, url=_gh_create(g.path, report.target, branch, title, body)))
    return tuple(opened)


def _default_remote(repo: Path) -> str:
    names = remotes(repo)
    return "origin" if "origin" in names else names[0]


def _text(candidate: Candidate, check: BranchCheck, report: CheckReport,
          seconds: float | None) -> tuple[str, str]:
    title = candidate.subtask or candidate.branch
    lines = [f"Subtask **{candidate.subtask or candidate.branch}** from a parallel-tui run.", ""]
    if candidate.agent:
        lines.append(f"- agent: {candidate.agent}")
    if seconds is not None:
        lines.append(f"- session time (measured): {seconds / 60:.1f} min")
    lines.append(f"- {check.commits} commit(s), {len(check.files_changed)} file(s) changed")
    lines.append("- check: merges cleanly into " + report.target if not check.conflicts_with_target
                 else f"- check: conflicts with {report.target} in "
                      + ", ".join(c.file for c in check.conflicts_with_target))
    lines.append(f"- conflict risk of the run's branches: {report.conflict_risk.value} "
                 f"({report.risk_reason})")
    return title, "\n".join(lines)


def _gh_create(repo: Path, base: str, head: str, title: str, body: str) -> str:
    argv = ["gh", "pr", "create", "--base", base, "--head", head, "--title", title, "--body", body]
    try:
        proc = subprocess.run(argv, cwd=repo, capture_output=True, text=True, check=False, timeout=120)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise GitError(f"gh pr create for {head} did not run: {exc}", hint="check `gh auth status`") from None
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or [f"exit {proc.returncode}"])[-1]
        raise GitError(f"gh pr create for {head} failed: {last}",
                       hint="check `gh auth status` and the remote")
    return proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else ""

"""`merge --pr`: push each checked branch and open one pull request per branch with `gh`.

Everything that can fail is checked before the first push (gh on PATH, a remote); then each
branch is pushed to the same name on the remote and `gh pr create` gets a title and body
from the subtask, its agent, its measured time and the check's verdict. Arguments go to
`gh` as an argv list, never through a shell, on the `engine.hosts` seam.

A chain is stacked: a subtask that builds on another (`depends_on`) has its dependency's
commits on its branch, so its PR is based on the dependency's branch (the last one in merge
order when it has several), and shows only its own work; GitHub retargets it when the
dependency's PR merges.
"""

from __future__ import annotations

import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from engine.core.errors import GitError, UsageError
from engine.hosts.gitrepo import RepoGit
from engine.hosts.host import Host
from engine.hosts.pr_ready import pr_blocker, remotes
from engine.merge.check import BranchCheck, CheckReport
from engine.merge.targets import Candidate


@dataclass(frozen=True, slots=True, kw_only=True)
class OpenedPr:
    branch: str
    url: str
    base: str = ""
    """What it was opened against: the target, or the branch it builds on (a stacked PR)."""


def open_prs(g: RepoGit, report: CheckReport, candidates: Sequence[Candidate],
             seconds: Mapping[str, float], remote: str | None = None,
             depends: Mapping[str, Sequence[str]] | None = None) -> tuple[OpenedPr, ...]:
    """Push the report's mergeable branches, in merge order, and open their PRs: against the
    target, or stacked on the branch a dependent builds on (`gh` runs on the repo's host)."""
    if why := pr_blocker(g.path):
        raise UsageError(f"cannot open pull requests: {why.split(' — ')[0]}; nothing was pushed",
                         hint=why.split(" — ")[-1])
    name = remote or _default_remote(g.path)
    by_branch = {c.branch: c for c in candidates}
    checks = {b.name: b for b in report.branches}
    opened = []
    for branch, base in pr_bases(report, depends or {}).items():
        g.call("push", "-q", name, f"refs/heads/{branch}:refs/heads/{branch}")
        title, body = _text(by_branch[branch], checks[branch], report, seconds.get(branch))
        if base != report.target:
            body += f"\n- stacked on {base} (it builds on that branch; review after its PR)"
        url = _gh_create(g.path, base, branch, title, body, g.host)
        opened.append(OpenedPr(branch=branch, url=url, base=base))
    return tuple(opened)


def pr_bases(report: CheckReport, depends: Mapping[str, Sequence[str]]) -> dict[str, str]:
    """Each branch `open_prs` pushes, in merge order, and the base its PR is opened against."""
    return {b: stack_base(b, report.mergeable, depends) or report.target for b in report.mergeable}


def preview_prs(report: CheckReport, depends: Mapping[str, Sequence[str]]) -> str:
    """Exactly what `open_prs` will push and each PR's base, for the confirmation (the CLI's
    question and the app's modal both show this text)."""
    bases = pr_bases(report, depends)
    prs = ", ".join(f"{branch} → {base}" for branch, base in bases.items())
    stacked = [b for b, base in bases.items() if base != report.target]
    note = f" ({', '.join(stacked)} stacked on the branch it builds on)" if stacked else ""
    return f"Push {', '.join(bases) or 'nothing'}; PRs: {prs or 'none'}{note}"


def stack_base(branch: str, order: Sequence[str], depends: Mapping[str, Sequence[str]]) -> str | None:
    """The branch `branch`'s PR is based on: its dependency that comes last in `order` (the
    merge order, so already pushed); None when it builds on nothing that is opened."""
    deps = [d for d in depends.get(branch, ()) if d in order]
    return max(deps, key=order.index) if deps else None


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


def _gh_create(repo: Path, base: str, head: str, title: str, body: str, host: Host) -> str:
    argv = ["gh", "pr", "create", "--base", base, "--head", head, "--title", title, "--body", body]
    try:
        proc = host.run(argv, cwd=repo, timeout=120)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise GitError(f"gh pr create for {head} did not run: {exc}", hint="check `gh auth status`") from None
    out, err = proc.stdout.decode("utf-8", "replace").strip(), proc.stderr.decode("utf-8", "replace").strip()
    if proc.returncode != 0:
        last = (err.splitlines() or [f"exit {proc.returncode}"])[-1]
        raise GitError(f"gh pr create for {head} failed: {last}",
                       hint="check `gh auth status` and the remote")
    return out.splitlines()[-1] if out else ""

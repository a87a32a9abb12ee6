"""`merge --resolve NAME`: hand a conflict to the agent of the subtask that made it.

The target-so-far (the target plus every other branch that merges cleanly, in the merge
order) is merged into NAME's branch *in its own worktree* with the conflict markers left
in; the agent then gets a prompt with the conflicting hunks and both sides' intent —
sent to it when it is still running, or in a new session in that worktree when it has
ended. When it commits, `parallel-tui merge` checks everything again. Nothing is done to
a worktree with uncommitted changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from engine.agents.prompt import write_prompt
from engine.core.config import ParallelConfig, state_dir
from engine.core.errors import GitError, UsageError
from engine.hosts.gitcli import git, run_git
from engine.hosts.gitrepo import RepoGit, open_repo
from engine.hosts.host import Host
from engine.hosts.registry import Hosts
from engine.hosts.worktrees import worktree_work
from engine.merge.chain import Step, build_chain
from engine.merge.flow import Checked, Which, run_check
from engine.run.journal import Journal, RunRecord, SessionRecord
from engine.run.lookup import host_of, pane_for, tmux_of
from engine.run.orchestrator import relaunch
from engine.run.session_status import default_readers


@dataclass(frozen=True, slots=True, kw_only=True)
class ResolveStarted:
    session: str
    branch: str
    worktree: str
    files: tuple[str, ...]
    prompt_file: str
    how: str
    """`sent to its running agent` or `started a new session`."""


def start_resolve(repo: Path, config: ParallelConfig, journal: Journal, which: Which,
                  name: str, hosts: Hosts) -> ResolveStarted:
    chosen = Which(run_id=which.run_id, names=which.names, into=which.into)
    checked = run_check(repo, journal, chosen, hosts.local)
    run, record = _session(journal, checked, name)
    worktree, host = Path(record.worktree), host_of(record, hosts)
    if worktree_work(worktree, host=host) != "nothing":
        raise UsageError(f"the worktree of {record.name} ({worktree}) has uncommitted changes or cannot be "
                         "read", hint="commit or stash them there first")
    with open_repo(repo, hosts.local) as g:
        head, merged = _target_so_far(g, checked, record.branch)
    files = _merge_into_worktree(worktree, head, checked.report.target, merged, host)
    prompt = _prompt(worktree, record, files, checked.report.target, merged, host)
    path = write_prompt(state_dir() / "runs" / run.id / f"{record.slug}.resolve.prompt", prompt, host=host)
    how = _deliver(run, record, config, journal, path, hosts)
    return ResolveStarted(session=record.name, branch=record.branch, worktree=record.worktree, files=files,
                          prompt_file=str(path), how=how)


def _session(journal: Journal, checked: Checked, name: str) -> tuple[RunRecord, SessionRecord]:
    run = checked.selection.run
    if run is None:
        raise UsageError("--resolve works on a run's sessions", hint="pick the run with --run ID")
    for record in journal.sessions(run.id):
        if name in (record.name, record.slug, record.branch):
            return run, record
    raise UsageError(f"no session {name!r} in run {run.id}",
                     hint=f"use one of: {', '.join(s.slug for s in journal.sessions(run.id))}")


def _target_so_far(g: RepoGit, checked: Checked, branch: str) -> tuple[str, tuple[str, ...]]:
    """The merge of the target and every other branch that merges cleanly, as a commit."""
    by_name = {b.name: b for b in checked.report.branches}
    steps = [Step(name=n, sha=by_name[n].sha) for n in checked.report.mergeable if n != branch]
    chain = build_chain(g, checked.report.target_sha, steps, {}, greedy=False)
    return chain.head, tuple(chain.merged)


def _merge_into_worktree(worktree: Path, head: str, target: str, merged: tuple[str, ...],
                         host: Host) -> tuple[str, ...]:
    """The merge runs in the session's worktree, on its host."""
    what = f"{target}" + (f" with {', '.join(merged)}" if merged else "")
    proc = run_git(worktree, "merge", "--no-ff", "--no-commit", "-m", f"Merge {what} (resolve)", head,
                   host=host)
    if proc.returncode not in (0, 1):
        lines = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        raise GitError(f"git merge failed in {worktree}: {lines[-1] if lines else proc.returncode}",
                       hint="check the repository state with `git status`")
    files = tuple(f for f in git(worktree, "diff", "--name-only", "-z", "--diff-filter=U", host=host)
                  .split("\0") if f)
    if proc.returncode == 0 or not files:
        git(worktree, "merge", "--abort", ok_codes=(0, 128), host=host)
        raise UsageError(f"the branch merges cleanly with {what}: nothing to resolve",
                         hint="run `parallel-tui merge` (a verify failure is fixed in the branch)")
    return files


def _prompt(worktree: Path, record: SessionRecord, files: tuple[str, ...], target: str,
            merged: tuple[str, ...], host: Host) -> str:
    hunks = []
    for path in files:
        try:
            text = host.read_bytes(worktree / path).decode("utf-8", errors="replace")
        except OSError:  # gone, or a folder: a delete, rename or binary conflict
            text = "(no text: a delete, rename or binary conflict)"
        hunks.append(f"--- {path}\n{_marked(text)}")
    others = ", ".join(merged) or "no other branch yet"
    return "\n".join([
        f"Merge conflicts to resolve in your worktree ({record.branch}).",
        f"Your side: your subtask {record.name!r}; your original instructions are in {record.prompt_file}.",
        f"Their side: {target} as it will be after merging {others}.",
        "git has merged their side into your branch and left conflict markers in these files:",
        *[f"- {f}" for f in files],
        "Keep the intent of both sides, remove every marker, run the tests, then commit the merge",
        "(`git add` the files, then `git commit --no-edit`). Change nothing else.",
        "", "The conflicting hunks:", *hunks])


def _marked(text: str, limit: int = 200) -> str:
    lines, inside, out = text.splitlines(), False, []
    for line in lines:
        inside = inside or line.startswith("<<<<<<< ")
        if inside:
            out.append(line)
        if line.startswith(">>>>>>> "):
            inside = False
    return "\n".join(out[:limit]) or text[:2000]


def _deliver(run: RunRecord, record: SessionRecord, config: ParallelConfig, journal: Journal,
             prompt: Path, hosts: Hosts) -> str:
    tmux = tmux_of(run, host_of(record, hosts))
    pane = pane_for(record, tmux.panes())
    if pane is not None and not pane.dead:
        tmux.send_text(pane.window_id, f"Merge conflicts to resolve: read {prompt} and follow it.")
        return "sent to its running agent"
    relaunch(run, record, config, journal, default_readers(), prompt, hosts=hosts)
    return "started a new session"

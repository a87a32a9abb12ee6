"""Each session's progress (commits, changed files, cost or rate limits, tokens, last line and when
its pane last printed), journaled as it changes.

Why the follower does it: it looks at every session anyway, so a client (the app's board)
can read progress from the events instead of running git and tmux for every session every
second. Why it is gated: an idle session must cost the follower next to nothing, so git runs
only when the worktree's index or HEAD log changed size (asked of the session's host: the
Host protocol has no stat, and a commit or a staged file grows them), or at most every GIT_EVERY_S
while its pane prints (an agent edits files without staging them), plus a slow safety
re-read; the last line is captured only after the pane printed, and journaled at most every
LINE_EVERY_S per session (a spinner must not flood the journal).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from engine.claude.statusline import Usage, read_usage, usage_file_for
from engine.core import events as rev
from engine.hosts.files import size
from engine.hosts.host import Host
from engine.hosts.tmux_sessions import PaneFacts, Tmux
from engine.hosts.worktrees import activity, git_dir, session_refs
from engine.run.branch_guard import mass_deletion
from engine.run.journal import SessionRecord

GIT_EVERY_S = 2.0
"""How often git re-reads a session whose pane prints but whose index and HEAD stay put."""
SAFETY_S = 30.0
"""Git re-reads even a silent session this often (a change made without a trace we watch)."""
LINE_EVERY_S = 2.0
"""A change of the last line alone is journaled at most this often per session."""


@dataclass(slots=True)
class _Seen:
    pane_at: float = -1.0
    """The pane's activity time when its last line was captured."""
    git_key: tuple[int, ...] = ()
    git_at: float = -1e9
    line_at: float = -1e9
    commits: int = 0
    changed_files: tuple[str, ...] = ()
    line: str = ""
    output_at: float = 0.0
    usage: Usage | None = None
    sent: rev.SessionProgress | None = None
    flagged: str = ""
    """The branch warning last journaled (BranchFlagged), checked when its commits change."""


class ProgressWatch:
    """Called once per session per follow tick; emits SessionProgress when what it shows changed."""

    def __init__(self, base_sha: str, tmux: Tmux, repo: Path | None = None,
                 branches: tuple[str, ...] = ()) -> None:
        """`branches`: the run's sessions' branches (a session's own work excludes the others').
        The sessions' files and git are on `tmux.host`, where their windows are."""
        self.base_sha, self.tmux, self.repo, self.branches = base_sha, tmux, repo, branches
        self.seen: dict[str, _Seen] = {}
        self.moved = True
        """Some pane printed or some index or HEAD moved since the owner last cleared it: the
        boundary watch (git per session) has something to look at."""

    def __call__(self, record: SessionRecord, pane: PaneFacts | None, cost_usd: float | None,
                 emit: rev.EmitRun, now: float, *, final: bool = False, tokens: int | None = None) -> None:
        """`final`: the session just ended, so git and its last line are read whatever the gates
        say (its last reading is what the fold keeps for good). `cost_usd` and `tokens` are what
        the agent's own output reported (headless Claude, Codex, Gemini); the statusline's usage
        (interactive Claude Code) fills what they leave out."""
        if pane is None or record.phase not in ("started", "stopped"):
            return
        seen = self.seen.setdefault(record.slug, _Seen())
        printed = pane.activity_at != seen.pane_at
        key = _git_key(Path(record.worktree), pane, self.tmux.host)
        self.moved = self.moved or printed or key != seen.git_key
        if final or key != seen.git_key or now - seen.git_at >= SAFETY_S \
                or (printed and now - seen.git_at >= GIT_EVERY_S):
            self._read_git(record, seen, key, now, emit)
        if final or (printed and now - seen.line_at >= LINE_EVERY_S):  # a line alone changes seldom
            # tmux's activity time has whole seconds: a capture within that second may miss a line
            seen.pane_at = pane.activity_at if now >= pane.activity_at + 1.0 else -1.0
            seen.line, seen.output_at = self.tmux.last_line(pane.window_id), pane.activity_at
        usage = _read_usage(record, seen, self.tmux.host)
        event = rev.SessionProgress(
            run_id=record.run_id, name=record.name, commits=seen.commits, changed_files=seen.changed_files,
            cost_usd=usage.cost_usd if cost_usd is None and usage else cost_usd, last_line=seen.line,
            tokens=usage.tokens if tokens is None and usage else tokens,
            rate_limit_pct=usage.rate_limit_pct if usage else None,
            output_at=seen.output_at)
        if event != seen.sent:
            seen.sent, seen.line_at = event, now
            emit(event)

    def _read_git(self, record: SessionRecord, seen: _Seen, key: tuple[int, ...], now: float,
                  emit: rev.EmitRun) -> None:
        seen.git_key, seen.git_at = key, now
        found = activity(Path(record.worktree), self.base_sha, session_refs(self.branches, record.branch),
                         host=self.tmux.host)
        if found is None:
            return
        commits_moved = found.commits != seen.commits
        seen.commits, seen.changed_files = found.commits, found.files_changed
        if commits_moved and self.repo is not None:
            self._flag(record, seen, emit)

    def _flag(self, record: SessionRecord, seen: _Seen, emit: rev.EmitRun) -> None:
        """Whether its branch now deletes most tracked files (`branch_guard`): journaled when
        that verdict changes, so `status` shows it from the events."""
        assert self.repo is not None
        branch = f"refs/heads/{record.branch}"
        host = self.tmux.host
        deletion = mass_deletion(self.repo, self.base_sha, branch, host=host) if seen.commits else None
        warning = deletion.warning() if deletion else ""
        if warning != seen.flagged:
            seen.flagged = warning
            emit(rev.BranchFlagged(run_id=record.run_id, name=record.name, warning=warning))


def _read_usage(record: SessionRecord, seen: _Seen, host: Host) -> Usage | None:
    """The statusline's usage file (interactive Claude Code; a few hundred bytes), the last
    reading kept while it is missing or unreadable."""
    if not record.hook_file:
        return None
    usage = read_usage(usage_file_for(Path(record.hook_file)), host)
    if usage is not None:
        seen.usage = usage
    return seen.usage


def _git_key(worktree: Path, pane: PaneFacts, host: Host) -> tuple[int, ...]:
    """What moves when git state does: the size of the worktree's index, HEAD log and HEAD,
    and the pane's death (the agent's last commit comes before it exits)."""
    gitdir = git_dir(worktree, host=host)
    return (int(pane.dead), *(size(host, gitdir / name) if gitdir else -1
                              for name in ("index", "logs/HEAD", "HEAD")))

"""The read models `status`, the CLI's text and the app show: a run and each of its sessions.

Their own module because both ways of building them share them: the fold of the supervisor's
events with a liveness overlay (`engine.run.status`), and the one-time observation made when
no supervisor lives (`engine.run.observe`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from engine.core.events import OrchestratorState
from engine.core.states import SessionState
from engine.run.boundary import BoundaryWarning
from engine.run.fold import LiveConflict
from engine.run.session_status import TERMINAL

ObservedBy = Literal["supervisor", "status"]
"""`supervisor`: the fold of its events (it is the run's one observer while it lives);
`status`: no supervisor lives, so `status` observed the sessions itself, once, and wrote nothing."""


ENDED_STATES = TERMINAL
"""A session in one of these has ended: its agent will not work again in this run."""


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionStatus:
    name: str
    slug: str
    branch: str
    worktree: str
    agent: str
    window: str
    state: SessionState
    source: str
    detail: str
    problem: str
    elapsed_s: float
    commits: int
    files_changed: int
    changed_files: tuple[str, ...]
    cost_usd: float | None
    last_line: str
    tokens: int | None = None
    """Tokens so far, where the agent reports them (headless Claude, Codex, Gemini; interactive
    Claude Code through its statusline)."""
    rate_limit_pct: float | None = None
    """A subscription login's rate-limit use in % (then the board shows it, not a cost)."""
    output_at: float = 0.0
    """Unix time its pane last printed (0: unknown): the board's "quiet for" column."""
    host: str = "local"
    """Where its worktree, window and agent live: `local`, or an SSH host's name (ARCHITECTURE §9)."""
    interrupted: bool = False
    """The run stopped before this session's agent started (`run --resume` continues it)."""
    deletes_most_files: bool = False
    """Its branch deletes most of the base's tracked files (see `engine.run.branch_guard`)."""
    refused_edits: tuple[RefusedEdit, ...] = ()
    """Edits outside its files that the ownership hook refused (Claude Code), oldest first."""
    skill: str = ""
    """The skill matched to its subtask (`/sc:implement --focus security`), if any."""
    skill_use: str = ""
    """`invoked` (its prompt runs the skill's Claude Code command) or `described` (the prompt
    states the skill's intent in words: no such command for this agent)."""
    started_at: str = ""
    """When its agent started, ISO 8601 UTC ("" before it started)."""
    ended_at: str = ""
    """When its agent ended, ISO 8601 UTC ("" while it runs)."""
    has_window: bool = False
    """Its tmux window exists now: attach, send and stop need it."""
    cleaned: bool = False
    """Cleanup removed its window and worktree (after a merge, its branch too)."""
    blocked: str = ""
    """Why it could not be started as its wave came ("" unless blocked): its dependencies'
    merge conflicts, its worktree could not be made, … (the journal's event says)."""

    @property
    def agent_running(self) -> bool:
        """Its agent runs now (the one rule of what counts as ended: a face asks before it quits
        or stops, and only offers attach where this holds)."""
        return self.has_window and self.state not in ENDED_STATES and not self.ended_at


@dataclass(frozen=True, slots=True, kw_only=True)
class RefusedEdit:
    path: str
    at: float
    """Unix time the hook refused it."""
    decision: str = "deny"
    """deny | ask (the user was asked) | warn (let through, flagged)"""


@dataclass(frozen=True, slots=True, kw_only=True)
class RunStatus:
    run_id: str
    repo: str
    base_sha: str
    base_ref: str
    tmux_session: str
    attach: str
    orchestrator: OrchestratorState
    """The run's supervisor: `running` while it (or the `run` creating the sessions) is alive;
    `interrupted` when creation stopped before every session started; `killed` when the
    follower died (kill -9) before the sessions ended; `gone` once it exited normally."""
    sessions: tuple[SessionStatus, ...]
    overlaps: tuple[BoundaryWarning, ...]
    conflicts: tuple[LiveConflict, ...] = ()
    """Pairs whose live work conflicts now (the supervisor's overlap radar), with the files."""
    observed_by: ObservedBy = "supervisor"
    """Who saw what this says (`status` = observed without a supervisor)."""
    sandbox: str = ""
    """What contains the agent's shell (`SandboxPlan.note`), e.g. "codex runs unsandboxed: …";
    read from today's config and PATH, which launch the sessions the run still starts."""
    sandboxed: bool = False
    """Whether a sandbox contains it (Claude Code's, or the agent's own: Codex, Gemini under
    strict); the board warns otherwise."""

    @property
    def live(self) -> bool:
        """A session still works, or the run was interrupted before they all started: a face
        opens on such a run (the engine's one rule of which states count as ended)."""
        return self.orchestrator == "interrupted" or \
            any(s.state not in ENDED_STATES and not s.problem for s in self.sessions)

    @property
    def nothing_to_merge(self) -> str:
        """Why a merge would find nothing, in words for a person (every face says the same);
        empty when a branch may have work to merge."""
        left = [s for s in self.sessions if not s.cleaned]
        if not self.sessions:
            return "nothing to merge: this run has no sessions"
        if not left:
            return "nothing to merge: this run's branches were merged or cleaned up"
        if not any(s.commits for s in left):
            return "nothing to merge yet: no session has committed"
        return ""

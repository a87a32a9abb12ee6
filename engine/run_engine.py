"""Starting a run: check everything, journal it, then create worktrees and windows.

Order matters for crash safety: every check happens before anything exists; each
worktree, branch and window is written to the journal *before* it is created; worktrees
are created one after another (git's locks), then the windows. A failed launch is
recorded and reported with tmux's own words, never as a started session.
"""

from __future__ import annotations

import dataclasses
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from engine import run_events as rev
from engine.agent_prompt import prompt_text, write_prompt
from engine.agents import (
    CLAUDE_AGENTS,
    AgentSpec,
    LaunchContext,
    agent_spec,
    build_argv,
    check_installed,
    specialist_for,
    window_argv,
)
from engine.claude_env import trust_like_repo, user_config_file
from engine.config import ParallelConfig, state_dir
from engine.errors import GitError, TmuxError
from engine.gitcli import git, head_sha
from engine.journal import Journal, RunRecord, SessionRecord
from engine.models import Subtask
from engine.run_lock import held
from engine.session_status import StatusReaders
from engine.tmux_sessions import Tmux, session_name
from engine.worktrees import (
    BRANCH_PREFIX,
    add_worktree,
    check_free,
    checkout_all,
    copy_included,
    run_setup,
    slugify,
    worktree_base,
)


@dataclass(frozen=True, slots=True, kw_only=True)
class RunRequest:
    repo: Path
    task: str
    subtasks: tuple[Subtask, ...]
    agent: str
    reuse: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class PlannedSession:
    name: str
    slug: str
    branch: str
    worktree: str
    agent: str


@dataclass(frozen=True, slots=True, kw_only=True)
class StartedRun:
    run_id: str
    repo: str
    base_sha: str
    tmux_session: str
    attach: str
    sessions: tuple[SessionRecord, ...]


def new_run_id() -> str:
    return time.strftime("%Y%m%d-%H%M%S") + "-" + secrets.token_hex(2)


def tmux_for(repo: Path, config: ParallelConfig) -> Tmux:
    return Tmux(config.tmux_socket, session_name(repo))


def plan_sessions(request: RunRequest, config: ParallelConfig) -> list[PlannedSession]:
    """Names, branches and paths; raise naming any branch or path that is already taken."""
    slugs = slugify([s.name for s in request.subtasks])
    base = worktree_base(request.repo, config)
    planned = [PlannedSession(name=s.name, slug=slug, branch=BRANCH_PREFIX + slug,
                              worktree=str(base / slug), agent=request.agent)
               for s, slug in zip(request.subtasks, slugs, strict=True)]
    if not request.reuse:
        taken = [why for p in planned if (why := check_free(request.repo, p.branch, Path(p.worktree)))]
        if taken:
            raise GitError("; ".join(taken),
                           hint="pass --reuse to continue on them, or remove them (`parallel-tui cleanup`)")
    return planned


def preflight(request: RunRequest, config: ParallelConfig) -> tuple[AgentSpec, list[PlannedSession]]:
    """Everything that can fail before anything is created."""
    spec = agent_spec(request.agent, config)
    check_installed(spec)
    planned = plan_sessions(request, config)
    tmux_for(request.repo, config)
    return spec, planned


def start_run(request: RunRequest, config: ParallelConfig, journal: Journal, run_id: str,
              readers: StatusReaders, emit: rev.EmitRun = rev.ignore) -> StartedRun:
    spec, planned = preflight(request, config)
    tmux = tmux_for(request.repo, config)
    with held(f"repo:{request.repo}", f"repo {request.repo}"):
        run = _journal_run(request, config, journal, run_id, tmux)
        records = [_journal_session(run, p, sub, request, journal, config.test_command)
                   for p, sub in zip(planned, request.subtasks, strict=True)]
        emit(rev.RunStarted(run_id=run_id, repo=run.repo, base_sha=run.base_sha,
                            sessions=tuple(p.name for p in planned)))
        _make_worktrees(request, config, journal, records, run.base_sha, emit)
        tmux.ensure_session(request.repo, config.tmux_history_limit)
        if spec.name in CLAUDE_AGENTS:
            trust_like_repo(user_config_file(os.environ), request.repo,
                            [Path(r.worktree) for r in records])
        matched = {s.name: s.agent.name for s in request.subtasks if s.agent}
        env = _LaunchEnv(spec=spec, config=config, journal=journal, tmux=tmux, readers=readers,
                         emit=emit)
        launched = [_launch(env, record, specialist_for(spec, matched.get(record.name, ""),
                                                        Path(record.worktree), Path.home()))
                    for record in records]
    return StartedRun(run_id=run_id, repo=run.repo, base_sha=run.base_sha, tmux_session=tmux.session,
                      attach=tmux.attach_hint(), sessions=tuple(launched))


def _journal_run(request: RunRequest, config: ParallelConfig, journal: Journal, run_id: str,
                 tmux: Tmux) -> RunRecord:
    base_ref = git(request.repo, "rev-parse", "--abbrev-ref", "HEAD").strip()
    sha = head_sha(request.repo)
    run = RunRecord(id=run_id, repo=str(request.repo), base_sha=sha,
                    base_ref=sha if base_ref == "HEAD" else base_ref, agent=request.agent,
                    tmux_socket=config.tmux_socket, tmux_session=tmux.session, task=request.task,
                    created_at=time.time(), pid=os.getpid())
    journal.add_run(run)
    return run


def _journal_session(run: RunRecord, planned: PlannedSession, subtask: Subtask, request: RunRequest,
                     journal: Journal, test_command: str) -> SessionRecord:
    files_dir = state_dir() / "runs" / run.id
    others = [s for s in request.subtasks if s is not subtask]
    prompt = write_prompt(files_dir / f"{planned.slug}.prompt", prompt_text(subtask, others, test_command))
    record = SessionRecord(
        run_id=run.id, slug=planned.slug, name=planned.name, branch=planned.branch,
        worktree=planned.worktree, window_name=planned.slug, agent=planned.agent,
        owned=subtask.files(), phase="planned", prompt_file=str(prompt),
        hook_file=str(files_dir / f"{planned.slug}.hook.jsonl"),
        stream_file=str(files_dir / f"{planned.slug}.stream.jsonl"))
    journal.add_session(record)
    return record


def _make_worktrees(request: RunRequest, config: ParallelConfig, journal: Journal,
                    records: list[SessionRecord], base_sha: str, emit: rev.EmitRun) -> None:
    """Register every worktree (one at a time), then check them out in parallel."""
    added: dict[str, float] = {}
    fresh: list[Path] = []
    for record in records:
        started = time.perf_counter()
        reused = add_worktree(request.repo, record.branch, Path(record.worktree), base_sha,
                              reuse=request.reuse, checkout=False)
        added[record.slug] = time.perf_counter() - started
        journal.update_session(record.run_id, record.slug, phase="worktree", reused=reused)
        if not reused:
            fresh.append(Path(record.worktree))
    checkout = checkout_all(fresh, os.cpu_count() or 2)
    for record in records:
        _finish_worktree(config, journal, record, emit, request.repo,
                         added[record.slug] + checkout.get(Path(record.worktree), 0.0))


def _finish_worktree(config: ParallelConfig, journal: Journal, record: SessionRecord,
                     emit: rev.EmitRun, repo: Path, seconds: float) -> None:
    copy_included(repo, Path(record.worktree))
    journal.timing(record.run_id, record.slug, "worktree", seconds)
    event = rev.WorktreeCreated(run_id=record.run_id, name=record.name, path=record.worktree,
                                branch=record.branch, seconds=seconds)
    journal.record(event)
    emit(event)
    if config.worktree_setup_command:
        setup_s = run_setup(config.worktree_setup_command, Path(record.worktree))
        journal.timing(record.run_id, record.slug, "setup", setup_s)
        done = rev.SetupFinished(run_id=record.run_id, name=record.name, seconds=setup_s, ok=True)
        journal.record(done)
        emit(done)


@dataclass(frozen=True, slots=True, kw_only=True)
class _LaunchEnv:
    """What every launch of one run shares."""

    spec: AgentSpec
    config: ParallelConfig
    journal: Journal
    tmux: Tmux
    readers: StatusReaders
    emit: rev.EmitRun


def _launch(env: _LaunchEnv, record: SessionRecord, specialist: str) -> SessionRecord:
    spec, config, journal, tmux, emit = env.spec, env.config, env.journal, env.tmux, env.emit
    ctx = LaunchContext(name=record.slug, worktree=Path(record.worktree),
                        prompt_file=Path(record.prompt_file), files=record.owned, specialist=specialist,
                        hook_file=Path(record.hook_file), stream_file=Path(record.stream_file),
                        exit_file=Path(record.prompt_file).with_suffix(".exit"))
    argv = window_argv(spec, build_argv(spec, ctx, config, env.readers.hook_settings), ctx)
    journal.update_session(record.run_id, record.slug, phase="launching")
    started_at = time.time()
    try:
        window_id = tmux.new_window(record.window_name, Path(record.worktree), argv)
        _check_launched(tmux, window_id)
    except TmuxError as exc:
        journal.update_session(record.run_id, record.slug, phase="launch_failed", final_state="failed")
        failed = rev.SessionLaunchFailed(run_id=record.run_id, name=record.name, error=exc.problem)
        journal.record(failed)
        emit(failed)
        return record
    journal.update_session(record.run_id, record.slug, phase="started", window_id=window_id,
                           started_at=started_at)
    event = rev.SessionStarted(run_id=record.run_id, name=record.name, window=window_id, agent=spec.name)
    journal.record(event)
    emit(event)
    return _with(record, window_id=window_id, phase="started", started_at=started_at)


def _check_launched(tmux: Tmux, window_id: str) -> None:
    """The window must exist and its process must be alive (or have exited 0 already)."""
    facts = tmux.settled(window_id, timeout_s=0.05)
    if facts is None:
        raise TmuxError(f"window {window_id} vanished right after launch",
                        hint="check the agent command with `parallel-tui attach`")
    if facts.dead and facts.exit_status not in (0, None):
        last = tmux.last_line(window_id)
        raise TmuxError(f"agent exited {facts.exit_status} at launch: {last}",
                        hint="check the agent is installed and configured")
    if not facts.dead and facts.pid is not None and not _alive(facts.pid):
        raise TmuxError(f"agent process {facts.pid} is not running",
                        hint="check the agent command with `parallel-tui attach`")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _with(record: SessionRecord, **changes: object) -> SessionRecord:
    return dataclasses.replace(record, **changes)  # type: ignore[arg-type]

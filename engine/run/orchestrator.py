"""Starting a run: check everything, journal it, then create worktrees and windows.

Order matters for crash safety: every check happens before anything exists; the run and
all its sessions are journaled at once, *before* anything is created; each branch,
worktree and window follows its journal phase (planned → registered → worktree →
launching → started), so an interrupted run can be continued (`resume_run`) or cleaned up
from the journal alone. Worktrees are registered one after another (git's locks), then
checked out in parallel; a worktree whose checkout never completed is finished before any
agent starts in it. A failed launch is recorded and reported with tmux's own words, never
as a started session.
"""

from __future__ import annotations

import dataclasses
import os
import secrets
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from engine.agents.descriptors import (
    CLAUDE_AGENTS,
    AgentSpec,
    LaunchContext,
    agent_spec,
    build_argv,
    check_runnable,
    check_sandbox,
    skill_command,
    specialist_for,
    window_argv,
)
from engine.agents.prompt import Brief, prompt_text, write_prompt
from engine.analysis.tree import path_escape
from engine.claude.env import trust_like_repo, trust_on_host, user_config_file
from engine.core import events as rev
from engine.core import faults
from engine.core.config import ParallelConfig
from engine.core.errors import GitError, TmuxError, UsageError
from engine.core.models import Conventions, Subtask
from engine.core.places import BRANCH_PREFIX
from engine.core.sandbox import LINUX_PROGRAMS, SANDBOXED_AGENTS, SandboxPlan
from engine.hosts.gitcli import git
from engine.hosts.host import Host
from engine.hosts.logout import recent_policy
from engine.hosts.on_host import (
    ensure_repo,
    is_remote,
    prepare_repo,
    repo_on,
    run_files_on,
    worktrees_on,
)
from engine.hosts.registry import LOCAL_NAME, Hosts
from engine.hosts.tmux_sessions import PaneFacts, Tmux, server_path, session_name
from engine.hosts.worktrees import (
    adoptable,
    check_folder,
    check_free,
    checkout_all,
    checkout_complete,
    copy_included,
    ensure_registered,
    present_in,
    registered_worktrees,
    run_setup,
    slugify,
)
from engine.run import supervision
from engine.run.journal import Journal, RunRecord, SessionRecord, open_journal
from engine.run.launch_env import Launch, LaunchEnv, kit_on, launch_of
from engine.run.lock import held
from engine.run.lookup import host_of, hosts_of, pane_for, tmux_of
from engine.run.owners import refuse_live_owners
from engine.run.ownership_file import write_ownership
from engine.run.placement import Placement, host_fit, live_sessions, place
from engine.run.recorder import recorder_for
from engine.run.session_status import StatusReaders
from engine.run.waves import Wave, waits_for

T = TypeVar("T")
REMOTE_LAUNCHES = 4
"""Sessions launched at once on one SSH host."""


@dataclass(frozen=True, slots=True, kw_only=True)
class RunRequest:
    repo: Path
    task: str
    subtasks: tuple[Subtask, ...]
    agent: str
    reuse: bool = False
    conventions: Conventions = field(default_factory=Conventions)
    """The plan's conventions, repeated in every session's prompt."""
    hosts: tuple[str, ...] = ()
    """The hosts to place sessions on by free slots (`run --hosts a,b`); none: all on this machine."""


@dataclass(frozen=True, slots=True, kw_only=True)
class PlannedSession:
    name: str
    slug: str
    branch: str
    worktree: str
    agent: str
    host: str = LOCAL_NAME
    """Where it runs (`worktree` is a path there)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Preflight:
    """What `preflight` checked for one request before anything exists: a face shows
    `sessions` before the person confirms, then hands it to `start_run`, so it runs once."""

    request: RunRequest
    spec: AgentSpec
    sessions: tuple[PlannedSession, ...]
    tmux: Tmux
    sandbox: SandboxPlan
    """What will contain the sessions' shells (`note` is the line to show before starting)."""
    placement: Placement | None = None
    """Where the sessions go when hosts were asked for (and which hosts were skipped, why)."""


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


def tmux_for(repo: Path, config: ParallelConfig, host: Host) -> Tmux:
    return Tmux(config.tmux_socket, session_name(repo), server_path(config.tmux_socket), host=host)


def plan_sessions(request: RunRequest, config: ParallelConfig, hosts: Hosts,
                  placement: Placement | None = None) -> list[PlannedSession]:
    """Names, branches and paths, each on its host (`placement`'s, else this machine); raise
    naming any branch or path that is already taken."""
    slugs = slugify([s.name for s in request.subtasks])
    names = placement.hosts if placement else (LOCAL_NAME,) * len(slugs)
    def base_on(name: str) -> Path:
        host = hosts.get(name)
        ensure_repo(host, request.repo)
        base = worktrees_on(host, request.repo, config)
        if not is_remote(host):
            check_folder(base)
        return base
    bases = _each_host(list(dict.fromkeys(names)), base_on)
    planned = [PlannedSession(name=s.name, slug=slug, branch=BRANCH_PREFIX + slug,
                              worktree=str(bases[name] / slug), agent=request.agent, host=name)
               for s, slug, name in zip(request.subtasks, slugs, names, strict=True)]
    check_taken(request, planned, hosts)
    return planned


def check_taken(request: RunRequest, planned: Sequence[PlannedSession], hosts: Hosts) -> None:
    """Raise naming every branch or path already taken (adoptable ones pass under `--reuse`),
    each on the session's host. Cheap, and run again under the repo lock at start: between a
    preflight and the person's answer another run may have taken them."""
    on_host: dict[str, list[PlannedSession]] = {}
    for p in planned:
        on_host.setdefault(p.host, []).append(p)

    def taken_on(name: str) -> list[str]:
        host, mine = hosts.get(name), on_host[name]
        repo = repo_on(host, request.repo)
        if request.reuse:
            registered = registered_worktrees(repo, host=host)
            whys = [why for p in mine
                    if (why := adoptable(repo, p.branch, Path(p.worktree), registered, host=host))]
        else:
            whys = check_free(repo, [(p.branch, Path(p.worktree)) for p in mine], host=host)
        return [f"{why} on host {name}" for why in whys] if is_remote(host) else whys
    found = _each_host(list(on_host), taken_on)
    taken = [why for name in on_host for why in found[name]]
    if taken:
        hint = ("move them away, or remove them (`parallel-tui cleanup`)" if request.reuse else
                "pass --reuse to continue on them, or remove them (`parallel-tui cleanup`)")
        raise GitError("; ".join(taken), hint=hint)


def preflight(request: RunRequest, config: ParallelConfig, hosts: Hosts) -> Preflight:
    """Everything that can fail before anything is created; the sessions go on this machine, or
    on the hosts the request names, placed by free slots."""
    spec = agent_spec(request.agent, config)
    placement = _place(request, config, hosts, spec) if request.hosts else None
    if placement is None or LOCAL_NAME in placement.hosts:
        check_runnable(spec, request.repo, config.sandbox)
    sandbox = check_sandbox(spec, config)
    planned = plan_sessions(request, config, hosts, placement)
    return Preflight(request=request, spec=spec, sessions=tuple(planned),
                     tmux=tmux_for(request.repo, config, hosts.local), sandbox=sandbox, placement=placement)


def _place(request: RunRequest, config: ParallelConfig, hosts: Hosts, spec: AgentSpec) -> Placement:
    program = spec.argv[0] if spec.argv and not spec.argv[0].startswith("{") else ""  # {demo}: python3
    remote = [n for n in dict.fromkeys(request.hosts) if n != LOCAL_NAME and n in hosts.specs]
    strict = config.sandbox == "strict" and spec.name in SANDBOXED_AGENTS  # Claude Code's sandbox there
    fit = host_fit(hosts, program, tuple(p for p, _ in LINUX_PROGRAMS) if strict else ())
    head = git(request.repo, "rev-parse", "HEAD").strip()

    def ready(name: str) -> str:
        """Why the host cannot take sessions; one that can gets HEAD's commits now, while the
        other hosts still answer (and, in the app, while the person reads the launch question)."""
        why = fit(name)
        if not why:
            try:
                prepare_repo(hosts.get(name), request.repo, head)
            except OSError as exc:
                return f"down ({getattr(exc, 'problem', None) or exc.strerror or exc})"
        return why
    with ThreadPoolExecutor(max_workers=max(1, len(remote))) as pool:
        asked = {name: pool.submit(ready, name) for name in remote}  # each connected and asked at once
        with open_journal() as journal:  # meanwhile: the slots other runs hold
            busy = live_sessions(journal, hosts)
        whys = {name: asked[name].result() for name in remote}
    return place(len(request.subtasks), request.hosts, config.hosts, config.max_concurrent_sessions,
                 lambda name: whys[name] if name in whys else fit(name), busy)


def start_run(  # noqa: PLR0913 - `hosts` threaded through, as httpx threads its transport
        request: RunRequest, config: ParallelConfig, journal: Journal, run_id: str,
        readers: StatusReaders, emit: rev.EmitRun = rev.ignore, checked: Preflight | None = None, *,
        hosts: Hosts) -> StartedRun:
    """Create and start the run; `checked`, a preflight of this very request, is not run again
    (one of another request is ignored, and the preflight runs here). Its agent and tmux are
    reused; whether the branches and paths are still free is checked again under the repo lock
    (another run may have taken them while the person was reading the preflight). The sessions
    go on the preflight's host (the repo's own, `hosts.local`, when none was checked)."""
    found = checked if checked is not None and checked.request == request \
        else preflight(request, config, hosts)
    spec, planned, tmux = found.spec, list(found.sessions), found.tmux
    recorder = recorder_for(journal, emit)
    with held(f"repo:{request.repo}", f"repo {request.repo}"):
        check_taken(request, planned, hosts)
        if request.reuse:  # without it, any branch or path in use was refused just now
            refuse_live_owners(journal, request.repo, [(p.branch, p.worktree) for p in planned], hosts)
        run = _journal_run(request, config, journal, run_id, tmux, planned, hosts)
        faults.reached("journal")
        recorder(rev.RunStarted(run_id=run_id, repo=run.repo, base_sha=run.base_sha,
                                sessions=tuple(p.name for p in planned)))
        launch = Launch(spec=spec, config=config, journal=journal, local=tmux, readers=readers,
                        emit=recorder, hosts=hosts)
        return _carry_out(launch, run)


def resume_run(run: RunRecord, config: ParallelConfig, journal: Journal, readers: StatusReaders,
               emit: rev.EmitRun = rev.ignore, *, hosts: Hosts) -> StartedRun:
    """Continue an interrupted run: finish half-made worktrees, launch the sessions that never
    started; sessions that started (running, ended or stopped) are left as they are."""
    spec = agent_spec(run.agent, config)
    check_runnable(spec, Path(run.repo), config.sandbox)
    check_sandbox(spec, config)
    with held(f"repo:{run.repo}", f"repo {run.repo}"):
        launch = launch_of(run, spec, config, journal, readers, recorder_for(journal, emit), hosts)
        return _carry_out(launch, run)


def _carry_out(launch: Launch, run: RunRecord, only: set[str] | None = None) -> StartedRun:
    """Move every session of `run` (or the `only` ones, by name) forward from whatever phase
    the journal says it is in, on each session's host; sessions waiting for their dependencies
    stay planned. The run's supervisor runs here, whatever hosts its sessions are on."""
    journal = launch.journal
    records = [r for r in journal.sessions(run.id) if only is None or r.name in only]
    waiting = {r.slug for r in records if launch.config.supervisor and waits_for(journal, run, r)}
    mine = {r.slug for r in records} - waiting
    names = hosts_of([r for r in records if r.slug in mine])
    opened = _Once(lambda: supervision.open_session(launch.local, run, launch.config))
    with ThreadPoolExecutor(max_workers=1) as aside:
        # the supervisor waits for the run's lock, so it acts only once this creation is over;
        # its window is opened beside an SSH host's work (here first, as it always was)
        early = aside.submit(opened) if launch.config.supervisor and names != [LOCAL_NAME] else None
        _each_host(names, lambda name: _carry(launch, run, name, records, mine, opened))
        if launch.config.supervisor:
            opened()  # here after the checkouts, as it always was (a no-op once a host opened it)
    if early is not None:
        early.result()
    local = launch.local
    return StartedRun(run_id=run.id, repo=run.repo, base_sha=run.base_sha, tmux_session=local.session,
                      attach=local.attach_hint(), sessions=tuple(journal.sessions(run.id)))


def _carry(launch: Launch, run: RunRecord, name: str, records: list[SessionRecord],
           mine: set[str], opened: _Once) -> None:
    """One host from start to finish: a host whose checkouts end first launches first; an SSH
    host's tmux server is started while its checkouts run (a few round trips)."""
    env = launch.on(name, run)
    on_it = {r.slug for r in records if r.slug in mine and (r.host or LOCAL_NAME) == name}
    with ThreadPoolExecutor(max_workers=1) as aside:
        serving = aside.submit(_open_on_host, env) if is_remote(env.host) and on_it else None
        pending = _prepare(env, run, on_it)
    if serving is not None:
        serving.result()
    if pending:
        opened()
    ready = [r for r in pending if r.phase != "worktree" or _merged_dependencies(env, run, r)]
    if ready:
        _launch_all(env, run, ready)


def _each_host(names: list[str], work: Callable[[str], T]) -> dict[str, T]:
    """`work(name)` for every host: the SSH hosts at the same time (each is a machine and a
    connection of its own: eight checkouts on two hosts take the time of four), this machine
    in the calling thread (its git locks and its crash-safety order stay as they were)."""
    remote = [n for n in names if n != LOCAL_NAME]
    if not remote:
        return {name: work(name) for name in names}
    with ThreadPoolExecutor(max_workers=len(remote), thread_name_prefix="host") as pool:
        futures = {name: pool.submit(work, name) for name in remote}
        done = {name: work(name) for name in names if name == LOCAL_NAME}
        return done | {name: futures[name].result() for name in remote}


class _Once:
    """`action` run by whichever host thread needs it first, and only once."""

    def __init__(self, action: Callable[[], None]) -> None:
        self._action, self._done, self._lock = action, False, threading.Lock()

    def __call__(self) -> None:
        with self._lock:
            if not self._done:
                self._action()
                self._done = True


def _prepare(env: LaunchEnv, run: RunRecord, mine: set[str]) -> list[SessionRecord]:
    """Branches and worktrees on the env's host for the sessions `mine` (by slug); the ones
    now ready to launch (or launch again)."""
    journal = env.journal
    records = [r for r in journal.sessions(run.id) if r.slug in mine]
    if not records:
        return []
    prepare_repo(env.host, Path(run.repo), run.base_sha)
    added = _register_all(env, run, [r for r in records if r.phase == "planned"
                                     or (r.phase == "registered" and not env.host.exists(Path(r.worktree)))])
    _check_out(env, run, [r for r in journal.sessions(run.id) if r.phase == "registered" and r.slug in mine],
               added)
    return [r for r in journal.sessions(run.id)
            if r.slug in mine and r.phase in ("worktree", "launching", "launch_failed")]


def _launch_all(env: LaunchEnv, run: RunRecord, pending: list[SessionRecord]) -> None:
    """Trust the worktrees where Claude Code needs it, open the host's session, start each agent."""
    if env.spec.name in CLAUDE_AGENTS:
        worktrees = [Path(r.worktree) for r in pending]
        if is_remote(env.host):
            trust_on_host(env.host, user_config_file(os.environ), Path(run.repo), worktrees)
        else:
            trust_like_repo(user_config_file(os.environ), Path(run.repo), worktrees)
    if is_remote(env.host):
        _open_on_host(env)  # made while the checkouts ran (`_carry_out`): asks only has-session then
    panes = env.tmux.panes()
    if not is_remote(env.host) or len(pending) < 2:
        for record in pending:
            _launch_or_adopt(env, record, panes)
        return
    # a host's launches at once: each is four round trips (ownership file, window, its pane, its
    # process), which its helper answers side by side; here, tmux answers as fast as it is asked
    with ThreadPoolExecutor(max_workers=min(len(pending), REMOTE_LAUNCHES)) as pool:
        list(pool.map(lambda record: _launch_or_adopt(env, record, panes), pending))


def _open_on_host(env: LaunchEnv) -> None:
    """The run's tmux session on an SSH host, started so that it outlives the SSH login
    (engine.hosts.logout)."""
    launcher = recent_policy(env.host).launcher
    env.tmux.ensure_session(env.repo, env.config.tmux_history_limit, launcher=launcher)


def start_wave(run: RunRecord, config: ParallelConfig, journal: Journal, readers: StatusReaders,
               emit: rev.EmitRun, wave: Wave, *, hosts: Hosts) -> None:
    """Carry out the next wave (`engine.run.waves` decides it): block each session whose
    dependency ended without completing, and start every ready one on a branch with its
    dependencies' branches merged in (or carry on one a failed try left registered or checked out)."""
    recorder = recorder_for(journal, emit)
    records = {r.name: r for r in journal.sessions(run.id)}
    for name, why in wave.blocked:
        _block(journal, records[name], recorder, why)
    if wave.ready:
        spec = agent_spec(run.agent, config)
        check_runnable(spec, Path(run.repo), config.sandbox)
        check_sandbox(spec, config)
        with held(f"repo:{run.repo}", f"repo {run.repo}"):
            _carry_out(launch_of(run, spec, config, journal, readers, recorder, hosts), run, set(wave.ready))


def _block(journal: Journal, record: SessionRecord, emit: rev.EmitRun, why: str) -> None:
    journal.update_session(record.run_id, record.slug, phase="launch_failed", final_state="failed")
    emit(rev.SessionLaunchFailed(run_id=record.run_id, name=record.name, error=f"blocked: {why}"))


def _merged_dependencies(env: LaunchEnv, run: RunRecord, record: SessionRecord) -> bool:
    """Merge the branches of `record`'s dependencies into its fresh worktree (a wave after the
    first starts from the base *and* what it builds on). A conflict blocks it, naming the files;
    False then. A session with no dependencies, or already merged, is left as it is."""
    if not record.depends_on or not env.config.supervisor:
        return True
    branches = {r.name: r.branch for r in env.journal.sessions(run.id)}
    worktree = Path(record.worktree)
    for name in record.depends_on:
        branch = branches.get(name)
        if branch is None or _contains(worktree, branch, env.host):
            continue
        try:
            git(worktree, "merge", "--no-edit", "-m", f"Merge {branch} (dependency {name})",
                f"refs/heads/{branch}", host=env.host)
        except GitError:
            files = git(worktree, "diff", "--name-only", "--diff-filter=U", host=env.host).split()
            git(worktree, "merge", "--abort", host=env.host)
            _block(env.journal, record, env.emit,
                   f"merging its dependency {name} conflicts in {', '.join(files) or 'its files'}")
            return False
    return True


def _contains(worktree: Path, branch: str, host: Host) -> bool:
    try:
        git(worktree, "merge-base", "--is-ancestor", f"refs/heads/{branch}", "HEAD", host=host)
    except GitError:
        return False
    return True


def _journal_run(request: RunRequest, config: ParallelConfig, journal: Journal, run_id: str,
                 tmux: Tmux, planned: list[PlannedSession], hosts: Hosts) -> RunRecord:
    host = tmux.host
    base_ref = git(request.repo, "rev-parse", "--abbrev-ref", "HEAD", host=host).strip()
    sha = git(request.repo, "rev-parse", "HEAD", host=host).strip()
    run = RunRecord(id=run_id, repo=str(request.repo), base_sha=sha,
                    base_ref=sha if base_ref == "HEAD" else base_ref, agent=request.agent,
                    tmux_socket=config.tmux_socket, tmux_session=tmux.session, task=request.task,
                    created_at=time.time(), pid=os.getpid(), tmux_server=tmux.socket_path)
    def record(pair: tuple[PlannedSession, Subtask]) -> SessionRecord:
        return _session_record(run, pair[0], pair[1], request, config, hosts.get(pair[0].host))
    pairs = list(zip(planned, request.subtasks, strict=True))
    if all(p.host == LOCAL_NAME for p in planned):
        records = [record(pair) for pair in pairs]
    else:  # each prompt written on its host is a round trip: all of them at once
        with ThreadPoolExecutor(max_workers=min(len(pairs), REMOTE_LAUNCHES * 2)) as pool:
            records = list(pool.map(record, pairs))
    journal.add_run_with_sessions(run, records)
    return run


def _session_record(run: RunRecord, planned: PlannedSession, subtask: Subtask, request: RunRequest,
                    config: ParallelConfig, host: Host) -> SessionRecord:
    files_dir = run_files_on(host, run.id)
    others = [s for s in request.subtasks if s is not subtask]
    skill = subtask.agent.skill if subtask.agent else ""
    invoke = skill_command(request.agent, skill, request.repo, Path.home())
    brief = Brief(task=request.task, conventions=request.conventions, test_command=config.test_command)
    text = prompt_text(subtask, others, brief, invoke, waves=config.supervisor)
    prompt = write_prompt(files_dir / f"{planned.slug}.prompt", text, host=host)
    return SessionRecord(
        run_id=run.id, slug=planned.slug, name=planned.name, branch=planned.branch,
        worktree=planned.worktree, window_name=planned.slug, agent=planned.agent,
        owned=subtask.files(), phase="planned", prompt_file=str(prompt),
        hook_file=str(files_dir / f"{planned.slug}.hook.jsonl"),
        stream_file=str(files_dir / f"{planned.slug}.stream.jsonl"),
        matched=subtask.agent.name if subtask.agent else "", depends_on=subtask.depends_on, host=host.name)


def _register_all(env: LaunchEnv, run: RunRecord, records: list[SessionRecord]) -> frozenset[Path]:
    """Branch + worktree (no checkout) per session, one at a time; the worktrees added (not
    adopted). `made` is journaled first: cleanup may only remove a worktree this tool set out
    to create (or adopted from itself)."""
    added: set[Path] = set()
    repo, journal = env.repo, env.journal
    registered: dict[str, str] | None = None
    present = present_in(repo, [Path(r.worktree).parent for r in records], host=env.host) \
        if is_remote(env.host) and records else None  # one look for all of them, not two each
    for record in records:
        started = time.perf_counter()
        registered = registered if registered is not None else registered_worktrees(repo, host=env.host)
        there = record.worktree in registered
        made = record.made or not there or _made_before(journal, run.repo, record.worktree)
        journal.update_session(run.id, record.slug, made=made)
        adopted = ensure_registered(repo, record.branch, Path(record.worktree), run.base_sha, registered,
                                    host=env.host, present=present)
        # under the repo lock a fresh add is the only change (read again after an adopt or a prune)
        registered = None if there else {**registered, record.worktree: record.branch}
        if not there and not adopted:
            added.add(Path(record.worktree))
        journal.update_session(run.id, record.slug, phase="registered", reused=adopted and not record.made)
        journal.timing(run.id, record.slug, "register", time.perf_counter() - started)
    return frozenset(added)


def _made_before(journal: Journal, repo: str, worktree: str) -> bool:
    return any(s.made and s.worktree == worktree for r in journal.runs(repo) for s in journal.sessions(r.id))


def _check_out(env: LaunchEnv, run: RunRecord, records: list[SessionRecord],
               added: frozenset[Path] = frozenset()) -> None:
    """Finish every checkout that never completed (in parallel), then copy, set up, journal;
    `added` were registered just now (`--no-checkout`: nothing to ask)."""
    paths = [Path(r.worktree) for r in records]
    undone = [p for p in paths if p in added or not checkout_complete(p, host=env.host)]
    seconds = checkout_all(undone, os.cpu_count() or 2, host=env.host, fresh=added)
    registering = {t.slug: t.seconds for t in env.journal.timings(run.id) if t.stage == "register"}
    for record, path in zip(records, paths, strict=True):
        took = registering.get(record.slug, 0.0) + seconds.get(path, 0.0)
        _finish_worktree(env, record, Path(run.repo), took)  # .worktreeinclude: from the repo here


def _finish_worktree(env: LaunchEnv, record: SessionRecord, repo: Path, seconds: float) -> None:
    journal, emit, config = env.journal, env.emit, env.config
    copy_included(repo, Path(record.worktree), host=env.host)
    journal.timing(record.run_id, record.slug, "worktree", seconds)
    event = rev.WorktreeCreated(run_id=record.run_id, name=record.name, path=record.worktree,
                                branch=record.branch, seconds=seconds)
    emit(event)
    if config.worktree_setup_command:
        setup_s = run_setup(config.worktree_setup_command, Path(record.worktree),
                            config.worktree_setup_timeout, host=env.host)
        journal.timing(record.run_id, record.slug, "setup", setup_s)
        done = rev.SetupFinished(run_id=record.run_id, name=record.name, seconds=setup_s, ok=True)
        emit(done)
    journal.update_session(record.run_id, record.slug, phase="worktree")


def _launch_or_adopt(env: LaunchEnv, record: SessionRecord, panes: dict[str, PaneFacts]) -> None:
    """Launch, unless a window was made and the journal never heard (killed right after
    `new-window`): that agent is running, so it is journaled (its row and its SessionStarted,
    which the fold and the app's board read), not started twice."""
    pane = pane_for(record, panes)
    if pane is not None and record.phase == "launching":
        env.journal.update_session(record.run_id, record.slug, phase="started", window_id=pane.window_id,
                                   started_at=record.started_at or time.time())
        env.emit(rev.SessionStarted(run_id=record.run_id, name=record.name, window=pane.window_id,
                                    agent=record.agent))
        return
    if pane is not None and pane.dead:  # the window of a failed launch: replaced, not left behind
        env.tmux.kill_window(pane.window_id)
    _launch(env, record, specialist_for(env.spec, record.matched, Path(record.worktree), Path.home()))


def _launch(env: LaunchEnv, record: SessionRecord, specialist: str, guard: bool = True) -> SessionRecord:
    spec, config, journal, tmux, emit = env.spec, env.config, env.journal, env.tmux, env.emit
    write_ownership(env, record, guard)
    ctx = LaunchContext(name=record.slug, worktree=Path(record.worktree),
                        prompt_file=Path(record.prompt_file), files=record.owned, specialist=specialist,
                        hook_file=Path(record.hook_file), stream_file=Path(record.stream_file),
                        exit_file=Path(record.prompt_file).with_suffix(".exit"),
                        shell=check_sandbox(spec, config).shell, sandbox=config.sandbox, kit=env.kit,
                        host=env.host)
    argv = window_argv(spec, build_argv(spec, ctx, config, env.readers.hook_settings), ctx)
    journal.update_session(record.run_id, record.slug, phase="launching")
    started_at = time.time()
    try:
        _refuse_escapes(record)
        window_id = tmux.new_window(record.window_name, Path(record.worktree), argv)
        faults.reached("window")
        _check_launched(tmux, window_id)
    except TmuxError as exc:
        journal.update_session(record.run_id, record.slug, phase="launch_failed", final_state="failed")
        failed = rev.SessionLaunchFailed(run_id=record.run_id, name=record.name, error=exc.problem)
        emit(failed)
        return record
    journal.update_session(record.run_id, record.slug, phase="started", window_id=window_id,
                           started_at=started_at)
    event = rev.SessionStarted(run_id=record.run_id, name=record.name, window=window_id, agent=spec.name,
                               host=env.host.name)
    emit(event)
    faults.reached("agent")
    return _with(record, window_id=window_id, phase="started", started_at=started_at)


def _refuse_escapes(record: SessionRecord) -> None:
    """Validation resolved the plan's paths in the main checkout as it is on disk; the worktree
    is HEAD's tree, which can differ (a tracked symlink deleted on disk but not in HEAD). So
    every path is resolved again in the worktree itself before an agent may write there."""
    worktree = Path(record.worktree)
    bad = [f"{path} ({why})" for path in record.owned if (why := path_escape(worktree, path))]
    if bad:
        raise TmuxError(f"not started: in its worktree, {'; '.join(bad)}",
                        hint="fix the symlink in the repository (commit it), then `run --resume`")


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
    if not facts.dead and facts.pid is not None and not tmux.host.alive(facts.pid):
        raise TmuxError(f"agent process {facts.pid} is not running",
                        hint="check the agent command with `parallel-tui attach`")


def _with(record: SessionRecord, **changes: object) -> SessionRecord:
    return dataclasses.replace(record, **changes)  # type: ignore[arg-type]


def relaunch(  # noqa: PLR0913 - `hosts` threaded through, as httpx threads its transport
        run: RunRecord, record: SessionRecord, config: ParallelConfig, journal: Journal,
        readers: StatusReaders, prompt_file: Path, emit: rev.EmitRun = rev.ignore, *,
        hosts: Hosts) -> SessionRecord:
    """Start an ended session's agent again in its worktree with another prompt (a merge to
    resolve). Its old window, whose agent has exited, is replaced; a live one is refused."""
    spec = agent_spec(run.agent, config)
    check_runnable(spec, Path(run.repo), config.sandbox)
    check_sandbox(spec, config)
    host = host_of(record, hosts)
    tmux = tmux_of(run, host)
    pane = pane_for(record, tmux.panes())
    if pane is not None and not pane.dead:
        raise UsageError(f"the agent of {record.name} is still running",
                         hint=f"send it the text instead: parallel-tui send {record.slug} ...")
    if pane is not None:
        tmux.kill_window(pane.window_id)
    journal.update_session(run.id, record.slug, prompt_file=str(prompt_file), final_state="", ended_at=0.0,
                           first_activity_at=0.0)
    repo = repo_on(host, Path(run.repo))
    tmux.ensure_session(repo, config.tmux_history_limit)
    env = LaunchEnv(spec=spec, config=config, journal=journal, tmux=tmux, readers=readers,
                    emit=recorder_for(journal, emit), host=host, repo=repo, kit=kit_on(host))
    fresh = _with(record, prompt_file=str(prompt_file))
    return _launch(env, fresh, specialist_for(spec, record.matched, Path(record.worktree), Path.home()),
                   guard=False)

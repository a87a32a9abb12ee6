"""The ownership file of a session: what its edit hook and the boundary watch judge by.

Written at launch next to the session's hook file, on the session's host, with that host's
paths (its home, temp dir and uid come from the session's kit): the worktree and files it
owns, the other subtasks' files and worktrees, and the places no session may write.
"""

from __future__ import annotations

from pathlib import Path

from engine.agents import ownership_hook
from engine.agents.descriptors import CODEX_AGENTS, GEMINI_AGENTS
from engine.core.config import state_dir, user_config_path
from engine.core.ownership import Boundaries
from engine.hosts.host import Host
from engine.hosts.on_host import is_remote, root_on
from engine.run.journal import SessionRecord
from engine.run.launch_env import LaunchEnv

ASK_TO_DENY = frozenset({"claude-headless"}) | CODEX_AGENTS | GEMINI_AGENTS


def write_ownership(env: LaunchEnv, record: SessionRecord, guard: bool) -> None:
    """The session's ownership file, next to its hook file: what the Claude edit hook
    (`ownership_hook`) and the boundary watch (`enforce`) judge by. None while resolving a
    merge, which edits others' files by design."""
    target = ownership_hook.ownership_file_for(Path(record.hook_file))
    if not guard:
        env.host.remove(target)
        return
    mode = env.config.ownership
    if mode == "ask" and env.spec.name in ASK_TO_DENY:
        mode = "deny"  # nobody can answer a question under `claude -p`; codex's hooks cannot ask
    peers = [s for s in env.journal.sessions(record.run_id) if s.slug != record.slug]
    elsewhere = {p.worktree: f"subtask {p.name}'s worktree" for p in peers if p.host == record.host}
    elsewhere[str(env.repo)] = "the main checkout" if not is_remote(env.host) else "the repository's clone"
    elsewhere[str(target.parent)] = "parallel-tui's run folder"
    places = env.kit.places()
    bounds = Boundaries(subtask=record.name, worktree=record.worktree, owned=record.owned,
                        others={p.name: p.owned for p in peers}, elsewhere=elsewhere,
                        protected=_protected(env.host, places.home),
                        scratch=ownership_hook.scratch_places(places.temp_dir, places.uid))
    data = ownership_hook.ownership_json(bounds, mode=mode, hook_file=Path(record.hook_file))
    env.host.write_bytes(target, data)


def _protected(host: Host, home: str) -> dict[str, str]:
    """What no session may write on its host: the tool's own folders there, and the user's."""
    if not is_remote(host):
        return ownership_hook.protected_places(home, str(state_dir()), str(user_config_path().parent))
    root = root_on(host)
    return ownership_hook.protected_places(home, root, root)



"""What launching a run's sessions shares, per host and across hosts.

A run's sessions may live on several hosts: each host's launches share its tmux server, its
repository (the repo here, its clone on an SSH host) and the kit of tools its sessions run;
all of them share the agent, the config, the journal and the run's own tmux server here, which
runs its supervisor.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from engine.agents.descriptors import AgentSpec
from engine.agents.kit import ship_kit
from engine.core.config import ParallelConfig
from engine.core.kit import LOCAL_KIT, Kit
from engine.hosts.host import Host
from engine.hosts.on_host import is_remote, repo_on, root_on
from engine.hosts.registry import Hosts
from engine.hosts.tmux_sessions import Tmux
from engine.run.journal import Journal, RunRecord
from engine.run.lookup import tmux_of
from engine.run.recorder import Recorder
from engine.run.session_status import StatusReaders


@dataclass(frozen=True, slots=True, kw_only=True)
class LaunchEnv:
    """What every launch of one run's sessions on one host shares."""

    spec: AgentSpec
    config: ParallelConfig
    journal: Journal
    tmux: Tmux
    """The run's server on this host (here, the run's own, which runs its supervisor)."""
    readers: StatusReaders
    emit: Recorder
    """Journals each event, then shows it: the only writer of the events table."""
    host: Host
    """Where these sessions live: their git, tmux and files (`tmux.host`)."""
    repo: Path
    """The repository git works in on this host (the repo here, its clone on an SSH host)."""
    kit: Kit = LOCAL_KIT
    """Our programs a session runs on this host (hooks, statusline, demo agent)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Launch:
    """What a run's launches share across hosts: the run's own tmux server here, and how to
    reach each host its sessions journaled."""

    spec: AgentSpec
    config: ParallelConfig
    journal: Journal
    local: Tmux
    readers: StatusReaders
    emit: Recorder
    hosts: Hosts

    def on(self, name: str, run: RunRecord) -> LaunchEnv:
        host = self.hosts.get(name)
        tmux = self.local if not is_remote(host) else tmux_of(run, host)
        return LaunchEnv(spec=self.spec, config=self.config, journal=self.journal, tmux=tmux,
                         readers=self.readers, emit=self.emit, host=host, repo=repo_on(host, Path(run.repo)),
                         kit=kit_on(host))


def kit_on(host: Host) -> Kit:
    """The session tools on `host`: this checkout's here, shipped under the work root there."""
    return LOCAL_KIT if not is_remote(host) else ship_kit(host, root_on(host))


def launch_of(run: RunRecord, spec: AgentSpec, config: ParallelConfig, journal: Journal,
              readers: StatusReaders, emit: Recorder, hosts: Hosts) -> Launch:
    """For a journaled run: its own tmux server here (each session's host is journaled)."""
    return Launch(spec=spec, config=config, journal=journal, local=tmux_of(run, hosts.local),
                  readers=readers, emit=emit, hosts=hosts)

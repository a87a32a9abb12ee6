"""ParallelConfig: the spec's constants, and where a user may override them.

The field names and defaults of the overhead model and resource limits are the spec's own
(`ParallelConfig` in the product spec), so numbers in the docs, the model and the config
file line up. Layers, lowest first: defaults, the user's `config.toml`, the repo's
`.parallel-tui.toml`, `PARALLEL_TUI_<FIELD>` environment variables, then flags.
"""

from __future__ import annotations

import dataclasses
import os
import shlex
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import platformdirs

from engine.errors import ConfigError

ENV_PREFIX = "PARALLEL_TUI_"
REPO_CONFIG_NAME = ".parallel-tui.toml"


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentRule:
    """One extra row for the agent-matching matrix, from config."""

    pattern: str
    """Alternation of word stems, as in the spec's matrix: `auth|login|jwt`."""
    agent: str
    skill: str
    confidence: float = 0.8
    why: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class ParallelConfig:
    """Every tunable number of the planner; the spec's defaults unless overridden."""

    # Overhead times (seconds), the spec's model
    worktree_creation_time: float = 8.0
    session_startup_time: float = 5.0
    context_building_time: float = 20.0
    merge_time_per_branch: float = 10.0
    # Resource limits
    max_concurrent_sessions: int = 8
    max_worktrees: int = 15
    min_files_per_subtask: int = 2
    # Break-even thresholds
    min_task_time_for_2_splits: float = 5.0
    """Minutes; a shorter task is never worth splitting."""
    coordination_factor: float = 1.2
    """Each parallel part takes this much longer than its share (handoffs, review)."""
    min_efficiency_gain_pct: float = 15.0
    min_marginal_gain_pct: float = 5.0
    """Add a split only while it cuts the total by this % of the sequential time."""
    # Analysis
    churn_days: int = 30
    # Planner
    planner_model: str = "claude-sonnet-5-5"
    planner_timeout_s: float = 60.0
    planner_max_retries: int = 2
    merge_strategy: str = "merge"
    """`merge` (direct, atomic) or `pr` (one pull request per branch)."""
    # Run engine (issue #4)
    worktree_root: str = ""
    """Where worktrees go; empty means `<parent>/<repo>.parallel`. Relative paths are from the repo."""
    worktree_setup_command: str = ""
    """Run (as an argv, split like a shell would) in each new worktree, e.g. `npm ci`."""
    default_agent: str = "claude"
    permission_mode: str = "acceptEdits"
    """Passed to interactive `claude --permission-mode`."""
    custom_agent_command: str = ""
    """Template for the `custom` agent: {prompt_file}, {worktree}, {name} are quoted argv words."""
    test_command: str = ""
    """The repo's test command, told to every agent in its prompt."""
    demo_seconds: float = 3.0
    """How long the built-in demo agent works before committing."""
    tmux_socket: str = ""
    """tmux socket name (`tmux -L`); empty means the user's default server."""
    tmux_history_limit: int = 50000
    agent_rules: tuple[AgentRule, ...] = field(default_factory=tuple)

    def per_session_overhead_s(self) -> float:
        """Seconds each split costs before any work: worktree, start-up, context."""
        return self.worktree_creation_time + self.session_startup_time + self.context_building_time


_POSITIVE = {
    "worktree_creation_time", "session_startup_time", "context_building_time",
    "merge_time_per_branch", "min_task_time_for_2_splits", "planner_timeout_s",
    "min_efficiency_gain_pct", "min_marginal_gain_pct",
}
_AT_LEAST_ONE = {"max_concurrent_sessions", "max_worktrees", "min_files_per_subtask", "churn_days"}
_COMMANDS = {"custom_agent_command", "worktree_setup_command"}
"""Settings that are command lines: they must split into words (shlex) when loaded."""
_SCALAR_FIELDS = {f.name: f for f in dataclasses.fields(ParallelConfig) if f.name != "agent_rules"}


def user_config_path() -> Path:
    """The user's config file; `PARALLEL_TUI_HOME` moves it (tests use a temp dir)."""
    home = os.environ.get(f"{ENV_PREFIX}HOME")
    base = Path(home) if home else Path(platformdirs.user_config_dir("parallel-tui"))
    return base / "config.toml"


def state_dir() -> Path:
    """Where the journal and caches live; `PARALLEL_TUI_HOME` moves it."""
    home = os.environ.get(f"{ENV_PREFIX}HOME")
    return Path(home) if home else Path(platformdirs.user_state_dir("parallel-tui"))


def load_config(repo: Path | None = None, overrides: Mapping[str, object] | None = None,
                env: Mapping[str, str] | None = None) -> ParallelConfig:
    """Build the effective config from every layer; raise ConfigError naming a bad value."""
    values: dict[str, object] = {}
    rules: list[AgentRule] = []
    for path in (user_config_path(), (repo / REPO_CONFIG_NAME) if repo else None):
        if path is not None and path.is_file():
            table = _read_toml(path)
            rules.extend(_agent_rules(table.pop("agent_rules", []), path))
            values.update(_checked(table, str(path)))
    environ = os.environ if env is None else env
    values.update(_checked(_from_env(environ), "environment"))
    values.update(_checked(dict(overrides or {}), "flags"))
    return ParallelConfig(**values, agent_rules=tuple(rules))  # type: ignore[arg-type]


def _read_toml(path: Path) -> dict[str, object]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}", hint="fix the TOML or remove the file") from exc


def _from_env(environ: Mapping[str, str]) -> dict[str, object]:
    out: dict[str, object] = {}
    for name in _SCALAR_FIELDS:
        raw = environ.get(f"{ENV_PREFIX}{name.upper()}")
        if raw is not None:
            out[name] = raw
    return out


def _checked(raw: Mapping[str, object], source: str) -> dict[str, object]:
    out: dict[str, object] = {}
    for name, value in raw.items():
        if name not in _SCALAR_FIELDS:
            raise ConfigError(f"unknown setting {name!r} in {source}",
                              hint=f"use one of: {', '.join(sorted(_SCALAR_FIELDS))}")
        out[name] = _coerce(name, value, source)
    return out


def _coerce(name: str, value: object, source: str) -> object:
    kind: type = type(ParallelConfig.__dataclass_fields__[name].default)
    try:
        coerced = kind(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{name}={value!r} in {source} is not a {kind.__name__}",
                          hint=f"set {name} to a {kind.__name__}") from None
    if kind is not str and isinstance(value, bool):
        raise ConfigError(f"{name}={value!r} in {source} is not a number",
                          hint=f"set {name} to a {kind.__name__}")
    if name in _POSITIVE and coerced < 0:
        raise ConfigError(f"{name}={value!r} in {source} is negative", hint=f"set {name} ≥ 0")
    if name in _AT_LEAST_ONE and coerced < 1:
        raise ConfigError(f"{name}={value!r} in {source} is below 1", hint=f"set {name} ≥ 1")
    if name == "coordination_factor" and coerced < 1:
        raise ConfigError(f"coordination_factor={value!r} in {source} is below 1",
                          hint="parallel parts never take less than their share: set it ≥ 1")
    if name in _COMMANDS and coerced:
        try:
            shlex.split(coerced)
        except ValueError as exc:
            raise ConfigError(f"{name}={value!r} in {source} cannot be split into words ({exc})",
                              hint=f"fix the quoting in {name}") from None
    if name == "merge_strategy" and coerced not in ("merge", "pr"):
        raise ConfigError(f"merge_strategy={value!r} in {source} is unknown",
                          hint="set merge_strategy to 'merge' or 'pr'")
    return coerced


def _agent_rules(raw: object, path: Path) -> list[AgentRule]:
    if not isinstance(raw, list):
        raise ConfigError(f"agent_rules in {path} is not a list of tables",
                          hint="write [[agent_rules]] tables with pattern, agent and skill")
    rules = []
    for item in raw:
        try:
            rules.append(AgentRule(**item))
        except TypeError as exc:
            raise ConfigError(f"bad [[agent_rules]] entry in {path}: {exc}",
                              hint="each needs pattern, agent and skill (confidence, why optional)") from None
    return rules

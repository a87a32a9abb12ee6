"""ParallelConfig: the spec's constants, and where a user may override them.

The field names and defaults of the overhead model and resource limits are the spec's own
(`ParallelConfig` in the product spec), so numbers in the docs, the model and the config
file line up. Layers, lowest first: defaults, the user's `config.toml`, the repo's
`.parallel-tui.toml`, `PARALLEL_TUI_<FIELD>` environment variables, then flags.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import os
import re
import reprlib
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from engine.core.errors import ConfigError, StateError
from engine.core.hosts_config import HostSpec, parse_hosts
from engine.core.places import ENV_PREFIX, REPO_CONFIG_NAME, state_home, user_config_file

__all__ = [
    "DEFAULT_ALLOWED_DOMAINS",
    "ENV_PREFIX",
    "OWNERSHIP_MODES",
    "REPO_CONFIG_NAME",
    "SANDBOX_MODES",
    "AgentRule",
    "ParallelConfig",
    "load_config",
    "state_dir",
    "user_config_path",
    "with_flags",
    "writable_dir",
]

SANDBOX_MODES = ("strict", "on", "off")
"""The `sandbox` key's values (what each means: `engine.core.sandbox`, which this module does
not load: every verb reads the config, few ask about the sandbox)."""
DEFAULT_ALLOWED_DOMAINS: tuple[str, ...] = (
    "pypi.org", "files.pythonhosted.org",                   # pip, uv
    "registry.npmjs.org", "registry.yarnpkg.com",           # npm, yarn, pnpm
    "proxy.golang.org", "sum.golang.org",                   # go
    "crates.io", "index.crates.io", "static.crates.io",     # cargo
    "rubygems.org", "repo.maven.apache.org", "repo1.maven.org",
)
"""Package registries a test run may need. Any other domain is denied at once under `claude -p`
(the sandbox's proxy answers 403, seen on 2.1.197), and asks in an interactive session (the
board shows it as needs input): neither leaves a background session hanging."""


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
    planner_max_turns: int = 12
    """The Claude Code planner's turn limit (`claude -p --max-turns`): reads, then the plan."""
    planner_max_budget_usd: float = 1.0
    """The Claude Code planner's spending limit (`--max-budget-usd`)."""
    planner_session_timeout_s: float = 300.0
    """The Claude Code planner's time limit for its whole session; its process group is killed then."""
    merge_strategy: str = "merge"
    """`merge` (direct, atomic) or `pr` (one pull request per branch)."""
    # Run engine (issue #4)
    worktree_root: str = ""
    """Where worktrees go; empty means `<parent>/<repo>.parallel`. Relative paths are from the repo."""
    worktree_setup_command: str = ""
    """Run (as an argv, split like a shell would) in each new worktree, e.g. `npm ci`."""
    worktree_setup_timeout: float = 1800.0
    """Seconds the setup command may take; past it, it and everything it started are ended."""
    verify_timeout: float = 3600.0
    """Seconds `merge`'s verify command may take per run (`merge --verify-timeout`); past it,
    it and everything it started are ended and the merge moves nothing."""
    default_agent: str = "claude"
    permission_mode: str = "acceptEdits"
    """Passed to interactive `claude --permission-mode`."""
    ownership: str = "deny"
    """What an edit outside a session's files gets: `deny` (Claude Code's edit tools are refused
    before they run; other agents are stopped when the boundary watch sees the edit), `ask`
    (interactive Claude asks the user; `claude -p` denies), `warn` (allowed, flagged in status)
    or `off`. See docs/ownership.md."""
    sandbox: str = "on"
    """Claude Code's sandbox around each session's shell: `strict` (refuse to start a session
    without it), `on` (use it when the machine has it; else only git add/commit and the test
    command run without asking) or `off`. See README's Safety section."""
    sandbox_allowed_domains: tuple[str, ...] = DEFAULT_ALLOWED_DOMAINS
    """Domains a sandboxed command may reach (`sandbox.network.allowedDomains`); others are
    denied under `claude -p` and ask in an interactive session."""
    stall_after_s: float = 300.0
    """A live session with no new signal and an unchanged pane for this long is `stalled`."""
    custom_agent_command: str = ""
    """Template for the `custom` agent: {prompt_file}, {worktree}, {name} are quoted argv words."""
    test_command: str = ""
    """The repo's test command, told to every agent in its prompt."""
    demo_seconds: float = 3.0
    """How long the built-in demo agent works before committing."""
    tmux_socket: str = ""
    """tmux socket name (`tmux -L`); empty means the user's default server."""
    tmux_history_limit: int = 50000
    radar_every_s: float = 5.0
    """How often the supervisor's live overlap radar compares the live sessions' work (0: off)."""
    supervisor: bool = True
    """Follow every run with a detached supervisor (the first window of the run's tmux session),
    so sessions are watched, enforced and journaled whether or not a CLI call or the app is open.
    `false`: only `run --wait` or the app follows, while it runs."""
    desktop_notify: str = "osc9"
    """When a session needs input or fails, besides the bell: a desktop notification through
    the terminal, `osc9` (iTerm2, WezTerm, Ghostty, kitty, Windows Terminal) or `osc777`
    (foot, rxvt-unicode, VTE terminals with the notify patch, WezTerm, Ghostty), or `off`."""
    agent_rules: tuple[AgentRule, ...] = field(default_factory=tuple)
    hosts: tuple[HostSpec, ...] = field(default_factory=tuple)
    """`[[hosts]]` from the user's config: machines sessions may run on (`local` is always one)."""

    def per_session_overhead_s(self) -> float:
        """Seconds each split costs before any work: worktree, start-up, context."""
        return self.worktree_creation_time + self.session_startup_time + self.context_building_time


_BOUNDS: dict[str, tuple[float, float]] = {
    # seconds
    "worktree_creation_time": (0, 86_400), "session_startup_time": (0, 86_400),
    "context_building_time": (0, 86_400), "merge_time_per_branch": (0, 86_400),
    "planner_timeout_s": (0, 3_600), "demo_seconds": (0, 3_600), "stall_after_s": (1, 86_400),
    "radar_every_s": (0, 86_400), "planner_session_timeout_s": (1, 3_600),
    "worktree_setup_timeout": (1, 604_800), "verify_timeout": (1, 604_800),
    # minutes, factors, percentages
    "min_task_time_for_2_splits": (0, 100_000), "coordination_factor": (1, 10),
    "min_efficiency_gain_pct": (0, 100), "min_marginal_gain_pct": (0, 100),
    # counts
    "max_concurrent_sessions": (1, 100), "max_worktrees": (1, 1_000),
    "min_files_per_subtask": (1, 100_000), "churn_days": (1, 36_500),
    "planner_max_retries": (0, 10), "planner_max_turns": (1, 200),
    "planner_max_budget_usd": (0.01, 1_000), "tmux_history_limit": (0, 10_000_000),
}
"""Every number's allowed range, so arithmetic downstream never meets inf, nan or a silly count."""
OWNERSHIP_MODES = ("deny", "ask", "warn", "off")
NOTIFY_MODES = ("osc9", "osc777", "off")
_COMMANDS = {"custom_agent_command", "worktree_setup_command"}
"""Settings that are command lines: they must split into words (shlex) when loaded."""
_SCALAR_FIELDS = {f.name: f for f in dataclasses.fields(ParallelConfig)
                  if f.name not in ("agent_rules", "hosts")}
_RULE_TEXT = ("pattern", "agent", "skill", "why")


def user_config_path() -> Path:
    """The user's config file; `PARALLEL_TUI_HOME` moves it (tests use a temp dir)."""
    return Path(user_config_file())


def state_dir() -> Path:
    """Where the journal and caches live; `PARALLEL_TUI_HOME` moves it."""
    return Path(state_home())


def writable_dir(path: Path, what: str) -> Path:
    """Create `path` if needed and check it can be written, or raise one StateError line.

    The state directory is the tool's memory (journal, locks): a fault there must name the
    folder and the way out, not surface as an OSError traceback from sqlite or fcntl.
    """
    way_out = f"or set {ENV_PREFIX}HOME to a writable folder"
    blocker = _file_in_the_way(path)
    if blocker == path:
        raise StateError(f"the {what} {path} is a file, not a folder", hint=f"move that file away, {way_out}")
    if blocker is not None:
        raise StateError(f"the {what} {path} cannot be created: {blocker} is a file, not a folder",
                         hint=f"move {blocker} away, {way_out}")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StateError(f"the {what} {path} cannot be created ({exc.strerror or exc})",
                         hint=f"make its parent writable, {way_out}") from None
    if not os.access(path, os.W_OK | os.X_OK):
        raise StateError(f"the {what} {path} is not writable",
                         hint=f"fix its permissions (chmod u+rwx; `lsattr -d` shows an immutable flag), "
                              f"{way_out}")
    return path


def _file_in_the_way(path: Path) -> Path | None:
    """The first existing ancestor-or-self of `path` that is not a folder, if any."""
    for candidate in (path, *path.parents):
        if candidate.exists() or candidate.is_symlink():
            return None if candidate.is_dir() else candidate
    return None


def load_config(repo: Path | None = None, overrides: Mapping[str, object] | None = None,
                env: Mapping[str, str] | None = None) -> ParallelConfig:
    """Build the effective config from every layer; raise ConfigError naming a bad value and its source."""
    values: dict[str, object] = {}
    rules: list[AgentRule] = []
    hosts: tuple[HostSpec, ...] = ()
    for path in (user_config_path(), (repo / REPO_CONFIG_NAME) if repo else None):
        if path is not None and path.is_file():
            table = _read_toml(path)
            rules.extend(_agent_rules(table.pop("agent_rules", []), path))
            if "hosts" in table:
                hosts = _hosts(table.pop("hosts"), path)
            values.update(_checked(table, str(path)))
    environ = os.environ if env is None else env
    for name, raw in _from_env(environ).items():
        values.update(_checked({name: raw}, f"${ENV_PREFIX}{name.upper()}"))
    values.update(_checked(dict(overrides or {}), "flags"))
    return ParallelConfig(**values, agent_rules=tuple(rules), hosts=hosts)  # type: ignore[arg-type]


def _hosts(raw: object, path: Path) -> tuple[HostSpec, ...]:
    if path != user_config_path():
        raise ConfigError(f"{path} lists hosts, which only the user's own config may",
                          hint=f"move the [[hosts]] tables to {user_config_path()}")
    return parse_hosts(raw, str(path))


def with_flags(config: ParallelConfig, flags: Mapping[str, object]) -> ParallelConfig:
    """`config` with settings given as flags (`merge --verify-timeout`), checked like any layer's."""
    return dataclasses.replace(config, **_checked(dict(flags), "flags")) if flags else config  # type: ignore[arg-type]


def _read_toml(path: Path) -> dict[str, object]:
    import tomllib  # noqa: PLC0415 - ~3 ms of start-up, and most calls find no config file

    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}", hint="fix the TOML or remove the file") from None
    except RecursionError:
        raise ConfigError(f"cannot read {path}: arrays or tables nested too deep",
                          hint="fix the TOML or remove the file") from None


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
            raise ConfigError(f"unknown setting {_show(name)} in {source}",
                              hint=f"use one of: {', '.join(sorted(_SCALAR_FIELDS))}")
        out[name] = _coerce(name, value, source)
    return out


def _coerce(name: str, value: object, source: str) -> object:
    """The value as its field's type, or a ConfigError naming the key, the value and the source."""
    kind: type = type(ParallelConfig.__dataclass_fields__[name].default)
    if kind is bool:
        return _flag(name, value, source)
    if kind is str:
        return _text(name, value, source)
    if kind is tuple:
        return _domains(name, value, source)
    number = _whole(name, value, source) if kind is int else _finite(name, value, source)
    low, high = _BOUNDS[name]
    if name == "coordination_factor" and number < 1:
        raise ConfigError(f"coordination_factor={_show(value)} in {source} is below 1",
                          hint="parallel parts never take less than their share: set it ≥ 1")
    if not low <= number <= high:
        raise ConfigError(f"{name}={_show(value)} in {source} is outside {low:.0f}..{high:.0f}",
                          hint=f"set {name} to a number from {low:.0f} to {high:.0f}")
    return number


_FLAGS = {"true": True, "1": True, "yes": True, "on": True,
          "false": False, "0": False, "no": False, "off": False}


def _flag(name: str, value: object, source: str) -> bool:
    """TOML gives a bool; the environment gives text (`true`/`false`, `1`/`0`, `yes`/`no`)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _FLAGS:
        return _FLAGS[value.strip().lower()]
    raise ConfigError(f"{name}={_show(value)} in {source} is not true or false",
                      hint=f"set {name} to true or false")


def _finite(name: str, value: object, source: str) -> float:
    number = math.nan
    if isinstance(value, int | float | str) and not isinstance(value, bool):
        with contextlib.suppress(ValueError, OverflowError):
            number = float(value)
    if not math.isfinite(number):
        raise ConfigError(f"{name}={_show(value)} in {source} is not a finite number",
                          hint=f"set {name} to a number such as {_default(name)}")
    return number


def _whole(name: str, value: object, source: str) -> int:
    """Counts are whole numbers: 2.5 sessions or 1e400 worktrees are refused, not rounded."""
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            pass
    elif isinstance(value, int) and not isinstance(value, bool):
        return value
    elif isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    raise ConfigError(f"{name}={_show(value)} in {source} is not a whole number",
                      hint=f"set {name} to a whole number such as {_default(name)}")


def _text(name: str, value: object, source: str) -> str:
    if not isinstance(value, str) or "\0" in value:
        raise ConfigError(f"{name}={_show(value)} in {source} is not a string" if not isinstance(value, str)
                          else f"{name} in {source} contains a NUL character",
                          hint=f'set {name} to a quoted string, e.g. {name} = "{_default(name)}"')
    if name in _COMMANDS and value:
        try:
            shlex.split(value)
        except ValueError as exc:
            raise ConfigError(f"{name}={_show(value)} in {source} cannot be split into words ({exc})",
                              hint=f"fix the quoting in {name}") from None
    if name == "merge_strategy" and value not in ("merge", "pr"):
        raise ConfigError(f"merge_strategy={_show(value)} in {source} is unknown",
                          hint="set merge_strategy to 'merge' or 'pr'")
    if name == "sandbox" and value not in SANDBOX_MODES:
        raise ConfigError(f"sandbox={_show(value)} in {source} is unknown",
                          hint=f"set sandbox to one of: {', '.join(SANDBOX_MODES)}")
    if name == "desktop_notify" and value not in NOTIFY_MODES:
        raise ConfigError(f"desktop_notify={_show(value)} in {source} is unknown",
                          hint=f"set desktop_notify to one of: {', '.join(NOTIFY_MODES)}")
    if name == "ownership" and value not in OWNERSHIP_MODES:
        raise ConfigError(f"ownership={_show(value)} in {source} is unknown",
                          hint=f"set ownership to one of: {', '.join(OWNERSHIP_MODES)}")
    return value


_LABEL = r"[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?"
_DOMAIN = re.compile(rf"(\*\.)?{_LABEL}(\.{_LABEL})*")


def _domains(name: str, value: object, source: str) -> tuple[str, ...]:
    """A TOML list of domains, or text (the environment) split at commas and spaces; each a
    host name, `*.` allowed in front (`*.example.com`)."""
    items = value.replace(",", " ").split() if isinstance(value, str) else value
    if not isinstance(items, list | tuple) or not all(isinstance(d, str) for d in items):
        raise ConfigError(f"{name}={_show(value)} in {source} is not a list of domains",
                          hint=f'set {name} = ["pypi.org", "registry.npmjs.org"] (or [] for none)')
    bad = next((d for d in items if len(d) > 253 or not _DOMAIN.fullmatch(d)), None)
    if bad is not None:
        raise ConfigError(f"{name} in {source} has {_show(bad)}, which is not a domain name",
                          hint="write host names such as pypi.org or *.example.com, no scheme or path")
    return tuple(items)


_REPR = reprlib.Repr()
_REPR.maxstring = _REPR.maxother = 60


def _show(value: object) -> str:
    """A value as the message quotes it: a 5,000-character string is cut, not printed whole."""
    return _REPR.repr(value)


def _default(name: str) -> object:
    return ParallelConfig.__dataclass_fields__[name].default


def _agent_rules(raw: object, path: Path) -> list[AgentRule]:
    if not isinstance(raw, list):
        raise ConfigError(f"agent_rules in {path} is not a list of tables",
                          hint="write [[agent_rules]] tables with pattern, agent and skill")
    return [_agent_rule(item, f"agent_rules[{i}] in {path}") for i, item in enumerate(raw)]


def _agent_rule(item: object, where: str) -> AgentRule:
    """One [[agent_rules]] table, typed: strings where text is meant, confidence a number in 0..1."""
    shape = "each needs pattern, agent and skill (strings); confidence (0..1) and why are optional"
    if not isinstance(item, dict):
        raise ConfigError(f"{where} is not a table", hint=shape)
    unknown = sorted(set(item) - {*_RULE_TEXT, "confidence"})
    missing = [k for k in ("pattern", "agent", "skill") if k not in item]
    if unknown or missing:
        problem = f"unknown key {_show(unknown[0])}" if unknown else f"no {missing[0]!r}"
        raise ConfigError(f"{where} has {problem}", hint=shape)
    for key in _RULE_TEXT:
        if key in item and (not isinstance(item[key], str) or "\0" in item[key]):
            kind = "contains a NUL character" if isinstance(item[key], str) else "is not a string"
            raise ConfigError(f"{where}: {key}={_show(item[key])} {kind}", hint=shape)
    if any(not stem.strip() for stem in item["pattern"].split("|")) or not item["agent"].strip():
        raise ConfigError(f"{where}: pattern={_show(item['pattern'])} or agent={_show(item['agent'])} "
                          "is empty or has an empty alternative", hint='write stems like "auth|login|jwt"')
    confidence = item.get("confidence", 0.8)
    if isinstance(confidence, bool) or not isinstance(confidence, int | float) \
            or not 0 <= confidence <= 1:  # nan fails both comparisons
        raise ConfigError(f"{where}: confidence={_show(confidence)} is not a number from 0 to 1",
                          hint="set confidence to a number such as 0.8")
    return AgentRule(**{**item, "confidence": float(confidence)})

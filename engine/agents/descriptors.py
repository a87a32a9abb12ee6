"""Agent descriptors: how to start each coding agent, as data.

An agent is an argv template plus how its prompt travels. Each template word is filled
on its own (placeholders become whole argv words, never re-split), and tmux runs
`/bin/sh -c` on the `shlex.join`ed argv. A prompt passed as text is read by the shell
from the prompt file into a single double-quoted word (`"$(cat FILE)"`): the shell does
not re-expand the substituted text, so quotes, `$(...)`, backticks and newlines are inert,
and a 100 KB prompt never has to fit in a tmux command message.
"""

from __future__ import annotations

import os
import shlex
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from engine.agents import aider, codex, gemini
from engine.agents.hooks import guard_mode
from engine.core.config import ParallelConfig
from engine.core.errors import UsageError
from engine.core.kit import LOCAL_KIT, Kit
from engine.core.sandbox import INSTALL_HINT, SandboxPlan, SessionSettings, Shell, plan_sandbox, refusal
from engine.hosts.gitcli import run_git
from engine.hosts.host import LOCAL, Host

PromptVia = Literal["file", "text"]
AGENT_ARGS = "{agent_args}"
"""A template word that stands for several words, built per agent at launch."""
DEMO = "{demo}"
"""The words that start the demo agent from the session's kit (`Kit.demo_argv`)."""
HookSettings = Callable[[SessionSettings], str]
"""`claude.settings.session_settings(input) -> JSON` for `claude --settings`."""


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentSpec:
    name: str
    argv: tuple[str, ...]
    """Template words; `{x}` placeholders; a word starting `?` is dropped if it renders empty."""
    prompt_via: PromptVia
    tees_stream: bool = False
    """Headless: stdout is tee'd to the session's stream file for the result reader."""
    install_hint: str = ""
    prompt_option: str = ""
    """With prompt_via "text": pass the prompt as `OPTION=<text>` instead of after `--`."""


AGENTS: dict[str, AgentSpec] = {
    "claude": AgentSpec(
        name="claude", prompt_via="text",
        argv=("claude", "--permission-mode", "{permission_mode}", "?--agent={specialist}",
              "?--settings={hook_settings}"),
        install_hint="npm install -g @anthropic-ai/claude-code"),
    "claude-headless": AgentSpec(
        name="claude-headless", prompt_via="text", tees_stream=True,
        argv=("claude", "-p", "--output-format", "stream-json", "--verbose",
              "--permission-mode", "{permission_mode}", "?--agent={specialist}",
              "?--settings={hook_settings}"),
        install_hint="npm install -g @anthropic-ai/claude-code"),
    "codex": AgentSpec(
        name="codex", prompt_via="text", argv=("codex", "--no-alt-screen", "--no-daemon", "{agent_args}"),
        install_hint=codex.INSTALL),
    "codex-headless": AgentSpec(
        name="codex-headless", prompt_via="text", tees_stream=True,
        argv=("codex", "exec", "--json", "{agent_args}"), install_hint=codex.INSTALL),
    "gemini": AgentSpec(
        name="gemini", prompt_via="text", prompt_option="--prompt-interactive",
        argv=("gemini", "--approval-mode", "auto_edit", "{agent_args}"), install_hint=gemini.INSTALL),
    "gemini-headless": AgentSpec(
        name="gemini-headless", prompt_via="text", tees_stream=True, prompt_option="--prompt",
        argv=("gemini", "--output-format", "stream-json", "--approval-mode", "yolo", "{agent_args}"),
        install_hint=gemini.INSTALL),
    "aider": AgentSpec(
        name="aider", prompt_via="file", tees_stream=True,
        argv=("aider", "--yes-always", "--no-check-update", "--analytics-disable", "--no-show-model-warnings",
              "--no-pretty", "--no-fancy-input", "--no-gitignore", "--map-tokens", "0", "{agent_args}",
              "--message-file", "{prompt_file}"),
        install_hint=aider.INSTALL),
    "demo": AgentSpec(
        name="demo", prompt_via="file",
        argv=(DEMO, "--prompt-file", "{prompt_file}",
              "--files", "{files}", "--seconds", "{seconds}", "--name", "{name}")),
    "custom": AgentSpec(name="custom", prompt_via="file", argv=()),
}


@dataclass(frozen=True, slots=True, kw_only=True)
class LaunchContext:
    """Everything a template may refer to, for one session."""

    name: str
    worktree: Path
    prompt_file: Path
    files: tuple[str, ...]
    specialist: str
    hook_file: Path
    stream_file: Path
    exit_file: Path
    shell: Shell = "asks"
    """What contains the agent's shell (`check_sandbox` decided it before the run started)."""
    sandbox: str = "on"
    """strict | on | off: how far the agent's own sandbox confines it (codex, gemini)."""
    kit: Kit = LOCAL_KIT
    """Our programs the session runs (hooks, statusline, demo agent) on its host: `LOCAL_KIT`
    here, `engine.agents.kit.ship_kit(host, work_root)` on an SSH host."""
    host: Host = LOCAL
    """Where the session lives: its ownership file is read there to decide the edit guard."""


CLAUDE_AGENTS = frozenset({"claude", "claude-headless"})
CODEX_AGENTS = frozenset({"codex", "codex-headless"})
GEMINI_AGENTS = frozenset({"gemini", "gemini-headless"})
HOOKED_AGENTS = CLAUDE_AGENTS | CODEX_AGENTS | GEMINI_AGENTS
"""Agents whose own hooks report their state and judge their edits before they happen."""


def agent_args(spec: AgentSpec, ctx: LaunchContext, hooks: bool) -> list[str]:
    """The launch-time words of an agent that needs more than one placeholder can hold
    (hooks, trust, sandbox roots): `hooks` is whether status hooks are wired at all."""
    if spec.name in CODEX_AGENTS:
        return codex.launch_args(ctx.worktree, ctx.hook_file, ctx.sandbox, hooks=hooks, kit=ctx.kit,
                                 mode=guard_mode(ctx.hook_file, ctx.host))
    if spec.name in GEMINI_AGENTS:
        return gemini.launch_args(ctx.sandbox)
    if spec.name == "aider":
        return aider.launch_args(ctx.hook_file)
    return []


def agent_env(spec: AgentSpec, ctx: LaunchContext, hooks: bool) -> dict[str, str]:
    """Variables the agent must start with (Gemini reads its hooks from its home's settings)."""
    if spec.name in GEMINI_AGENTS:
        return gemini.launch_env(ctx.worktree, ctx.hook_file, with_hooks=hooks, environ=os.environ,
                                 kit=ctx.kit, mode=guard_mode(ctx.hook_file, ctx.host))
    return {}


def specialist_for(spec: AgentSpec, matched: str, worktree: Path, home: Path) -> str:
    """The matched specialist, when Claude Code can find its agent file (else no --agent).

    `install-claude` writes `.claude/agents/<name>.md`; a session launched `--agent` with a
    name Claude does not know would run without the specialist's prompt, so we only pass
    names whose file is in the worktree or the user's own `~/.claude/agents`.
    """
    if spec.name not in CLAUDE_AGENTS or not matched:
        return ""
    for folder in (worktree / ".claude" / "agents", home / ".claude" / "agents"):
        if (folder / f"{matched}.md").is_file():
            return matched
    return ""


def skill_command(spec_name: str, skill: str, repo: Path, home: Path) -> bool:
    """Whether a Claude Code session can invoke `skill` as a command: `/sc:implement` is
    `.claude/commands/sc/implement.md` (seen on 2.1.197), committed in the repo (so every
    worktree has it) or in the user's `~/.claude/commands`."""
    name = skill.split(maxsplit=1)[0].lstrip("/") if skill.strip().startswith("/") else ""
    if spec_name not in CLAUDE_AGENTS or not name or any(p in ("", ".", "..") for p in name.split(":")):
        return False
    *folders, leaf = name.split(":")
    relative = Path(".claude", "commands", *folders, f"{leaf}.md")
    if (home / relative).is_file():
        return True
    return (repo / relative).is_file() and \
        run_git(repo, "cat-file", "-e", f"HEAD:{relative.as_posix()}").returncode == 0


def agent_spec(name: str, config: ParallelConfig) -> AgentSpec:
    if name == "custom":
        if not config.custom_agent_command:
            raise UsageError("agent 'custom' has no command",
                             hint="set custom_agent_command = \"mytool {prompt_file}\" in .parallel-tui.toml")
        words = tuple(shlex.split(config.custom_agent_command))
        return AgentSpec(name="custom", prompt_via="file", argv=words)
    if name not in AGENTS:
        raise UsageError(f"unknown agent {name!r}", hint=f"use one of: {', '.join(AGENTS)}")
    return AGENTS[name]


def check_runnable(spec: AgentSpec, repo: Path, sandbox: str = "on") -> None:
    """Everything about the agent that can be refused before anything is created: its program,
    and for Gemini the repo's trust and (under `strict`) a container runtime for its sandbox.
    `sandbox` is the config's sandbox mode (strict | on | off)."""
    check_installed(spec)
    if spec.name in GEMINI_AGENTS:
        gemini.check(repo, sandbox, os.environ)


def installed(spec: AgentSpec) -> bool:
    """Whether the agent's program is on PATH (the picker marks the ones that are not)."""
    program = spec.argv[0] if spec.argv else ""
    return not program or program.startswith("{") or shutil.which(program) is not None


OFFERED = ("claude", "claude-headless", "codex", "codex-headless", "gemini", "gemini-headless", "demo")
"""The agents the picker offers, in its order (`custom` needs a command in the config). aider is
not offered: on 0.86.2 it ran end to end here but did not always exit after its commit (see
README, Agents); `--agent aider` still starts it for those who re-verify it."""


def offered() -> list[tuple[str, bool]]:
    """Each offered agent and whether its program is installed (on PATH)."""
    return [(name, installed(AGENTS[name])) for name in OFFERED]


def check_installed(spec: AgentSpec) -> None:
    """Fail before anything is created when the agent's program is missing, naming the install
    command and the agents that are installed."""
    if installed(spec):
        return
    program = spec.argv[0]
    ready = ", ".join(name for name, ok in offered() if ok)
    hint = f"install it ({spec.install_hint})" if spec.install_hint else "install it"
    raise UsageError(f"agent {spec.name!r} needs `{program}`, which is not on PATH",
                     hint=f"{hint}, or pick an installed agent: {ready}")


def check_sandbox(spec: AgentSpec, config: ParallelConfig) -> SandboxPlan:
    """The sandbox `spec`'s sessions get; raise when `sandbox = "strict"` cannot have it, before
    anything is created."""
    plan = plan_sandbox(config.sandbox, spec.name)
    if why := refusal(plan):
        hint = (f"install them ({INSTALL_HINT}), or set sandbox = \"on\" to run without it"
                if plan.shell == "limited" else "use --agent claude, or set sandbox = \"on\"")
        raise UsageError(why, hint=hint)
    return plan


def settings_input(ctx: LaunchContext, config: ParallelConfig) -> SessionSettings:
    return SessionSettings(status_file=ctx.hook_file, shell=ctx.shell,
                           allowed_domains=config.sandbox_allowed_domains, test_command=config.test_command,
                           kit=ctx.kit, ownership_mode=guard_mode(ctx.hook_file, ctx.host))


def build_argv(spec: AgentSpec, ctx: LaunchContext, config: ParallelConfig,
               hook_settings: HookSettings | None) -> list[str]:
    values = {
        "python": ctx.kit.python, "prompt_file": str(ctx.prompt_file), "worktree": str(ctx.worktree),
        "name": ctx.name, "files": ",".join(ctx.files), "seconds": repr(config.demo_seconds),
        "permission_mode": config.permission_mode, "specialist": ctx.specialist,
        "hook_settings": hook_settings(settings_input(ctx, config)) if hook_settings else "",
    }
    out = []
    hooks = hook_settings is not None
    env = agent_env(spec, ctx, hooks)
    if env:
        out += ["env", *(f"{key}={value}" for key, value in env.items())]
    for word in spec.argv:
        if word == AGENT_ARGS:
            out += agent_args(spec, ctx, hooks)
            continue
        if word == DEMO:
            out += ctx.kit.demo_argv()
            continue
        optional = word.startswith("?")
        rendered, empty = _fill(word[1:] if optional else word, values)
        if not (optional and empty):
            out.append(rendered)
    return out


def _fill(word: str, values: dict[str, str]) -> tuple[str, bool]:
    """Replace `{key}` placeholders in one template word; report if any value was empty."""
    empty = False
    for key, value in values.items():
        token = "{" + key + "}"
        if token in word:
            empty = empty or not value
            word = word.replace(token, value)
    return word, empty


def window_argv(spec: AgentSpec, argv: list[str], ctx: LaunchContext) -> list[str]:
    """What tmux runs: `/bin/sh -c` on a shlex-quoted script (POSIX sh whatever the user's
    tmux `default-shell`), which also writes the agent's exit status to `exit_file`:
    tmux 3.3a loses `pane_dead_status` when several panes exit at the same moment."""
    command = shlex.join(argv)
    if spec.prompt_via == "text" and spec.prompt_option:
        # one `--prompt=TEXT` word: a prompt that starts with `-` stays the option's value
        command += f' "{spec.prompt_option}=$(cat {shlex.quote(str(ctx.prompt_file))})"'
    elif spec.prompt_via == "text":
        # `--` first: a prompt that starts with `-` must stay the prompt, not become an option
        command += f' -- "$(cat {shlex.quote(str(ctx.prompt_file))})"'
    exit_file = shlex.quote(str(ctx.exit_file))
    if spec.tees_stream:
        stream = shlex.quote(str(ctx.stream_file))
        return ["/bin/sh", "-c", f"{{ {command}; echo $? > {exit_file}; }} | tee {stream}; "
                                 f"exit \"$(cat {exit_file})\""]
    return ["/bin/sh", "-c", f"{command}; s=$?; echo $s > {exit_file}; exit $s"]

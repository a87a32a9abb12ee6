"""The prompt each agent gets: the whole task, its part of it, the other parts, its files, the
repo's conventions, how to verify, and the run's rules.

Written to a file in the state dir and handed to the agent by path (or read by the shell
into one argv word), never pasted into a command line, so any text a person or a model
wrote reaches the agent byte-for-byte and runs nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from engine.core.config import ENV_PREFIX, writable_dir
from engine.core.errors import StateError
from engine.hosts.registry import LOCAL_NAME

if TYPE_CHECKING:  # `status` reads a prompt's skill line (`skill_use`) without the models
    from engine.core.models import Conventions, Subtask
    from engine.hosts.host import Host

SKILL_WORDS = "Work the way the skill {skill} would: {intent}."
"""The line that states a skill's intent when the agent cannot invoke it as a command."""


def _conventions() -> Conventions:
    from engine.core.models import Conventions  # noqa: PLC0415 - see the TYPE_CHECKING import

    return Conventions()


def skill_intent(skill: str) -> str:
    """A skill in words: `/sc:implement --focus security` → `implement, with a focus on security`."""
    words = skill.split()
    verb = words[0].lstrip("/").rsplit(":", 1)[-1].replace("-", " ").replace("_", " ") if words else ""
    extras, rest = [], words[1:]
    while rest:
        flag = rest.pop(0)
        value = rest.pop(0) if rest and not rest[0].startswith("--") else ""
        name = flag.lstrip("-").replace("-", " ")
        extras.append(f"with a {name} on {value}" if value and name == "focus" else f"{name} {value}".strip())
    return ", ".join([verb, *extras]) if verb else skill


@dataclass(frozen=True, slots=True, kw_only=True)
class Brief:
    """What every session of one run hears alike: the person's whole task, the repo's conventions
    and how to verify. Without it an agent sees only its slice, and requirements that no slice
    names (a security rule, "do not break the public API") are lost."""

    task: str = ""
    conventions: Conventions = field(default_factory=_conventions)
    test_command: str = ""
    """The configured test command; the conventions' one when empty."""


ONE_LINE = 120
"""How much of another session's description its line shows."""


def prompt_text(subtask: Subtask, others: list[Subtask], brief: Brief,
                invoke_skill: bool = False, *, waves: bool = False) -> str:
    """The whole task verbatim, this session's part, the other sessions' parts, its files, the
    conventions, how to verify, and the run's rules. With a matched skill, the prompt starts
    with it as a command when the agent has that command (`invoke_skill`, Claude Code: the rest
    of the prompt becomes its arguments), or else says its intent in words. With `waves` (a
    supervised run starts a dependent only once what it builds on is complete and merged into
    its base) the prompt says so."""
    skill = subtask.agent.skill.strip() if subtask.agent else ""
    parts = [*([skill] if skill and invoke_skill else []), *_task_parts(subtask, brief.task)]
    if skill and not invoke_skill:
        parts.append(SKILL_WORDS.format(skill=skill, intent=skill_intent(skill)))
    parts += _file_parts(subtask, others)
    if subtask.depends_on:
        state = ("already done and merged into this branch's base: build on their work"
                 if waves else "being done in parallel")
        parts.append("This builds on: " + ", ".join(subtask.depends_on) + f" ({state}; do not redo them).")
    parts += _convention_parts(brief)
    parts.append("Rules of this run:\n"
                 "- Do your part only: the other parts are being done at the same time.\n"
                 "- Change only the files you own; if your part needs a change elsewhere, say so "
                 "in your final message instead of making it.\n"
                 "- Commit your work on this branch when it is done.")
    return "\n\n".join(parts) + "\n"


def _task_parts(subtask: Subtask, task: str) -> list[str]:
    """The task as the person wrote it, then this session's part of it (once, when they are the same)."""
    whole, part = task.strip(), subtask.description.strip()
    if not whole:
        return [subtask.description]
    if part.startswith(whole):  # one session, or the quick form's "<task>\n\nYour part: <name>"
        part = part[len(whole):].strip().removeprefix("Your part:").strip()
    head = f"The whole task (every session of this run shares it; yours is one part):\n{task}"
    return [head, f"Your part ({subtask.name}):\n{part or 'all of the task.'}"]


def _file_parts(subtask: Subtask, others: list[Subtask]) -> list[str]:
    owned = subtask.files()
    parts = []
    if owned:
        parts.append("Files you own (change only these):\n" + "\n".join(f"- {f}" for f in owned))
    if others:
        parts.append("The other sessions, working at the same time in their own worktrees "
                     "(do not do their parts or touch their files):\n"
                     + "\n".join(_other_line(o, set(owned)) for o in others))
    return parts


def _other_line(other: Subtask, owned: set[str]) -> str:
    words = " ".join(other.description.split())
    line = words if len(words) <= ONE_LINE else words[:ONE_LINE - 1].rstrip() + "…"
    files = [f for f in other.files() if f not in owned]
    return f"- {other.name}: {line}" + (f" (owns {', '.join(files)})" if files else "")


def _convention_parts(brief: Brief) -> list[str]:
    found = brief.conventions
    rows = [(label, value) for label, value in (("tests", found.tests), ("docs", found.docs),
                                                ("changelog", found.changelog)) if value.strip()]
    parts = []
    if rows:
        parts.append("This repo's conventions (every session follows them):\n"
                     + "\n".join(f"- {label}: {value}" for label, value in rows))
    command = brief.test_command.strip() or found.test_command.strip()
    if command:
        parts.append(f"How to verify: run the tests with `{command}` and make them pass before you commit.")
    return parts


def write_prompt(path: Path, text: str, *, host: Host) -> Path:
    """Write the prompt as UTF-8 bytes, exactly (no newline translation), on the host the
    session lives on; a run folder that cannot be written is one line."""
    try:
        host.write_bytes(path, text.encode("utf-8", "surrogateescape"))
    except OSError as exc:
        if host.name == LOCAL_NAME:  # the state folder here: name what is in the way, as for the others
            writable_dir(path.parent, "run folder")
        raise StateError(f"the run folder {path.parent} cannot be written ({exc.strerror or exc})",
                         hint=f"make it writable, or set {ENV_PREFIX}HOME to a writable folder") from None
    return path


def skill_use(prompt: str) -> tuple[str, str]:
    """Which skill the prompt carries and how: (`/sc:x …`, `invoked` | `described`), or ("", "")."""
    first = prompt.split("\n", 1)[0].strip()
    if first.startswith("/"):
        return first, "invoked"
    head, rest = SKILL_WORDS.split("{skill}", 1)
    tail = rest.split("{intent}", 1)[0]
    for line in prompt.splitlines():
        if line.startswith(head) and tail in line:
            return line[len(head):line.index(tail)], "described"
    return "", ""

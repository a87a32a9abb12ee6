"""The prompt each agent gets: its subtask, its files, its boundaries, how to test.

Written to a file in the state dir and handed to the agent by path (or read by the shell
into one argv word), never pasted into a command line, so any text a person or a model
wrote reaches the agent byte-for-byte and runs nothing.
"""

from __future__ import annotations

from pathlib import Path

from engine.core.config import writable_dir
from engine.core.models import Subtask

SKILL_WORDS = "Work the way the skill {skill} would: {intent}."
"""The line that states a skill's intent when the agent cannot invoke it as a command."""


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


def prompt_text(subtask: Subtask, others: list[Subtask], test_command: str,
                invoke_skill: bool = False, *, waves: bool = False) -> str:
    """The subtask's description verbatim, then the rules of the parallel run. With a matched
    skill, the prompt starts with it as a command when the agent has that command
    (`invoke_skill`, Claude Code: the rest of the prompt becomes its arguments), or else says
    its intent in words. With `waves` (a supervised run starts a dependent only once what it
    builds on is complete and merged into its base) the prompt says so."""
    owned = subtask.files()
    forbidden = sorted({f for o in others for f in o.files()} - set(owned))
    skill = subtask.agent.skill.strip() if subtask.agent else ""
    parts = [subtask.description]
    if skill and invoke_skill:
        parts.insert(0, skill)
    elif skill:
        parts.append(SKILL_WORDS.format(skill=skill, intent=skill_intent(skill)))
    if owned:
        parts.append("Files you own (change only these):\n" + "\n".join(f"- {f}" for f in owned))
    if forbidden:
        parts.append("Files other parallel sessions own (do not touch):\n"
                     + "\n".join(f"- {f}" for f in forbidden))
    if subtask.depends_on:
        state = ("already done and merged into this branch's base: build on their work"
                 if waves else "being done in parallel")
        parts.append("This builds on: " + ", ".join(subtask.depends_on) + f" ({state}; do not redo them).")
    if test_command:
        parts.append(f"Run the tests with: {test_command}")
    parts.append("Commit your work on this branch when it is done.")
    return "\n\n".join(parts) + "\n"


def write_prompt(path: Path, text: str) -> Path:
    """Write the prompt as UTF-8 bytes, exactly (no newline translation)."""
    writable_dir(path.parent, "run folder")  # in the state directory: a fault there is one line
    path.write_bytes(text.encode("utf-8", "surrogateescape"))
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

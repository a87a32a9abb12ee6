"""The prompt each agent gets: its subtask, its files, its boundaries, how to test.

Written to a file in the state dir and handed to the agent by path (or read by the shell
into one argv word), never pasted into a command line, so any text a person or a model
wrote reaches the agent byte-for-byte and runs nothing.
"""

from __future__ import annotations

from pathlib import Path

from engine.core.config import writable_dir
from engine.core.models import Subtask


def prompt_text(subtask: Subtask, others: list[Subtask], test_command: str) -> str:
    """The subtask's description verbatim, then the rules of the parallel run."""
    owned = subtask.files()
    forbidden = sorted({f for o in others for f in o.files()} - set(owned))
    parts = [subtask.description]
    if owned:
        parts.append("Files you own (change only these):\n" + "\n".join(f"- {f}" for f in owned))
    if forbidden:
        parts.append("Files other parallel sessions own (do not touch):\n"
                     + "\n".join(f"- {f}" for f in forbidden))
    if subtask.depends_on:
        parts.append("This builds on: " + ", ".join(subtask.depends_on)
                     + " (being done in parallel; do not redo them).")
    if test_command:
        parts.append(f"Run the tests with: {test_command}")
    parts.append("Commit your work on this branch when it is done.")
    return "\n\n".join(parts) + "\n"


def write_prompt(path: Path, text: str) -> Path:
    """Write the prompt as UTF-8 bytes, exactly (no newline translation)."""
    writable_dir(path.parent, "run folder")  # in the state directory: a fault there is one line
    path.write_bytes(text.encode("utf-8", "surrogateescape"))
    return path

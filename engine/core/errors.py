"""Domain errors with a fix hint, and the exit codes they map to.

Every failure a user can cause must end in one line that names the problem and the fix,
so each error carries both, and the CLI prints `error: <problem> — <hint>` and exits with
the error's own code. Scripts can branch on the code without parsing text.
"""

from __future__ import annotations

from enum import IntEnum

TYPE_CHECKING = False  # typing costs the cached `analyze --json` ~2 ms; only mypy needs it here
if TYPE_CHECKING:
    from typing import ClassVar


class ExitCode(IntEnum):
    """Process exit codes, one per family of failure."""

    OK = 0
    FAILURE = 1
    USAGE = 2
    GIT = 3
    TMUX = 4
    API = 5
    CONFLICT = 6
    PLAN = 7
    CONFIG = 8
    STATE = 9
    INTERNAL = 70
    """A bug: an exception nobody expected (sysexits' EX_SOFTWARE); a crash log holds the traceback."""
    INTERRUPTED = 130


class EngineError(Exception):
    """A failure the user can act on: a one-line problem plus a hint naming the fix."""

    exit_code: ClassVar[ExitCode] = ExitCode.FAILURE

    def __init__(self, problem: str, *, hint: str) -> None:
        super().__init__(f"{problem} — {hint}")
        self.problem = problem
        self.hint = hint

    def one_line(self) -> str:
        """The message as printed: newlines folded so it stays one line."""
        return " ".join(f"error: {self.problem} — {self.hint}".split())


class UsageError(EngineError):
    """Bad flags or arguments."""

    exit_code = ExitCode.USAGE


class GitError(EngineError):
    """The repository is missing, empty, or git refused an operation."""

    exit_code = ExitCode.GIT


class TmuxError(EngineError):
    """tmux is missing or refused to create or find a window."""

    exit_code = ExitCode.TMUX


class ApiError(EngineError):
    """The Anthropic API could not produce a usable plan."""

    exit_code = ExitCode.API


class PlanError(EngineError):
    """A plan is malformed, unsafe (paths outside the repo) or cyclic."""

    exit_code = ExitCode.PLAN


class ConflictError(EngineError):
    """Subtasks or branches touch the same files."""

    exit_code = ExitCode.CONFLICT


class ConfigError(EngineError):
    """A config file or environment variable has a bad value."""

    exit_code = ExitCode.CONFIG


class StateError(EngineError):
    """The state directory (journal, locks, caches) cannot be created, written or read."""

    exit_code = ExitCode.STATE

"""A session's kit: our own small programs it runs besides its agent, and the python that runs them.

Every session runs a few programs of ours: the status hook, the ownership hook, Claude Code's
statusline writer and the demo agent. They use the standard library only, so they run wherever
there is a python3. On this machine they are this checkout's files run by this interpreter
(`LOCAL_KIT`, what sessions always ran); on an SSH host they are a copy under its work root
(`engine.agents.kit.ship_kit`) run by the host's own python3. The copy keeps the checkout's
layout (`engine/agents/...`), so a tool finds its siblings the same way in both places.

A Kit's paths are the host's: plain POSIX strings, never `.resolve()`d here (that would ask
this machine's disk about a path on another one).
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path, PurePath, PurePosixPath

HOOK_WRITER = "engine/agents/hook_writer.py"
OWNERSHIP_HOOK = "engine/agents/ownership_hook.py"
OWNERSHIP_RULE = "engine/core/ownership.py"
"""The rule the ownership hook imports (`engine.core.ownership`): shipped beside it."""
STATUSLINE_WRITER = "engine/claude/statusline_writer.py"
DEMO_AGENT = "engine/agents/demo.py"
TOOLS = (HOOK_WRITER, OWNERSHIP_HOOK, OWNERSHIP_RULE, STATUSLINE_WRITER, DEMO_AGENT)
"""Every file a kit holds (besides empty `__init__.py`s), relative to its root."""
MIN_PYTHON = (3, 9)
"""The oldest python3 a shipped kit runs on (checked when it is shipped)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Places:
    """Where the kit's user lives on its host: what an ownership file protects (the home's
    dotfiles) and allows (the temp dir, Claude Code's `/tmp/claude-<uid>`)."""

    home: str
    temp_dir: str
    uid: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Kit:
    """Where a session's tools are on its host, and the interpreter that runs them there."""

    python: str
    """The interpreter on the host (an absolute path where it could be found)."""
    root: str
    """The folder holding `engine/agents/hook_writer.py` and the other TOOLS, on the host."""
    local: bool = False
    """This checkout on this machine (`LOCAL_KIT`): paths may be resolved here, and the demo
    agent starts as the module it always started as."""
    facts: Places | None = None
    """The host's, noted when the kit was shipped; None: this machine's, asked when needed
    (a test's HOME is its own)."""

    def tool(self, relative: str) -> str:
        """One of TOOLS, as a path on the host."""
        return str(PurePosixPath(self.root, relative))

    @property
    def hook_writer(self) -> str:
        return self.tool(HOOK_WRITER)

    @property
    def ownership_hook(self) -> str:
        return self.tool(OWNERSHIP_HOOK)

    @property
    def statusline_writer(self) -> str:
        return self.tool(STATUSLINE_WRITER)

    def demo_argv(self) -> list[str]:
        """The demo agent's first words. A shipped kit runs it as a file under `-I`: python 3.9
        has no `-P`, and neither the worktree nor PYTHON* variables can shadow what it imports."""
        if self.local:
            return [self.python, "-P", "-m", "engine.agents.demo"]
        return [self.python, "-I", self.tool(DEMO_AGENT)]

    def places(self) -> Places:
        if self.facts is not None:
            return self.facts
        import tempfile  # noqa: PLC0415 - tempfile imports random: only a launch needs the temp dir

        return Places(home=str(Path.home()), temp_dir=tempfile.gettempdir(), uid=os.getuid())

    def path(self, path: PurePath | str) -> str:
        """A session's file (hook, ownership, usage) as its command line names it: resolved on
        this machine for the local kit, as given (it is the host's) for a shipped one."""
        if self.local:
            return str(Path(path).resolve())
        return str(PurePosixPath(path))


def local_kit() -> Kit:
    """This interpreter and this checkout (or installed package): what sessions here run."""
    return Kit(python=sys.executable, root=str(Path(__file__).resolve().parents[2]), local=True)


LOCAL_KIT = local_kit()

"""The headless path never loads Textual, Rich or the TUI (a runtime proof; lint-imports is static)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.conftest import RepoFactory
from tests.merge_helpers import BASE, branch, edit_line

ROOT = Path(__file__).resolve().parent.parent


def loaded_after(code: str) -> set[str]:
    probe = f"{code}\nimport sys\nprint('\\n'.join(sorted(sys.modules)))"
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          check=True, cwd=ROOT)
    return set(proc.stdout.split())


def test_engine_cli_never_imports_textual_rich_or_anthropic() -> None:
    mods = loaded_after("import engine.cli.main, engine.planning.pipeline, engine.planning.chart")
    assert not {m for m in mods if m.split(".")[0] in ("textual", "rich", "tui", "anthropic")}


def test_a_verb_through_the_console_entry_stays_headless(tmp_path: Path) -> None:
    code = ("import tui.entry\n"
            "tui.entry.main(['table', '--minutes', '45', '--no-repo', '--json'])")
    mods = loaded_after(code)
    assert "engine.planning.overhead" in mods
    assert not {m for m in mods if m.split(".")[0] in ("textual", "rich", "anthropic")}


CHECK_NEEDS_NONE_OF = (
    "engine.core.events", "engine.core.models", "engine.run.fold", "engine.run.recorder",
    "engine.merge.flow", "engine.merge.apply", "engine.merge.verify", "engine.merge.prs",
    "engine.run.cleanup", "engine.hosts.tmux_sessions", "engine.planning", "engine.analysis",
    "engine.cli.run_common", "concurrent", "logging", "asyncio", "git", "libtmux",
    "engine.hosts.grouped", "tempfile", "secrets", "hmac", "random",
    "engine.hosts.worktrees", "engine.hosts.inflight", "engine.core.faults", "engine.core.sandbox",
    "engine.core.kit", "engine.core.ownership", "engine.run.boundary", "engine.run.branch_guard",
)
"""What `check` used to load and does not use: the event and model catalogues (dozens of
dataclasses), merging, verifying, PRs, cleanup, the planner, a thread pool's logging, what
makes worktrees and runs commands in them (temp files, random names), the sandbox and kit
the config once loaded for two constants, and the ownership rules that only a run's
branches (named without a run: none) are judged by."""


def test_check_json_loads_only_what_checking_uses(repo_factory: RepoFactory) -> None:
    repo = repo_factory(BASE)
    branch(repo, "a", {"app.py": edit_line(3, "a's line")})
    branch(repo, "b", {"app.py": edit_line(3, "b's line"), "docs/guide.md": "# b\n"})
    code = ("import sys\nfrom engine.cli.main import main\n"
            f"code = main(['check', '--repo', {str(repo)!r}, '--json', '--into', 'main', 'a', 'b'])\n"
            "assert code == 6, code  # a and b conflict: the check ran to its end")
    mods = loaded_after(code)
    assert "engine.merge.check" in mods
    assert not sorted(m for m in mods if any(m == h or m.startswith(h + ".") for h in CHECK_NEEDS_NONE_OF))

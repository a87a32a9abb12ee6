"""The headless path never loads Textual, Rich or the TUI (a runtime proof; lint-imports is static)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

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

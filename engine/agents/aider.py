"""How parallel-tui starts aider (`aider-chat`, checked on 0.86.2).

aider has no hooks and no machine-readable output. It runs one turn from the prompt file
(`--message-file`), edits, commits by itself (its own commit message, asked of the model) and
exits, so its status is its exit status (and the pane, for a `(Y)es/(N)o` question), its
ownership is the boundary watch's (after the fact), and its tokens and cost are read from its
text: `Tokens: 2.3k sent, 120 received. Cost: $0.01 message, $0.02 session.`.

Its model, key and API base come from the user's own aider settings (`.aider.conf.yml`,
`AIDER_*` and the provider's variables); what is added here keeps the worktree clean: no
`.gitignore` edit, no repo map cache, the chat and input histories next to the session's
hook file instead of in the worktree.
"""

from __future__ import annotations

import re
from pathlib import Path

VERSION = "0.86.2"
INSTALL = f"pipx install aider-chat=={VERSION}  (or `make aider-cli` in this repo)"
_TOKENS = re.compile(r"Tokens: ([\d.]+)(k?) sent, ([\d.]+)(k?) received\.(?: Cost: \$([\d.]+) message)?")


def launch_args(hook_file: Path) -> list[str]:
    stem = hook_file.name.removesuffix(".hook.jsonl")
    return ["--chat-history-file", str(hook_file.with_name(f"{stem}.aider-chat.md")),
            "--input-history-file", str(hook_file.with_name(f"{stem}.aider-input"))]


def _count(number: str, kilo: str) -> int:
    return round(float(number) * (1000 if kilo else 1))


def usage(text: str) -> tuple[int, float | None] | None:
    """Tokens (sent plus received, over every message) and the dollar cost aider printed; None
    when it printed no usage line. aider rounds above 1,000 (`2.3k`), so tokens are approximate."""
    found = list(_TOKENS.finditer(text))
    if not found:
        return None
    tokens = sum(_count(m[1], m[2]) + _count(m[3], m[4]) for m in found)
    costs = [float(m[5]) for m in found if m[5]]
    return tokens, (sum(costs) if costs else None)

"""The built-in demo agent: edits its files over a few seconds, then commits.

It lets the whole run flow (worktrees, tmux, status, cleanup) work with no API key and no
agent CLI. Run as `python -P -m engine.agents.demo --prompt-file F --files a,b --seconds S`, or
on an SSH host as `python3 -I <kit>/engine/agents/demo.py ...` (`Kit.demo_argv`): standard
library only, python 3.9+.
With no files it writes the prompt it received, byte-for-byte, to `demo/<name>.md`, so
tests can prove hostile text arrived intact. A prompt with a line `demo:fail` (in its part:
the prompt opens with the whole task) makes it exit 3 without committing (to exercise the
`failed` state); a line `demo:stray PATH` makes it also edit PATH, outside its list, before its own files (to
exercise the boundary watch, which can then stop it while it is still at work); a line
`demo:ask QUESTION` makes it print the question and wait for one line on stdin before it edits
(to exercise needs_input, `send` and the dashboard's bell for real). The question stays the
last line of its screen until answered (the typed answer follows it on that line), and status
recognises it there as it recognises other agents' prompts (`engine.agents.pane_patterns`).
Started in a worktree that is in the middle of a merge (`merge --resolve`), it resolves every
conflicted file by keeping both sides, in order, and commits the merge.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

ASK_MARKER = "demo agent asks (type a line and press Enter):"
"""Its screen's last line while it waits: the demo pane pattern matches it there."""
_IDENTITY = ["-c", "user.name=parallel-tui demo", "-c", "user.email=demo@parallel-tui.invalid",
             "-c", "commit.gpgsign=false"]


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    prompt = Path(args.prompt_file).read_bytes()
    files = [f for f in args.files.split(",") if f]
    say(f"demo agent {args.name}: {len(prompt)} bytes of prompt, {len(files) or 'no'} files")
    if _merging():
        return _resolve(args.name)
    if b"demo:fail" in (line.strip() for line in prompt.splitlines()):
        say("demo agent: asked to fail")
        return 3
    for question in _directives(prompt, b"demo:ask "):
        _ask(question)
    strays = [s for s in _directives(prompt, b"demo:stray ") if _inside_here(s)]
    targets = strays + (files or [f"demo/{args.name}.md"])  # stray first: caught mid-run
    step = args.seconds / max(len(targets), 1)
    for target in targets:
        time.sleep(step)
        _edit(Path(target), args.name, prompt if not files else None)
        say(f"edited {target}")
    subprocess.run(["git", *_IDENTITY, "add", "--", *targets], check=True)
    # --allow-empty: a rerun (`run --reuse`) may write what is already there; it still reports
    subprocess.run(["git", *_IDENTITY, "commit", "-q", "--allow-empty", "-m", f"demo: {args.name}"],
                   check=True)
    say(f"demo agent {args.name}: committed {len(targets)} file(s)")
    return 0


def _directives(prompt: bytes, prefix: bytes) -> list[str]:
    return [line[len(prefix):].strip().decode(errors="replace") for line in prompt.splitlines()
            if line.startswith(prefix)]


def _inside_here(stray: str) -> bool:
    """A stray stays inside the worktree it runs in (a path that leaves it, absolute, `..` or
    through a symlink, or into `.git`, is skipped and said): the demo shows the boundary
    watch, it never writes where a test or a user did not ask it to."""
    here = Path.cwd().resolve()
    target = (here / stray).resolve()
    inside = target != here and target.is_relative_to(here) and ".git" not in target.relative_to(here).parts
    if not inside:
        say(f"demo agent: stray {stray!r} is outside this worktree: skipped")
    return inside


def _ask(question: str) -> str:
    """Print the question (no newline: the answer is typed after it) and block for a line."""
    print(f"{ASK_MARKER} {question} ", end="", flush=True)  # noqa: T201 - the pane is its output
    answer = sys.stdin.readline().strip()
    say(f"demo agent: got the answer {answer!r}")
    return answer


def _merging() -> bool:
    return subprocess.run(["git", "rev-parse", "-q", "--verify", "MERGE_HEAD"],
                          capture_output=True, check=False).returncode == 0


def _resolve(name: str) -> int:
    """Keep both sides of every conflict (ours first), then commit the merge."""
    out = subprocess.run(["git", "diff", "--name-only", "-z", "--diff-filter=U"], capture_output=True,
                         check=True).stdout.decode()
    conflicted = [f for f in out.split("\0") if f]
    for path in conflicted:
        text = Path(path).read_text(encoding="utf-8", errors="surrogateescape")
        kept = [ln for ln in text.splitlines(keepends=True)
                if not ln.startswith(("<<<<<<< ", "=======", ">>>>>>> ", "||||||| "))]
        Path(path).write_text("".join(kept), encoding="utf-8", errors="surrogateescape")
        say(f"resolved {path} (both sides kept)")
    subprocess.run(["git", *_IDENTITY, "add", "--", *conflicted], check=True)
    subprocess.run(["git", *_IDENTITY, "commit", "-q", "--no-edit"], check=True)
    say(f"demo agent {name}: merge committed ({len(conflicted)} file(s) resolved)")
    return 0


def _edit(path: Path, name: str, prompt: bytes | None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if prompt is not None:
        path.write_bytes(prompt)
        return
    with path.open("ab") as handle:
        handle.write(f"\n# edited by the parallel-tui demo agent ({name})\n".encode())


def say(line: str) -> None:
    print(line, flush=True)  # noqa: T201 - the pane is this agent's output


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="engine.agents.demo")
    p.add_argument("--prompt-file", required=True)
    p.add_argument("--files", default="")
    p.add_argument("--seconds", type=float, default=3.0)
    p.add_argument("--name", default="demo")
    return p


if __name__ == "__main__":
    sys.exit(main())

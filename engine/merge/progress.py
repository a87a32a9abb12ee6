"""One line per merge or verify stage, for every face that streams a merge (the CLI, the app).

The words live here, next to the merge that emits the events, so `merge` on a terminal and
the app's merge review say the same thing about the same stage.
"""

from __future__ import annotations

from engine.core import events as rev

MERGE_PROGRESS = (rev.MergeStepStarted, rev.MergeStepFinished, rev.VerifyStarted, rev.VerifyFinished,
                  rev.VerifyBlamed)


def progress_line(event: rev.MergeProgress) -> str:
    match event:
        case rev.MergeStepStarted():
            return f"… merging {event.branch} into {event.target} ({event.index}/{event.total})"
        case rev.MergeStepFinished() if event.commit:
            return (f"✓ merged {event.branch} ({event.index}/{event.total}) as {event.commit[:10]} "
                    f"in {event.seconds:.2f}s")
        case rev.MergeStepFinished():
            return f"✗ {event.branch} conflicts ({event.index}/{event.total}): {', '.join(event.files)}"
        case rev.VerifyStarted():
            return f"… {'bisecting: ' if event.bisect else ''}verify `{event.command}` {_upto(event.upto)}"
        case rev.VerifyFinished():
            how = "passed" if event.ok else f"failed (exit {event.exit_code})"
            last = event.tail.splitlines()[-1:] if not event.ok else []
            return (f"{'✓' if event.ok else '✗'} verify {how} {_upto(event.upto)} in {event.seconds:.1f}s"
                    + (f": {last[0]}" if last else ""))
        case rev.VerifyBlamed():
            who = (f"adding {event.branch} breaks it" if event.branch
                   else "the target fails it before any merge")
            return f"✗ verify `{event.command}` failed: {who}"


def _upto(branch: str) -> str:
    return f"on the merge up to {branch}" if branch else "on the target before any merge"

"""What the run verbs share: confirmation, run-event progress lines, the journal."""

from __future__ import annotations

import argparse
import json
import sys

from engine.core import events as rev
from engine.core.errors import UsageError
from engine.core.jsonio import to_jsonable
from engine.merge.progress import MERGE_PROGRESS, progress_line


def confirm(question: str, *, yes: bool) -> bool:
    """Ask on a terminal; without one, demand --yes rather than guess."""
    if yes:
        return True
    if not sys.stdin.isatty():
        raise UsageError("this would change worktrees, branches or tmux windows and stdin is not a terminal",
                         hint="pass --yes to go ahead without a prompt")
    answer = input(f"{question} [y/N] ").strip().lower()
    return answer in ("y", "yes")


def add_jsonl_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--jsonl", action="store_true",
                        help="print every event as one JSON line on stdout, as it happens (and nothing else)")


def progress(args: argparse.Namespace) -> rev.Emit:
    """Run-event progress lines on stderr; silent with --json when stderr is not a terminal;
    with --jsonl, each event as one JSON line on stdout (the journal's own shape).
    The planner's stages are `plan`'s to show, not the run verbs'."""
    if getattr(args, "jsonl", False):
        return _json_line
    if args.json and not sys.stderr.isatty():
        return rev.ignore

    def emit(event: rev.Event) -> None:
        if not isinstance(event, _UNPRINTED):
            print(_line(event), file=sys.stderr, flush=True)

    return emit


def _json_line(event: rev.Event) -> None:
    if not isinstance(event, _PLANNING):
        print(json.dumps(to_jsonable(event), ensure_ascii=False), flush=True)


_PLANNING = (rev.StageStarted, rev.StageFinished, rev.PlannerFellBack)
_UNPRINTED = (rev.StageStarted, rev.StageFinished, rev.PlannerFellBack, rev.SessionProgress)
"""Not a progress line: planning is `plan`'s to show, and a session's progress is the board's
(`status` shows it; `--jsonl` carries every event)."""
_SETUP = (rev.RunStarted, rev.WorktreeCreated, rev.SetupFinished, rev.SessionStarted,
          rev.SessionLaunchFailed, rev.SessionBlocked)


def _line(event: rev.RunEvent) -> str:
    if isinstance(event, MERGE_PROGRESS):
        return progress_line(event)
    if isinstance(event, rev.SessionProgress):
        return f"• {event.name}: {event.commits} commit(s), {len(event.changed_files)} file(s) changed"
    if isinstance(event, rev.EditRefused):
        return f"⊘ {event.name}: {event.decision} an edit of {event.path} (not its file)"
    if isinstance(event, _OBSERVED):
        return _observed_line(event)
    return _setup_line(event) if isinstance(event, _SETUP) else _session_line(event)


_OBSERVED = (rev.SessionEnded, rev.WindowClosed, rev.BranchFlagged, rev.WorktreeGone)


def _observed_line(event: rev.SessionEnded | rev.WindowClosed | rev.BranchFlagged | rev.WorktreeGone) -> str:
    """What the supervisor saw happen to a session (its end, its window, branch or worktree)."""
    match event:
        case rev.SessionEnded():
            return f"• {event.name} ended {event.state}" + (f" ({event.detail})" if event.detail else "")
        case rev.WindowClosed():
            return f"! {event.name}: {event.detail}"
        case rev.BranchFlagged():
            return f"! {event.name}: {event.warning or 'its branch no longer deletes most files'}"
        case rev.WorktreeGone():
            return f"! {event.name}: {event.problem or 'its worktree is fine again'}"


def _setup_line(event: rev.RunStarted | rev.WorktreeCreated | rev.SetupFinished | rev.SessionStarted
                | rev.SessionLaunchFailed | rev.SessionBlocked) -> str:
    match event:
        case rev.SessionBlocked():
            return f"✗ {event.name} is blocked: {event.reason}"
        case rev.RunStarted():
            return f"… run {event.run_id}: {len(event.sessions)} sessions from {event.base_sha[:10]}"
        case rev.WorktreeCreated():
            return f"✓ worktree {event.path} ({event.branch}) in {event.seconds:.2f}s"
        case rev.SetupFinished():
            return f"✓ setup for {event.name} in {event.seconds:.2f}s"
        case rev.SessionStarted():
            return f"✓ started {event.name} ({event.agent}) in window {event.window}"
        case rev.SessionLaunchFailed():
            return f"✗ {event.name} failed to launch: {event.error}"


def _session_line(event: rev.SessionStateChanged | rev.SessionStopped | rev.RunFollowed
                  | rev.RunFinished | rev.LeftoverRemoved | rev.MergeBuilt | rev.MergeMoved
                  | rev.OverlapConflict) -> str:
    match event:
        case rev.OverlapConflict():
            pair = " and ".join(event.sessions)
            if event.files:
                return f"! {pair} conflict in {', '.join(event.files)}"
            return f"· {pair}: no live conflict now (their work merges, or one of them stopped)"
        case rev.MergeBuilt():
            return f"… {event.target}: {len(event.branches)} merge(s) built, moving to {event.new_sha[:10]}"
        case rev.MergeMoved():
            return f"✓ {event.target} moved to {event.new_sha[:10]} ({event.how})"
        case rev.SessionStateChanged():
            detail = f" ({event.detail})" if event.detail else ""
            return f"• {event.name}: {event.old or '-'} → {event.new}{detail}"
        case rev.SessionStopped():
            return f"■ stopped {event.name}" + (f": {event.reason}" if event.reason else "")
        case rev.RunFollowed():
            return f"… following run {event.run_id}"
        case rev.RunFinished():
            return f"✓ run {event.run_id} ended after {event.seconds:.1f}s"
        case rev.LeftoverRemoved():
            return f"✓ removed {event.what} {event.target}"

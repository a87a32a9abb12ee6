"""One line of text per engine event, for every face that streams them.

The words live in one place, beside the events, so `run`, `merge` and `plan` on a terminal and
the app's progress panel and merge review say the same thing about the same event.
"""

from __future__ import annotations

from engine.core import events as rev

PLANNING = (rev.StageStarted, rev.StageFinished, rev.PlannerFellBack)
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


def _plan_line(event: rev.PlanEvent) -> str:
    match event:
        case rev.StageStarted():
            return f"… {event.stage}: {event.detail}"
        case rev.StageFinished():
            return f"✓ {event.stage} in {event.seconds:.2f}s: {event.detail}"
        case rev.PlannerFellBack():
            return f"! planner fell back to offline: {event.reason}"


_SETUP = (rev.RunStarted, rev.WorktreeCreated, rev.SetupFinished, rev.SessionStarted,
          rev.SessionLaunchFailed, rev.SessionBlocked)


def event_line(event: rev.Event) -> str:
    """The one line every face prints or shows for `event` (the CLI's progress on stderr, the
    app's progress panel and merge review)."""
    if isinstance(event, PLANNING):
        return _plan_line(event)
    if isinstance(event, MERGE_PROGRESS):
        return progress_line(event)
    if isinstance(event, rev.SessionProgress):
        return f"• {event.name}: {event.commits} commit(s), {len(event.changed_files)} file(s) changed"
    if isinstance(event, rev.EditRefused):
        return f"⊘ {event.name}: {event.decision} an edit of {event.path} (not its file)"
    if isinstance(event, _OBSERVED):
        return _observed_line(event)
    return _setup_line(event) if isinstance(event, _SETUP) else _session_line(event)


_OBSERVED = (rev.SessionEnded, rev.WindowClosed, rev.BranchFlagged, rev.WorktreeGone, rev.BranchFetched)


def _observed_line(event: rev.SessionEnded | rev.WindowClosed | rev.BranchFlagged | rev.WorktreeGone
                   | rev.BranchFetched) -> str:
    """What the supervisor saw happen to a session (its end, its window, branch or worktree)."""
    match event:
        case rev.BranchFetched():
            if event.problem:
                return f"! {event.name}: {event.branch} from {event.host}: {event.problem}"
            return f"↓ {event.name}: {event.branch} fetched from {event.host} ({event.sha[:10]})"
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

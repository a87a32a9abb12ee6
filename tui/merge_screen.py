"""Screen 5, merge review: the conflict matrix, the order, the hunks, and the merge behind a `y`.

Every rule is the engine's, asked through the app's door (`tui.backend`): which branches a
skip removes, what refuses a merge (`Engine.refusal`), and the preview text the confirmation
shows. The screen keeps its state in one `MergeState`, draws a `Checked` with `MergeMatrix`
(`tui.merge_view`) and asks; the engine merges only when the confirmation's text is still what
it would do (the branches may have moved while the modal was open).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Coroutine, Mapping, Sequence
from typing import Any, ClassVar

from textual import events, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import DataTable, Footer, Header

from engine.core import events as rev
from engine.core.errors import EngineError
from engine.core.event_text import MERGE_PROGRESS, event_line
from engine.views import (
    BranchCheck,
    Checked,
    MergeSummary,
    Refusal,
    VerifyFailed,
    Which,
    leftover_lines,
)
from tui.backend import Backend
from tui.base import NARROW, DashScreen
from tui.diff_screen import DiffScreen
from tui.intents import HistoryRequested, ReportRequested, RunRefreshRequested
from tui.markup import escape
from tui.merge_modals import Confirm, VerifyPrompt
from tui.merge_state import MergeState
from tui.merge_view import MergeHead, MergeMatrix, MergeStatus
from tui.resources import stylesheets
from tui.state import UiState

MERGING_HIDES = frozenset({"merge", "skip", "unskip", "resolve", "verify", "prs", "cleanup", "back",
                           "report", "history", "recheck"})
HELD_WHILE_MERGING = frozenset({"escape", "q", "R", "H", "1", "2", "3", "4"})
"""Keys that would leave the screen: a merge's worker belongs to the screen, and its outcome
is told here, so while it runs they are held with a note (help, `?`, still opens over it)."""
HELD_NOTE = "merge running — wait for it, or esc again to leave it running"
LEAVE_WITHIN_S = 5.0
"""A second esc this soon after a held one leaves the screen; the merge goes on (a hung verify
must not trap the person), and its outcome is journaled for the report and history."""
RESOLVE_POLL_S = 2.0
"""After `x`, how often the branches are checked again while its agent works."""
RESOLVE_WATCH_S = 30 * 60.0
"""How long the matrix keeps watching a resolve (an agent may take a while)."""
LEFT_NOTE = "the merge goes on without this screen: its outcome will be in the report (R) and history (H)"


class MergeProgressed(Message):
    """A merge or verify stage the engine told (from its worker thread)."""

    def __init__(self, event: rev.MergeProgress) -> None:
        super().__init__()
        self.event = event


class MergeScreen(DashScreen):
    CSS_PATH = stylesheets("merge")
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "back", "back"),
        Binding("M", "merge", "merge"),
        Binding("k", "skip", "skip", tooltip="leave the selected branch (and what builds on it) out"),
        Binding("k", "unskip", "unskip", tooltip="bring the selected skipped branch back"),
        Binding("x", "resolve", "resolve"),
        Binding("v", "verify", "verify"),
        Binding("p", "prs", "PRs", tooltip="push the branches and open one pull request each"),
        Binding("c", "cleanup", "clean"),
        Binding("enter", "diff", "diff", priority=True),
        Binding("R", "report", "report"),
        Binding("H", "history", "history", show=False),
        Binding("g", "recheck", "re-read", show=False, tooltip="check the branches again now"),
    ]
    """Shown only where they apply (`check_action`): 80 columns hold every key that does."""

    def __init__(self, run_id: str = "", *, recorded: Checked | None = None,
                 verify: str | None = None) -> None:
        """`recorded` renders a given check (snapshots) instead of asking the engine."""
        super().__init__()
        self.state = MergeState(run_id=run_id, checked=recorded, recorded=recorded is not None,
                                verify=verify or "")
        self._verify = verify
        """None: the configured test command, read on mount."""
        self._unsubscribe: Callable[[], None] | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield MergeHead(id="merge-head")
        yield MergeMatrix(id="merge-main")
        yield MergeStatus(id="merge-status")
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        backend = self.parallel.backend
        self._unsubscribe = backend.subscribe(self._heard)
        if self._verify is None:
            self.set_state(verify=backend.test_command)
        self.query_one(DataTable).focus()
        if self.state.checked is not None:
            self.show(self.state.checked)
        else:
            self.recheck()

    def on_unmount(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()

    def _heard(self, event: rev.Event) -> None:
        """Any engine event, from any thread: a running merge's stages become messages."""
        if self.state.merging and isinstance(event, MERGE_PROGRESS):
            self.post_message(MergeProgressed(event))

    def on_merge_progressed(self, message: MergeProgressed) -> None:
        self.set_state(progress=(*self.state.progress, event_line(message.event)))
        if self.state.merging:
            self.show_status(self.state.status)

    def render_state(self, state: UiState) -> None:
        """The merge review renders its own check, not the run board's state."""

    def on_screen_resume(self) -> None:
        """Back from the report after a merge: the branches moved, so check them again."""
        if self.state.stale:
            self.set_state(stale=False)
            self.recheck()

    def on_key(self, event: events.Key) -> None:
        """While a merge runs, the keys that would leave are held (see HELD_WHILE_MERGING)."""
        if self.state.merging and event.key in HELD_WHILE_MERGING:
            event.stop()
            event.prevent_default()
            if event.key == "escape" and time.monotonic() - self.state.esc_held_at < LEAVE_WITHIN_S:
                self.notify(LEFT_NOTE, severity="warning")
                self.app.pop_screen()
                return
            self.set_state(esc_held_at=time.monotonic() if event.key == "escape" else 0.0)
            self.app.bell()
            self.notify(HELD_NOTE, severity="warning")
            self.set_state(held=True)
            self.show_status(self.state.status)

    def action_back(self) -> None:
        self.app.pop_screen()

    def which(self) -> Which:
        return self.state.which()

    def set_state(self, **changes: object) -> None:
        """The one way the screen changes: a new MergeState (nothing is redrawn here)."""
        self.state = self.state.with_(**changes)

    # ---- rendering -------------------------------------------------------------------------

    def show(self, checked: Checked) -> None:
        """A new check on screen: the head, the matrix (its cursor kept on its branch), the status."""
        self.set_state(checked=checked)
        self.query_one(MergeHead).show(checked, self.state.verify)
        self.query_one(MergeMatrix).show(checked, cut=self.app.size.width < NARROW)
        self.show_status(self.state.status)

    def show_status(self, markup: str) -> None:
        """The status line, under why `M` is off (its key is hidden then); while a merge runs,
        its latest stages under it."""
        self.set_state(status=markup)
        state = self.state
        refusal = refusal_of(state.checked) if state.checked and not state.merging else ""
        stages = state.progress if state.merging else ()
        self.query_one(MergeStatus).show(markup, refusal=refusal, stages=stages,
                                         held=HELD_NOTE if state.merging and state.held else "")

    def on_data_table_cell_highlighted(self, _event: DataTable.CellHighlighted) -> None:
        self.refresh_bindings()  # which keys apply depends on the selected branch (the matrix shows it)

    def selected(self) -> BranchCheck | None:
        """The selected branch, when it is one being merged (not a skipped one)."""
        return self.query_one(MergeMatrix).selected()

    def selected_skipped(self) -> str | None:
        """The selected row's branch when it is a skipped one."""
        return self.query_one(MergeMatrix).selected_skipped()

    # ---- engine commands -------------------------------------------------------------------

    def recheck(self) -> None:
        if not self.state.recorded:
            self._check()

    @work(group="merge-check", exclusive=True, exit_on_error=False)
    async def _check(self, told: Callable[[Checked], tuple[str, bool]] | None = None,
                     undo: tuple[str, ...] | None = None) -> None:
        """Check the branches (`which`) and show them: the one check worker. After `k` (skip or
        unskip), `told` words the news for a notice (and whether it warns), and an error puts
        the skips back as they were (`undo`) and says why on the status line."""
        try:
            checked = await self.parallel.backend.check(self.which())
        except EngineError as exc:
            if undo is not None:
                self.set_state(skip=undo)
                self.show_status(f"[b red]{escape(exc.one_line())}[/]")
                return
            self.set_state(checked=None)  # nothing stale stays (after a merge the branches are gone)
            self.query_one(MergeMatrix).clear()
            self.query_one(MergeHead).gone(self.state.merged_into, exc.one_line())
            self.refresh_bindings()
            return
        if told is not None:
            line, warn = told(checked)
            self.notify(line, severity="warning" if warn else "information")
            self.set_state(status=escape(line))
        self.show(checked)
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Only the keys that apply to the selected branch and the check now (False hides);
        while a merge runs, only looking (diff, report) and leaving."""
        checked, branch = self.state.checked, self.selected()
        if self.state.merging and action in MERGING_HIDES:
            return False
        match action:
            case "skip" | "diff":
                return branch is not None
            case "unskip":
                return self.selected_skipped() is not None
            case "resolve":
                return branch is not None and checked is not None and branch.name in checked.report.blocked
            case "merge" | "prs":  # refused: the status line says why, and what k and x do
                return checked is not None and not refusal_of(checked)
            case "cleanup" | "report":
                return bool(self.state.run_id or (checked and checked.selection.run))
        return True

    def action_skip(self) -> None:
        branch = self.selected()
        if branch is None:
            return
        undo, before = self.state.skip, dict(self.state.checked.left_out) if self.state.checked else {}
        self.set_state(skip=(*self.state.skip, branch.name))
        self.show_status(f"skipping {branch.name}; checking the rest again…")

        def told(checked: Checked) -> tuple[str, bool]:
            also = [f"{b} ({why})" for b, why in checked.left_out.items() if why and b not in before]
            line = f"skipped {branch.name}" + (f"; also skipped {', '.join(also)}" if also else "")
            return line + " — k on it brings it back", bool(also)
        self._check(told, undo)

    def action_unskip(self) -> None:
        name = self.selected_skipped()
        if name is None or self.state.checked is None:
            return
        why = self.state.checked.left_out[name]
        if name not in self.state.skip:
            self.notify(f"{name} is skipped because it {why}: bring that back first", severity="warning")
            self.show_status(f"{escape(name)} stays skipped: it {escape(why)} — bring that back first")
            return
        undo, before = self.state.skip, dict(self.state.checked.left_out)
        self.set_state(skip=tuple(s for s in self.state.skip if s != name))
        self.show_status(f"bringing {name} back; checking again…")
        self._check(lambda checked: (_unskipped(name, before, checked.left_out, checked.selection.depends),
                                     False), undo)

    def action_merge(self) -> None:
        checked = self.state.checked
        if checked is None:
            return
        refusal = refusal_of(checked)
        if refusal:
            self.app.bell()
            self.notify(refusal, severity="error", timeout=8)
            self.show_status(f"[b red]refused: {escape(refusal)}[/]")
            return
        text = self.parallel.backend.merge_preview(checked, self.state.verify or "")
        self._ask("Merge — y moves the target", text, lambda: self._merge(text))

    def busy(self) -> bool:
        """A merge, resolve, PR or cleanup still runs: a second one waits (never cancels it)."""
        running = any(w.is_running and w.group == "merge-command" for w in self.app.workers)
        if running:
            self.notify("still working on the last command", severity="warning")
        return running

    def _ask(self, title: str, text: str, then: Callable[[], object]) -> None:
        if not self.busy():
            self._confirm(title, text, then)

    def _confirm(self, title: str, text: str, then: Callable[[], object]) -> None:
        def answered(yes: bool | None) -> None:
            if yes:
                then()
        self.app.push_screen(Confirm(title, text), answered)

    @work(group="merge-command", exit_on_error=False)
    async def _merge(self, text: str) -> None:
        verify = self.state.verify or ""
        verifying = f"\nverifying with `{escape(verify)}`" if verify else ""
        self.set_state(progress=(), merging=True, held=False)
        self.refresh_bindings()
        self.show_status(f"merging… {escape(text)}{verifying}")
        try:
            summary = await self.parallel.backend.merge(self.which(), verify=verify, asked=text)
        except VerifyFailed as exc:

            self.show_verify_failed(exc)
            return
        except EngineError as exc:
            self.show_status(f"[b red]{escape(exc.one_line())}[/]")
            self.recheck()
            return
        finally:
            self.set_state(merging=False)
            self.refresh_bindings()
        if summary is None:
            self.show_status("[b red]the branches changed since this review; nothing was merged — "
                             "look again[/]")
            self.recheck()
            return
        self.merged(summary)

    def show_verify_failed(self, exc: VerifyFailed) -> None:
        result = exc.result
        who = result.culprit or "the target itself"
        tail = "\n".join(result.tail.splitlines()[-8:])
        self.app.bell()
        self.show_status(f"[b red]✗ verify `{escape(result.command)}` failed: {escape(who)} breaks it; "
                         f"nothing was moved[/]\n{escape(tail)}")

    def merged(self, summary: MergeSummary) -> None:
        outcome = summary.outcome
        cleaned = sum(1 for x in summary.cleaned if x.action != "keep")
        verify = f", verified in {outcome.verify.seconds:.1f}s" if outcome.verify else ""
        self.show_status(f"[green]✓ merged {', '.join(outcome.merged)} into {outcome.target} "
                         f"({outcome.how}) in {summary.seconds:.1f}s{verify}; cleaned {cleaned} leftovers[/]")
        self.notify(f"merged {len(outcome.merged)} branch(es) into {outcome.target}")
        self.set_state(stale=True, merged_into=outcome.target)
        self.post_message(RunRefreshRequested())  # the board shows what the merge cleaned up
        run = summary.checked.selection.run
        if run is not None:
            self.post_message(ReportRequested(run.id))

    def action_resolve(self) -> None:
        branch = self.selected()
        if branch is not None:
            self._command(self._resolve(branch.name))

    async def _resolve(self, name: str) -> None:
        started = await self.parallel.backend.resolve(name, self.which())
        self.show_status(f"resolving {escape(', '.join(started.files))} in {escape(started.worktree)}: "
                         f"{started.how}; the matrix reads again when it commits (g: now)")
        self._watch_resolve(name)

    @work(group="merge-watch", exclusive=True, exit_on_error=False)
    async def _watch_resolve(self, name: str) -> None:
        """After `x`: the branches are checked again every RESOLVE_POLL_S until `name` no longer
        conflicts (its agent committed the resolution), so the matrix is never stale."""
        import asyncio  # noqa: PLC0415

        deadline = time.monotonic() + RESOLVE_WATCH_S
        while time.monotonic() < deadline:
            await asyncio.sleep(RESOLVE_POLL_S)
            if self.state.merging or self.state.recorded:
                return
            try:
                checked = await self.parallel.backend.check(self.which())
            except EngineError:
                continue
            if self.state.checked is None or checked.report != self.state.checked.report:
                self.show(checked)
                self.refresh_bindings()
            if name not in checked.report.blocked:
                self.show_status(f"{escape(name)} committed its resolution: the matrix is read again")
                return

    def action_recheck(self) -> None:
        self.show_status("checking the branches again…")
        self.recheck()

    def action_history(self) -> None:
        self.post_message(HistoryRequested())

    def action_verify(self) -> None:
        def chosen(command: str | None) -> None:
            if command is not None:
                self.set_state(verify=command)
                if self.state.checked is not None:
                    self.show(self.state.checked)
        self.app.push_screen(VerifyPrompt(self.state.verify or ""), chosen)

    def action_prs(self) -> None:
        checked = self.state.checked
        if checked is None:
            return
        refusal = refusal_of(checked)
        if refusal:
            self.notify(refusal, severity="error", timeout=8)
            return
        text = self.parallel.backend.pr_preview(checked)
        self._ask("Open pull requests — y pushes", text, lambda: self._command(self._prs(text)))

    async def _prs(self, text: str) -> None:
        opened = await self.parallel.backend.open_prs(self.which(), asked=text)
        if opened is None:
            self.show_status("[b red]the branches changed since this review; nothing was pushed[/]")
            return
        self.show_status("opened: " + ", ".join(f"{p.branch} {p.url}" for p in opened[1]))

    def action_cleanup(self) -> None:
        self._command(self._cleanup_plan())

    async def _cleanup_plan(self) -> None:
        plan = await self.parallel.backend.cleanup_plan(self.state.run_id)
        if not plan.leftovers:
            self.show_status("nothing left to clean up")
            return
        text = leftover_lines(plan.leftovers)
        self._confirm("Clean up — y removes what says remove/delete", text,
                      lambda: self._command(self._cleanup(text)))

    async def _cleanup(self, asked: str) -> None:
        done = await self.parallel.backend.cleanup(self.state.run_id, asked=asked)
        if done.declined:
            self.show_status("[b red]what is left changed since the confirmation; nothing was removed[/]")
        else:
            self.show_status(f"cleaned up {len(done.leftovers)} leftovers")
        self.recheck()

    def action_diff(self) -> None:
        branch = self.selected()
        if branch is not None:
            self._command(self._diff(branch.name))

    async def _diff(self, branch: str) -> None:
        checked = self.state.checked
        assert checked is not None
        candidate = next((c for c in checked.selection.candidates if c.branch == branch), None)
        name = candidate.subtask if candidate and candidate.subtask else branch.rsplit("/", 1)[-1]
        diffs = await self.parallel.backend.file_diffs(self.state.run_id, name)
        self.app.push_screen(DiffScreen(branch, diffs))

    def action_report(self) -> None:
        run = self.state.checked.selection.run if self.state.checked else None
        if run is not None or self.state.run_id:
            self.post_message(ReportRequested(run.id if run else self.state.run_id))

    def _command(self, job: Coroutine[Any, Any, None]) -> None:
        if self.busy():
            job.close()
            return
        self._run_command(job)

    @work(group="merge-command", exit_on_error=False)
    async def _run_command(self, job: Coroutine[Any, Any, None]) -> None:
        try:
            await job
        except EngineError as exc:
            self.notify(exc.one_line(), severity="error", timeout=8)
            self.show_status(f"[b red]{escape(exc.one_line())}[/]")


REMEDY = {"deletes_most": "k skips it", "conflicts": "k skips it, x hands it to its agent",
          "all_skipped": "k on a skipped branch brings it back"}
"""The engine's refusals (`Engine.refusal`) remedied with this screen's keys (the CLI's hint
names its flags)."""


def refusal_of(checked: Checked) -> str:
    """Why `M` (and `p`) refuse now, in the engine's words; empty when they may ask."""
    found: Refusal | None = Backend.refusal(checked)
    if found is None:
        return ""
    return f"{found.problem} — {REMEDY.get(found.kind, found.hint)}"


def _unskipped(name: str, before: Mapping[str, str], after: Mapping[str, str],
               depends: Mapping[str, Sequence[str]]) -> str:
    """What bringing `name` back brought back with it, and what builds on it but stays out for
    another reason."""
    back = [b for b in before if b != name and b not in after]
    stays = [f"; {b} stays skipped ({after[b] or 'skipped on its own'})" for b, deps in depends.items()
             if name in deps and b in after]
    line = f"{name} is back"
    if back:
        line += f"; {', '.join(back)} (built on it) {'comes' if len(back) == 1 else 'come'} back too"
    return line + "".join(stays)



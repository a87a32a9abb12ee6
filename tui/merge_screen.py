"""Screen 5, merge review: the conflict matrix, the order, the hunks, and the merge behind a `y`.

Every rule is the engine's (`engine.merge.flow`): which branches a skip removes, what refuses
a merge, and the preview text the confirmation shows. The screen renders a `Checked` and asks;
the engine merges only when the confirmation's text is still what it would do (the branches
may have moved while the modal was open).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Coroutine, Mapping, Sequence
from typing import Any, ClassVar

from rich.console import Group, RenderableType
from rich.syntax import Syntax
from rich.text import Text
from textual import events, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.widgets import DataTable, Footer, Header, Static

from engine.core import events as rev
from engine.core.errors import EngineError
from engine.core.event_text import MERGE_PROGRESS, event_line
from engine.views import (
    BranchCheck,
    Checked,
    CheckReport,
    FileConflict,
    MergeSummary,
    PairCheck,
    Refusal,
    VerifyFailed,
    Which,
    leftover_lines,
)
from tui.backend import Backend
from tui.base import NARROW, DashScreen
from tui.diff_screen import DiffScreen
from tui.intents import RunRefreshRequested
from tui.markup import escape
from tui.merge_modals import Confirm, VerifyPrompt
from tui.resources import stylesheets
from tui.state import UiState

CLEAN, OVERLAP, CONFLICT, SKIPPED = "green", "yellow", "b red", "dim"
PAIR_WIDTH = 7
"""Characters of a pair column's header: as wide as its mark, `✓ clean`."""
FIXED_COLUMNS = 3
"""branch, commits, → target; then one column per branch, then flags."""
PROGRESS_SHOWN = 5
"""The last stages of a running merge shown under its status line."""
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
        self.run_id = run_id
        self.checked = recorded
        self.recorded = recorded is not None
        self.skip: tuple[str, ...] = ()
        self.verify = verify
        self.status = ""
        self.stale = False
        self.progress: list[str] = []
        """The stages of the merge that runs (or ran last), as the engine told them."""
        self.merging = False
        self.held = False
        self.esc_held_at = 0.0
        """A key that would leave was pressed during the merge: its note stays until it ends."""
        self.merged_into = ""
        """The target of the merge this screen made: once its branches are gone, that is news,
        not an error."""
        self._unsubscribe: Callable[[], None] | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("checking the branches…", id="merge-head")
        with Horizontal(id="merge-main"):
            yield DataTable(id="matrix", cursor_type="cell", zebra_stripes=False)
            with VerticalScroll(id="merge-detail"):
                yield Static("", id="merge-cell")
        yield Static("", id="merge-status")
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        backend = self.parallel.backend
        self._unsubscribe = backend.subscribe(self._heard)
        if self.verify is None:
            self.verify = backend.test_command
        self.query_one("#matrix").border_title = "Conflict matrix"
        self.query_one("#merge-detail").border_title = "selected cell"
        self.query_one(DataTable).focus()
        if self.checked is not None:
            self.show(self.checked)
        else:
            self.recheck()

    def on_unmount(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()

    def _heard(self, event: rev.Event) -> None:
        """Any engine event, from any thread: a running merge's stages become messages."""
        if self.merging and isinstance(event, MERGE_PROGRESS):
            self.post_message(MergeProgressed(event))

    def on_merge_progressed(self, message: MergeProgressed) -> None:
        self.progress.append(event_line(message.event))
        if self.merging:
            self.show_status(self.status)

    def render_state(self, state: UiState) -> None:
        """The merge review renders its own check, not the run board's state."""

    def on_screen_resume(self) -> None:
        """Back from the report after a merge: the branches moved, so check them again."""
        if self.stale:
            self.stale = False
            self.recheck()

    def on_key(self, event: events.Key) -> None:
        """While a merge runs, the keys that would leave are held (see HELD_WHILE_MERGING)."""
        if self.merging and event.key in HELD_WHILE_MERGING:
            event.stop()
            event.prevent_default()
            if event.key == "escape" and time.monotonic() - self.esc_held_at < LEAVE_WITHIN_S:
                self.notify(LEFT_NOTE, severity="warning")
                self.app.pop_screen()
                return
            self.esc_held_at = time.monotonic() if event.key == "escape" else 0.0
            self.app.bell()
            self.notify(HELD_NOTE, severity="warning")
            self.held = True
            self.show_status(self.status)

    def action_back(self) -> None:
        self.app.pop_screen()

    def which(self) -> Which:
        return Which(run_id=self.run_id or None, skip=self.skip)

    # ---- rendering -------------------------------------------------------------------------

    def show(self, checked: Checked) -> None:
        report = checked.report
        self.query_one("#merge-head", Static).update(_head(checked, self.verify or ""))
        table = self.query_one(DataTable)
        row, column = table.cursor_coordinate
        was = self._selected_name()
        self.checked = checked
        table.clear(columns=True)
        names = [b.name for b in report.branches]
        prefix = _common_prefix([*names, *checked.left_out])
        self.query_one("#matrix").border_title = f"Conflict matrix — branches {prefix}…" if prefix \
            else "Conflict matrix"
        short = _short_names([*names, *checked.left_out], prefix, cut=self.app.size.width < NARROW)
        table.add_columns("branch", "commits", "→ " + report.target, *(short[n] for n in names), "flags")
        for b in report.branches:
            table.add_row(*_matrix_row(b, report, short), key=b.name)
        for name, why in checked.left_out.items():
            table.add_row(*_skipped_row(short[name], why, len(names)), key=name)
        names += list(checked.left_out)
        if names:  # the cursor stays on the branch it was on (k, k on one branch brings it back)
            row = names.index(was) if was in names else min(row, len(names) - 1)
            table.cursor_coordinate = table.validate_cursor_coordinate(table.cursor_coordinate._replace(
                row=row, column=column))
        self._detail()
        self.show_status(self.status)

    def show_status(self, markup: str) -> None:
        """The status line, under why `M` is off (its key is hidden then); while a merge runs,
        its latest stages under it."""
        self.status = markup
        refusal = refusal_of(self.checked) if self.checked and not self.merging else ""
        off = [f"[b red]M is off: {escape(refusal)}[/]"] if refusal else []
        shown = self.progress[-PROGRESS_SHOWN:] if self.merging else []
        stages = [f"[dim]{escape(line)}[/]" for line in shown]
        held = [f"[b yellow]{HELD_NOTE}[/]"] if self.merging and self.held else []
        self.query_one("#merge-status", Static).update(
            "\n".join([*off, *filter(None, [markup]), *stages, *held]))

    def on_data_table_cell_highlighted(self, _event: DataTable.CellHighlighted) -> None:
        self._detail()
        self.refresh_bindings()  # which keys apply depends on the selected branch

    def selected(self) -> BranchCheck | None:
        """The selected branch, when it is one being merged (not a skipped one)."""
        if self.checked is None or not self.checked.report.branches:
            return None
        row = self.query_one(DataTable).cursor_row
        branches = self.checked.report.branches
        return branches[row] if 0 <= row < len(branches) else None

    def _selected_name(self) -> str | None:
        branch = self.selected()
        return branch.name if branch is not None else self.selected_skipped()

    def selected_skipped(self) -> str | None:
        """The selected row's branch when it is a skipped one (listed after the others)."""
        if self.checked is None:
            return None
        row = self.query_one(DataTable).cursor_row - len(self.checked.report.branches)
        skipped = list(self.checked.left_out)
        return skipped[row] if 0 <= row < len(skipped) else None

    def _detail(self) -> None:
        branch = self.selected()
        box = self.query_one("#merge-detail")
        cell = self.query_one("#merge-cell", Static)
        skipped = self.selected_skipped()
        if skipped is not None and self.checked is not None:
            box.border_title = skipped
            why = self.checked.left_out[skipped]
            cell.update(Text(f"skipped{f' (it {why})' if why else ''}: not checked, not merged"
                             f" — k brings it back{' once that one is back' if why else ''}", SKIPPED))
            return
        if branch is None or self.checked is None:
            box.border_title = "selected cell"
            cell.update("no branch to review" if self.checked else "")
            return
        title, body = _cell(self.checked.report, branch, self.query_one(DataTable).cursor_column)
        box.border_title = title
        cell.update(body)

    # ---- engine commands -------------------------------------------------------------------

    def recheck(self) -> None:
        if not self.recorded:
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
                self.skip = undo
                self.show_status(f"[b red]{escape(exc.one_line())}[/]")
                return
            self.checked = None  # nothing stale stays on screen (after a merge the branches are gone)
            self.query_one(DataTable).clear(columns=True)
            self.query_one("#merge-cell", Static).update("")
            self.query_one("#matrix").border_title = "Conflict matrix"
            self.query_one("#merge-detail").border_title = "selected cell"
            head = Text(f"merged into {self.merged_into}; nothing left to merge") if self.merged_into \
                else Text(exc.one_line(), style="b red")
            self.query_one("#merge-head", Static).update(head)
            self.refresh_bindings()
            return
        if told is not None:
            line, warn = told(checked)
            self.notify(line, severity="warning" if warn else "information")
            self.status = escape(line)
        self.show(checked)
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Only the keys that apply to the selected branch and the check now (False hides);
        while a merge runs, only looking (diff, report) and leaving."""
        checked, branch = self.checked, self.selected()
        if self.merging and action in MERGING_HIDES:
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
                return bool(self.run_id or (checked and checked.selection.run))
        return True

    def action_skip(self) -> None:
        branch = self.selected()
        if branch is None:
            return
        undo, before = self.skip, dict(self.checked.left_out) if self.checked else {}
        self.skip = (*self.skip, branch.name)
        self.show_status(f"skipping {branch.name}; checking the rest again…")

        def told(checked: Checked) -> tuple[str, bool]:
            also = [f"{b} ({why})" for b, why in checked.left_out.items() if why and b not in before]
            line = f"skipped {branch.name}" + (f"; also skipped {', '.join(also)}" if also else "")
            return line + " — k on it brings it back", bool(also)
        self._check(told, undo)

    def action_unskip(self) -> None:
        name = self.selected_skipped()
        if name is None or self.checked is None:
            return
        why = self.checked.left_out[name]
        if name not in self.skip:
            self.notify(f"{name} is skipped because it {why}: bring that back first", severity="warning")
            self.show_status(f"{escape(name)} stays skipped: it {escape(why)} — bring that back first")
            return
        undo, before = self.skip, dict(self.checked.left_out)
        self.skip = tuple(s for s in self.skip if s != name)
        self.show_status(f"bringing {name} back; checking again…")
        self._check(lambda checked: (_unskipped(name, before, checked.left_out, checked.selection.depends),
                                     False), undo)

    def action_merge(self) -> None:
        checked = self.checked
        if checked is None:
            return
        refusal = refusal_of(checked)
        if refusal:
            self.app.bell()
            self.notify(refusal, severity="error", timeout=8)
            self.show_status(f"[b red]refused: {escape(refusal)}[/]")
            return
        text = self.parallel.backend.merge_preview(checked, self.verify or "")
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
        verify = self.verify or ""
        verifying = f"\nverifying with `{escape(verify)}`" if verify else ""
        self.progress, self.merging, self.held = [], True, False
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
            self.merging = False
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
        self.stale, self.merged_into = True, outcome.target
        self.post_message(RunRefreshRequested())  # the board shows what the merge cleaned up
        run = summary.checked.selection.run
        if run is not None:
            from tui.report_screen import ReportScreen  # noqa: PLC0415 - the report imports nothing back

            report = ReportScreen(run.id)
            if isinstance(self.app.screen, ReportScreen):  # one report, the merged one: none stale below
                self.app.switch_screen(report)
            else:
                self.app.push_screen(report)

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
            if self.merging or self.recorded:
                return
            try:
                checked = await self.parallel.backend.check(self.which())
            except EngineError:
                continue
            if self.checked is None or checked.report != self.checked.report:
                self.show(checked)
                self.refresh_bindings()
            if name not in checked.report.blocked:
                self.show_status(f"{escape(name)} committed its resolution: the matrix is read again")
                return

    def action_recheck(self) -> None:
        self.show_status("checking the branches again…")
        self.recheck()

    def action_history(self) -> None:
        from tui.history_screen import HistoryScreen  # noqa: PLC0415

        self.app.push_screen(HistoryScreen())

    def action_verify(self) -> None:
        def chosen(command: str | None) -> None:
            if command is not None:
                self.verify = command
                if self.checked is not None:
                    self.show(self.checked)
        self.app.push_screen(VerifyPrompt(self.verify or ""), chosen)

    def action_prs(self) -> None:
        checked = self.checked
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
        plan = await self.parallel.backend.cleanup_plan(self.run_id)
        if not plan.leftovers:
            self.show_status("nothing left to clean up")
            return
        text = leftover_lines(plan.leftovers)
        self._confirm("Clean up — y removes what says remove/delete", text,
                      lambda: self._command(self._cleanup(text)))

    async def _cleanup(self, asked: str) -> None:
        done = await self.parallel.backend.cleanup(self.run_id, asked=asked)
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
        checked = self.checked
        assert checked is not None
        candidate = next((c for c in checked.selection.candidates if c.branch == branch), None)
        name = candidate.subtask if candidate and candidate.subtask else branch.rsplit("/", 1)[-1]
        self.app.push_screen(DiffScreen(branch, await self.parallel.backend.file_diffs(self.run_id, name)))

    def action_report(self) -> None:
        from tui.report_screen import ReportScreen  # noqa: PLC0415

        run = self.checked.selection.run if self.checked else None
        if run is not None or self.run_id:
            self.app.push_screen(ReportScreen(run.id if run else self.run_id))

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


def _head(checked: Checked, verify: str) -> Text:
    report = checked.report
    colour = {"LOW": CLEAN, "MEDIUM": OVERLAP, "HIGH": CONFLICT}.get(report.conflict_risk.value, "")
    text = Text.assemble(("Into ", ""), (report.target, "b"), f" @ {report.target_sha[:10]}   risk ",
                         (report.conflict_risk.value, colour), f": {report.risk_reason}\n")
    order = " → ".join(report.mergeable) or "nothing mergeable"
    text.append("suggested order: ")
    text.append(order, "b")
    if report.blocked:
        text.append(f"   blocked: {', '.join(report.blocked)}", CONFLICT)
    text.append(f"\nverify: {verify or '(none — v sets one)'}")
    if checked.skipped:
        text.append(f"   skipped: {', '.join(checked.skipped)}", OVERLAP)
    if checked.selection.missing:
        text.append(f"   gone: {', '.join(checked.selection.missing)}", OVERLAP)
    return text


def _skipped_row(name: str, why: str, branches: int) -> tuple[Text, ...]:
    """A skipped branch stays listed (dim) so `k` can bring it back; it has no pairs."""
    return (Text(name, SKIPPED), Text("—", SKIPPED), Text("skipped", SKIPPED),
            *(Text("—", SKIPPED) for _ in range(branches)),
            Text(f"skipped: {why}" if why else "skipped", SKIPPED))


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


def _common_prefix(names: Sequence[str], marks: str = "/") -> str:
    """What every branch name starts with, up to a `/` (`parallel/`): said once, in the title."""
    first = names[0] if names else ""
    cut = max(first.rfind(m) for m in marks) + 1
    while cut and not all(n.startswith(first[:cut]) and len(n) > cut for n in names):
        cut = max(first.rfind(m, 0, cut - 1) for m in marks) + 1
    return first[:cut]


def _short_names(names: Sequence[str], prefix: str, *, cut: bool) -> dict[str, str]:
    """Each branch's one short name, the same in its row and in its column: the title says the
    `prefix` every branch shares; on a narrow screen the words all names share (`auth-`) go
    too, and a name still wider than a cell keeps its start and end (`fro…end`) — unless the
    cut names would not tell branches apart."""
    short = {n: n.removeprefix(prefix) for n in names}
    if not cut:
        return short
    words = _common_prefix(list(short.values()), "-/") if len(short) > 1 else ""
    half = (PAIR_WIDTH - 1) // 2
    cuts = {n: s.removeprefix(words) for n, s in short.items()}
    cuts = {n: s if len(s) <= PAIR_WIDTH else f"{s[:half]}…{s[-half:]}" for n, s in cuts.items()}
    return cuts if len(set(cuts.values())) == len(cuts) else short


def _matrix_row(b: BranchCheck, report: CheckReport, short: Mapping[str, str]) -> tuple[Text, ...]:
    against = (Text(f"✗ {len(b.conflicts_with_target)} conflict", CONFLICT) if b.conflicts_with_target
               else Text("✓ clean", CLEAN))
    name = Text(short.get(b.name, b.name), CONFLICT if b.name in report.blocked else "")
    cells = [name, Text(str(b.commits)), against]
    for other in report.branches:
        same = other.name == b.name
        cells.append(Text("—", "dim") if same else _pair_cell(_pair(report, b.name, other.name)))
    cells.append(Text(", ".join(b.flags), CONFLICT if b.flags else ""))
    return tuple(cells)


def _pair_cell(pair: PairCheck | None) -> Text:
    if pair is None:
        return Text("✓ clean", CLEAN)
    if pair.conflicts:
        return Text(f"✗ {len(pair.conflicts)} conflict", CONFLICT)
    if pair.overlapping_files:
        return Text(f"~ {len(pair.overlapping_files)} shared", OVERLAP)
    return Text("✓ clean", CLEAN)


def _pair(report: CheckReport, a: str, b: str) -> PairCheck | None:
    return next((p for p in report.pairs if {p.a, p.b} == {a, b}), None)


def _cell(report: CheckReport, branch: BranchCheck, column: int) -> tuple[str, RenderableType]:
    """The border title and body for the highlighted cell: a pair, the target, or the branch."""
    others = report.branches
    if column == FIXED_COLUMNS - 1:
        return f"{branch.name} × {report.target}", _conflicts(branch.conflicts_with_target, (), "the target")
    index = column - FIXED_COLUMNS
    if 0 <= index < len(others) and others[index].name != branch.name:
        other = others[index].name
        pair = _pair(report, branch.name, other)
        overlap = pair.overlapping_files if pair else ()
        return f"{branch.name} × {other}", _conflicts(pair.conflicts if pair else (), overlap, other)
    return branch.name, _summary(branch)


def _summary(b: BranchCheck) -> RenderableType:
    lines = [Text(f"{b.commits} commit(s), {len(b.files_changed)} file(s) changed  (enter: its diff)")]
    lines += [Text(f"! {flag}", CONFLICT) for flag in b.flags]
    lines += [Text(f"  {f}") for f in b.files_changed[:40]]
    return Group(*lines)


def _conflicts(conflicts: tuple[FileConflict, ...], overlap: tuple[str, ...], other: str) -> RenderableType:
    if not conflicts:
        shared = f": both change {', '.join(overlap)} (they merge cleanly)" if overlap else ""
        return Text(f"✓ merges cleanly with {other}{shared}", OVERLAP if overlap else CLEAN)
    parts: list[RenderableType] = []
    for c in conflicts:
        parts.append(Text(f"✗ {c.file} ({c.type}): {c.message}", CONFLICT))
        parts += [Syntax(h, "diff", theme="ansi_dark", word_wrap=True) for h in c.hunks]
    return Group(*parts)

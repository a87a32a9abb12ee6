"""The merge review's widgets: the head above, the matrix beside its selected cell, the status.

The screen (`tui.merge_screen`) owns the state and the engine's commands; these draw it: the
head a `Checked`'s target, risk and order; the matrix each branch against the target and the
others (skipped branches dim below) and the selected cell's files and hunks, keeping the cursor
on its branch across checks; the status line what happened, why `M` is off, a merge's stages.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from rich.console import Group, RenderableType
from rich.syntax import Syntax
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import DataTable, Static

from engine.views import BranchCheck, Checked, CheckReport, FileConflict, PairCheck
from tui.markup import escape

CLEAN, OVERLAP, CONFLICT, SKIPPED = "green", "yellow", "b red", "dim"
PAIR_WIDTH = 7
"""Characters of a pair column's header: as wide as its mark, `✓ clean`."""
FIXED_COLUMNS = 3
"""branch, commits, → target; then one column per branch, then flags."""
PROGRESS_SHOWN = 5
"""The last stages of a running merge shown under its status line."""


class MergeHead(Static):
    """Into what, at which commit, the risk, the suggested order, the verify command, the skips."""

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002 - Textual's name
        super().__init__("checking the branches…", id=id)

    def show(self, checked: Checked, verify: str) -> None:
        self.update(_head(checked, verify))

    def gone(self, merged_into: str, error: str) -> None:
        """No check: the merge took the branches (`merged_into`), or it failed (`error`)."""
        self.update(Text(f"merged into {merged_into}; nothing left to merge") if merged_into
                    else Text(error, style="b red"))


class MergeStatus(Static):
    """The status line (markup), under why `M` is off; while a merge runs, its latest stages
    under it, and the note when a key that would leave was held."""

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002 - Textual's name
        super().__init__("", id=id)

    def show(self, markup: str, *, refusal: str, stages: Sequence[str], held: str) -> None:
        off = [f"[b red]M is off: {escape(refusal)}[/]"] if refusal else []
        shown = [f"[dim]{escape(line)}[/]" for line in stages[-PROGRESS_SHOWN:]]
        note = [f"[b yellow]{held}[/]"] if held else []
        self.update("\n".join([*off, *filter(None, [markup]), *shown, *note]))


class MergeMatrix(Horizontal):
    """The conflict matrix and the selected cell, for one check (or none)."""

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002 - Textual's name
        super().__init__(id=id)
        self.checked: Checked | None = None

    def compose(self) -> ComposeResult:
        yield DataTable(id="matrix", cursor_type="cell", zebra_stripes=False)
        with VerticalScroll(id="merge-detail"):
            yield Static("", id="merge-cell")

    def on_mount(self) -> None:
        self.query_one("#matrix").border_title = "Conflict matrix"
        self.query_one("#merge-detail").border_title = "selected cell"

    def show(self, checked: Checked, *, cut: bool) -> None:
        """Draw `checked`; `cut` shortens the names further (a narrow screen)."""
        report = checked.report
        table = self.query_one(DataTable)
        row, column = table.cursor_coordinate
        was = self._selected_name()
        self.checked = checked
        table.clear(columns=True)
        names = [b.name for b in report.branches]
        prefix = _common_prefix([*names, *checked.left_out])
        self.query_one("#matrix").border_title = f"Conflict matrix — branches {prefix}…" if prefix \
            else "Conflict matrix"
        short = _short_names([*names, *checked.left_out], prefix, cut=cut)
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

    def clear(self) -> None:
        """No check (it failed, or the merge took the branches): nothing stale stays."""
        self.checked = None
        self.query_one(DataTable).clear(columns=True)
        self.query_one("#merge-cell", Static).update("")
        self.query_one("#matrix").border_title = "Conflict matrix"
        self.query_one("#merge-detail").border_title = "selected cell"

    def on_data_table_cell_highlighted(self, _event: DataTable.CellHighlighted) -> None:
        self._detail()

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


def _skipped_row(name: str, why: str, branches: int) -> tuple[Text, ...]:
    """A skipped branch stays listed (dim) so `k` can bring it back; it has no pairs."""
    return (Text(name, SKIPPED), Text("—", SKIPPED), Text("skipped", SKIPPED),
            *(Text("—", SKIPPED) for _ in range(branches)),
            Text(f"skipped: {why}" if why else "skipped", SKIPPED))


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

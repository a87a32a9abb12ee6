"""Which files each part of an offline plan names, read off the task's ranking of the repo.

A part modifies the top-ranked files of its area (a handful, not a spread: a file must
score at least half the best one's fused score), and a part that adds something puts its
new file beside the most relevant existing one, named the repo's way: tests beside the
test that covers the code being changed, in the repo's test-file pattern; docs beside the
most relevant page, in its format. Only with nothing ranked does a part fall back to the
repo's conventional folders (`Layout`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from engine.analysis.languages import SOURCE_EXTENSION, language_of
from engine.analysis.layout import Layout, area_of, covering_tests, naming_of_tests, new_test_path
from engine.analysis.localize import Ranked, rank
from engine.analysis.localize_index import FileIndex
from engine.core.models import FileReason

MAX_PLAN_FILES = 8
"""A one-change plan names at most this many files: a focused plan, not a spread."""
SIDE_FILES = 2
"""Files the tests part and the docs part each name at most: one to change, one new."""
CUTOFF = 0.5
_CODE_EXTS = frozenset(SOURCE_EXTENSION.values()) | {".tsx", ".jsx", ".vue", ".svelte", ".pyi", ".mjs",
                                                    ".c", ".h", ".cc", ".cpp", ".hpp", ".swift", ".scala"}
_DOC_EXTS = frozenset({".md", ".rst", ".txt", ".adoc", ".mdx"})


def is_code(path: str) -> bool:
    return PurePosixPath(path).suffix.lower() in _CODE_EXTS or language_of(path) == "Shell"


def is_page(path: str) -> bool:
    return PurePosixPath(path).suffix.lower() in _DOC_EXTS


@dataclass(slots=True)
class PartFiles:
    modify: list[str] = field(default_factory=list)
    create: list[str] = field(default_factory=list)
    reasons: list[FileReason] = field(default_factory=list)


@dataclass(slots=True, kw_only=True)
class FilePicker:
    """Hands out files part by part; a file (or a folder, `dir/`) goes to the first part that takes it."""

    index: FileIndex
    files: Sequence[str]
    layout: Layout
    head: str
    claimed: set[str] = field(default_factory=set)
    _file_set: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        self._file_set = frozenset(self.files)

    def ranking(self, query: str) -> list[Ranked]:
        return rank(self.index, query, focus=[self.head] if self.head else [], limit=80,
                    within=self._file_set)

    def main(self, query: str, area: str | None, stem: str, *, creative: bool, limit: int) -> PartFiles:
        """The part's existing files of its area (code first), best first; a new file beside the
        best when the task adds something. `limit` counts both."""
        wanted = (area,) if area else ("backend", "frontend")
        found = [r for r in self.ranking(query) if area_of(r.path) in wanted and self._free(r.path)]
        if any(is_code(r.path) for r in found):
            found = [r for r in found if is_code(r.path)]
        if area is not None and any(r.focused for r in found[:10]):
            found = [r for r in found if r.focused]  # a layer of a named feature: its head word decides
        room = max(1, limit - 1) if creative else max(1, limit)
        chosen = [r for r in found if r.score >= CUTOFF * found[0].score][:room] if found else []
        out = PartFiles(modify=[r.path for r in chosen],
                        reasons=[FileReason(path=r.path, rank=r.rank, terms=r.words, why=r.reason())
                                 for r in chosen])
        if creative or not chosen:
            anchor = chosen[0].path if chosen else (found[0].path if found else None)
            self._add_new(out, self.layout.new_file(area, stem), anchor)
        self.claimed.update(out.modify + out.create)
        return out

    def tests(self, sources: Sequence[str], query: str, stem: str, *, creative: bool) -> PartFiles:
        """The tests covering the changed code (by the repo's test naming), and a new one beside them."""
        test_files = [f for f in self.files if area_of(f) == "tests" and is_code(f)]
        out = PartFiles()
        for source in sources:
            for test in covering_tests(source, test_files):
                if self._free(test) and test not in out.modify:
                    out.modify.append(test)
                    out.reasons.append(FileReason(path=test, rank=None, why=f"covers {source}"))
                    break
        ranked = [r for r in self.ranking(query)
                  if area_of(r.path) == "tests" and is_code(r.path) and self._about(r)]
        if not out.modify and ranked and self._free(ranked[0].path):
            top = ranked[0]
            out.modify.append(top.path)
            out.reasons.append(FileReason(path=top.path, rank=top.rank, terms=top.words, why=top.reason()))
        out.modify = out.modify[:1]
        out.reasons = out.reasons[:1]
        if creative or not out.modify:
            anchor = out.modify[0] if out.modify else (ranked[0].path if ranked else None)
            style = naming_of_tests(test_files)
            folder = str(PurePosixPath(anchor).parent) if anchor else self.layout.dirs["tests"]
            ext = PurePosixPath(anchor).suffix if anchor else self.layout.source_ext
            self._add_new(out, new_test_path(folder, stem.replace("-", "_"), style, ext), None,
                          why=f"new test in {folder or 'the root'}/, named like the repo's {style} tests")
        self.claimed.update(out.modify + out.create)
        return out

    def docs(self, query: str, stem: str, *, creative: bool) -> PartFiles:
        """The most relevant existing page, and a new page beside it in its format."""
        ranked = [r for r in self.ranking(query)
                  if area_of(r.path) == "docs" and is_page(r.path) and self._about(r) and self._free(r.path)]
        out = PartFiles(modify=[r.path for r in ranked[:1]],
                        reasons=[FileReason(path=r.path, rank=r.rank, terms=r.words, why=r.reason())
                                 for r in ranked[:1]])
        if creative or not out.modify:
            anchor = ranked[0].path if ranked else None
            self._add_new(out, self.layout.new_file("docs", stem), anchor)
        self.claimed.update(out.modify + out.create)
        return out

    def _add_new(self, out: PartFiles, conventional: str, anchor: str | None, why: str = "") -> None:
        """A new file: `conventional`'s name moved beside `anchor` (in the anchor's language), or
        `conventional` itself with no anchor; numbered when the name is taken."""
        path = PurePosixPath(conventional)
        if anchor is not None:
            folder = PurePosixPath(anchor).parent
            suffix = PurePosixPath(anchor).suffix
            keep = suffix if suffix in _CODE_EXTS or area_of(anchor) == "docs" else path.suffix
            path = folder / f"{path.stem}{keep}"
            why = why or f"new, beside {anchor}"
        for n in range(1, 10):
            candidate = str(path if n == 1 else path.with_name(f"{path.stem}_{n}{path.suffix}"))
            if candidate not in self._file_set and self._free(candidate):
                out.create.append(candidate)
                out.reasons.append(FileReason(path=candidate, rank=None,
                                              why=why or "new, in the repo's folder for it"))
                return

    def _about(self, ranked: Ranked) -> bool:
        """A test or page found by words (not by a covered source) must match the subject's head
        word when there is one: "user authentication" tests are not `test_users.py`."""
        return ranked.focused if self.head else bool(ranked.words)

    def _free(self, path: str) -> bool:
        """Not claimed, and not inside a folder (`dir/`) another part owns."""
        return path not in self.claimed and not any(
            c.endswith("/") and path.startswith(c) for c in self.claimed)

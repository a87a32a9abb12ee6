"""Which files each part of an offline plan names, read off the task's ranking of the repo.

A part modifies what the ranking names (files the repo changes often lifted a little): the
top file, the next ones that score at least half as well, and the files near the top of the
ranking that the repo's history changes together with the top one (the second and third file
of a real change are rarely found by words alone, and the history alone names too many). Every
text file the repo changes in practice can be named (templates, stylesheets, config), not only
code. Tests go where the repo keeps that code's tests, in its naming (the existing test module
is modified), with the tests the history changes together with the top file; docs only where
the repo has docs, in its format; a changelog entry the way the repo records them, of the type
its recent entries take (`engine.analysis.conventions`). A new module is proposed only when the
task asks for one, beside the file it belongs with.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import PurePosixPath

from engine.analysis.cochange import MIN_WINDOW, History
from engine.analysis.conventions import RepoConventions
from engine.analysis.languages import SOURCE_EXTENSION, language_of
from engine.analysis.layout import Layout, area_of
from engine.analysis.localize import Ranked, rank
from engine.analysis.localize_index import FileIndex
from engine.core.models import FileReason

MAX_PLAN_FILES = 8
"""A plan names at most this many files: a focused plan, not a spread."""
MAX_SOURCES = 4
"""Source files one part names: the top file, its close rivals and its history partners."""
CUTOFF = 0.35
"""A rival the history ties to the top file is kept from this share of the top's score …"""
RIVAL = 0.5
"""… one the history does not tie to it only from this share: on its words alone a lower file
is rarely part of the change (about one in five on the tuning histories)."""
NEAR = 10
SUPPORT = 0.2
"""A file in the ranking's first NEAR places that changed with the top file in at least SUPPORT
of the top file's commits is planned with it (code, tests, pages): the ranking and the history
agreeing was right for 31–41 % of such files on the tuning histories, either alone for 5–20 %."""
LIVELY = 0.25
"""Each doubling of a file's recent commits lifts its ranking score by this share."""
TOLD = 30
"""A history partner of the top file joins only when the task's ranking places it this high:
one the task's words do not reach at all was part of the change in 1 of 32 tuning plans."""
PARTNERS = 2
PARTNER_SHARE = 0.3
"""A history partner changed together with the top file in at least this share of its commits."""
_CODE_EXTS = frozenset(SOURCE_EXTENSION.values()) | {".tsx", ".jsx", ".vue", ".svelte", ".pyi", ".mjs",
                                                    ".c", ".h", ".cc", ".cpp", ".hpp", ".swift", ".scala"}
_PAGE_EXTS = frozenset({".html", ".jinja", ".j2", ".css", ".scss", ".less", ".tmpl", ".gotmpl"})
_DOC_EXTS = frozenset({".md", ".rst", ".txt", ".adoc", ".mdx"})
_NOT_WORK = ("changelog", "changes.", "history.", "news", "license", "authors", ".lock", "lock.json",
             "lock.yaml", "go.sum")


def is_code(path: str) -> bool:
    return PurePosixPath(path).suffix.lower() in _CODE_EXTS or language_of(path) == "Shell"


def is_page(path: str) -> bool:
    return PurePosixPath(path).suffix.lower() in _DOC_EXTS


@dataclass(slots=True)
class PartFiles:
    modify: list[str] = field(default_factory=list)
    create: list[str] = field(default_factory=list)
    reasons: list[FileReason] = field(default_factory=list)

    def count(self) -> int:
        return len(self.modify) + len(self.create)

    def add(self, path: str, why: str, *, new: bool = False, ranked: Ranked | None = None) -> None:
        (self.create if new else self.modify).append(path)
        self.reasons.append(FileReason(path=path, rank=ranked.rank if ranked else None,
                                       terms=ranked.words if ranked else (), why=why))


@dataclass(slots=True, kw_only=True)
class FilePicker:
    """Hands out files part by part; a file (or a folder, `dir/`) goes to the first part that takes it."""

    index: FileIndex
    files: Sequence[str]
    layout: Layout
    head: str
    conventions: RepoConventions = field(default_factory=RepoConventions)
    history: History | None = None
    claimed: set[str] = field(default_factory=set)
    _file_set: frozenset[str] = frozenset()
    _work_exts: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        self._file_set = frozenset(self.files)
        changed = self.history.changes if self.history is not None else {}
        self._work_exts = _CODE_EXTS | _PAGE_EXTS | frozenset(
            PurePosixPath(p).suffix.lower() for p in changed if _is_work(p) and PurePosixPath(p).suffix)

    def ranking(self, query: str) -> list[Ranked]:
        """The task's ranking, files the repo changes often nudged up (by LIVELY per doubling of
        their recent commits): of two files the words rank alike, the one in use is more likely
        the one to change."""
        found = rank(self.index, query, focus=[self.head] if self.head else [], limit=80,
                     within=self._file_set)
        history = self.history
        if history is None:
            return found
        lifted = [replace(r, score=round(r.score * (1 + LIVELY * math.log2(1 + history.changes[r.path])), 4))
                  for r in found]
        lifted.sort(key=lambda r: (-r.score, r.rank))
        return [replace(r, rank=i) for i, r in enumerate(lifted, 1)]

    def top_source(self, query: str, area: str | None = None) -> str | None:
        """The work file the ranking names first for `query` (in `area` when given), claimed or not."""
        wanted = (area,) if area else ("backend", "frontend")
        found = (r.path for r in self.ranking(query)
                 if area_of(r.path) in wanted and self._is_work_file(r.path))
        return next(found, None)

    def take(self, out: PartFiles, path: str, why: str) -> None:
        """An existing file chosen by a rule rather than by the part's ranking, when still free."""
        if path in self._file_set and self._free(path):
            out.add(path, why)
            self.claimed.add(path)

    def sources(self, query: str, area: str | None, limit: int) -> tuple[PartFiles, list[Ranked]]:
        """The part's files to change: the top-ranked work file, its close rivals, and the files the
        repo's history changes with it; also the ranking, for what follows."""
        ranking = self.ranking(query)
        wanted = (area,) if area else ("backend", "frontend")
        found = [r for r in ranking if area_of(r.path) in wanted and self._is_work_file(r.path)
                 and self._free(r.path)]
        if area is not None and any(r.focused for r in found[:10]):
            found = [r for r in found if r.focused]  # a layer of a named feature: its head word decides
        out = PartFiles()
        if not found:
            return out, ranking
        top = found[0]
        out.add(top.path, top.reason(), ranked=top)
        place = {r.path: i for i, r in enumerate(ranking)}
        for partner in [p for p in self._partners(top.path) if place.get(p, TOLD) < TOLD][:PARTNERS]:
            if out.count() < limit:
                out.add(partner, f"changed together with {top.path} in the repo's history")
        for r in found[1:]:
            if out.count() >= limit:
                break
            if r.path not in out.modify and self._rival(top, r, place[r.path]):
                out.add(r.path, r.reason(), ranked=r)
        self.claimed.update(out.modify)
        return out, ranking

    def new_module(self, out: PartFiles, stem: str, area: str | None, ranking: Sequence[Ranked]) -> None:
        """A new file the task asks for, beside the file it belongs with, named after the subject."""
        wanted = (area,) if area else ("backend", "frontend")
        anchor = out.modify[0] if out.modify else next(
            (r.path for r in ranking if is_code(r.path) and area_of(r.path) in wanted), None)
        conventional = PurePosixPath(self.layout.new_file(area, stem))
        path = PurePosixPath(anchor).parent / f"{conventional.stem}{PurePosixPath(anchor).suffix}" \
            if anchor else conventional
        if str(path) not in self._file_set and self._free(str(path)):
            why = f"new, beside {anchor}" if anchor else "new, in the repo's main folder"
            out.add(str(path), why, new=True)
            self.claimed.add(str(path))

    def tests(self, out: PartFiles, sources: Sequence[str], *, create: bool, limit: int) -> None:
        """The test modules of the changed code, where the repo keeps them; a new one only when the
        task asks for tests and the code has none."""
        for i, source in enumerate(sources):
            if out.count() >= limit:
                return
            path, exists = self.conventions.test_for(source, self.files)
            if not path or not self._free(path) or path in out.modify or path in out.create:
                continue
            if exists and (i == 0 or self._untold(source) or self._changes_with(source, path)):
                out.add(path, f"covers {source}")
            elif exists:
                continue
            elif (create and self.conventions.has_tests and PurePosixPath(source).suffix
                  and self._tested_like(source)):
                out.add(path, f"new tests for {source}, named like the repo's tests", new=True)
            else:
                continue
            self.claimed.add(path)
            create = False  # one new test module per part at most

    def docs(self, out: PartFiles, ranking: Sequence[Ranked], stem: str, *, create: bool) -> None:
        """The most relevant page of the repo's docs folder, in its format; a new page there only
        when none is about the task and `create` (the task asks for docs). Nothing when the repo
        has no docs folder."""
        conv = self.conventions
        if not conv.docs_dir:
            return
        pages = [r for r in ranking if r.path.startswith(f"{conv.docs_dir}/") and is_page(r.path)
                 and (not conv.docs_ext or r.path.endswith(conv.docs_ext)) and r.words and self._free(r.path)]
        if pages:
            out.add(pages[0].path, pages[0].reason(), ranked=pages[0])
            self.claimed.add(pages[0].path)
            return
        path = f"{conv.docs_dir}/{stem}{conv.docs_ext or '.md'}"
        if create and path not in self._file_set and self._free(path):
            out.add(path, f"new page in {conv.docs_dir}/, the repo's docs", new=True)
            self.claimed.add(path)

    def changelog(self, out: PartFiles, name: str, verb: str, issue: str = "") -> None:
        """A changelog entry as the repo records them: a new fragment (named after the task's issue
        number when the repo names fragments that way), or its changelog file."""
        conv = self.conventions
        recent = [p for p in self.history.changes if p.startswith(f"{conv.changelog_path}/")] \
            if self.history is not None else []
        fragment = conv.new_fragment(name, verb, self._file_set | self.claimed, issue=issue, recent=recent)
        if fragment is not None:
            out.add(fragment, f"{conv.summary().changelog}, as the repo records changes", new=True)
            self.claimed.add(fragment)
        elif conv.changelog_kind == "file" and self._free(conv.changelog_path):
            out.add(conv.changelog_path, "the repo's changelog")
            self.claimed.add(conv.changelog_path)

    def _tested_like(self, source: str) -> bool:
        """The repo writes tests in `source`'s language: a pytest repo gets no `test_Login.tsx`."""
        ext = self.conventions.test_ext
        return not ext or language_of(f"x{ext}") == language_of(source)

    def coupled(self, a: str, b: str) -> bool:
        """`a` and `b` changed together in most of the rarer one's recent commits."""
        return self.history is not None and self.history.coupled(a, b) > 0

    def related(self, out: PartFiles, ranking: Sequence[Ranked], *, limit: int,
                kinds: tuple[str, ...] = ("tests", "docs")) -> None:
        """Tests and pages the ranking places near the top that the history changes with the part's
        first file: the tests of a change are often not named after its module, and the page
        that documents it is found by the task's words only together with the history."""
        first = out.modify[0] if out.modify else None
        if first is None or self.history is None:
            return
        for r in ranking[:NEAR]:
            if out.count() >= limit:
                return
            if (area_of(r.path) in kinds and self._free(r.path) and r.path not in out.modify
                    and self._changes_with(first, r.path)):
                out.add(r.path, f"{r.reason()}; changed with {first} in the repo's history", ranked=r)
                self.claimed.add(r.path)

    def _untold(self, path: str) -> bool:
        """The repo's history is too short to say what changes with `path`."""
        return self.history is None or self.history.commits < MIN_WINDOW

    def _changes_with(self, path: str, other: str) -> bool:
        """The history changed `other` in at least SUPPORT of `path`'s commits (twice or more)."""
        history = self.history
        return (history is not None and history.neighbours(path)[other] >= 2
                and history.share(path, other) >= SUPPORT)

    def _rival(self, top: Ranked, other: Ranked, place: int) -> bool:
        """Whether a lower-ranked file belongs in the plan with the top one: it scores nearly as
        well, or the repo's history ties it to the top file and the ranking agrees."""
        together = self.history.neighbours(top.path)[other.path] if self.history is not None else 0
        rel = other.score / top.score if top.score else 0.0
        if rel >= RIVAL or (rel >= CUTOFF and together >= 2):
            return True
        return place < NEAR and self._changes_with(top.path, other.path)

    def _partners(self, path: str) -> list[str]:
        """Work files the history changes together with `path`, most often first."""
        history = self.history
        if history is None or not history.changes[path]:
            return []
        base = history.changes[path]
        scored = []
        for (a, b), n in history.together.items():
            if path not in (a, b) or n < 2 or n / base < PARTNER_SHARE:
                continue
            other = b if a == path else a
            if other in self._file_set and self._is_work_file(other) and self._free(other):
                scored.append((-n, other))
        return [p for _, p in sorted(scored)]

    def _is_work_file(self, path: str) -> bool:
        return _is_work(path) and PurePosixPath(path).suffix.lower() in self._work_exts

    def _free(self, path: str) -> bool:
        """Not claimed, and not inside a folder (`dir/`) another part owns."""
        return path not in self.claimed and not any(
            c.endswith("/") and path.startswith(c) for c in self.claimed)


def _is_work(path: str) -> bool:
    """A file a change's own work touches: not a test, page, changelog, lock or licence file."""
    lowered = path.lower()
    name = PurePosixPath(lowered).name
    return (area_of(path) not in ("tests", "docs") and not name.startswith(_NOT_WORK)
            and not lowered.endswith(_NOT_WORK) and "fragments/" not in lowered and not is_page(path)
            and not lowered.startswith((".changeset/", ".changes/", "releasenotes/", "changelog.d/")))

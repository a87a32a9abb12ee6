"""Which files each part of an offline plan names, read off the task's ranking of the repo.

A part modifies what the ranking names (files the repo changes often lifted a little): the
top work file, then the change followed outward from the ranking's first work files (the
ranking's first places, their test modules, the files the history changes with them, the files
the past commits most like the task changed: `engine.analysis.similar`), each
candidate kept when its evidence makes it likely enough (`engine.planning.evidence`), so the
plan's size comes from how well the ranking and the history agree. Every text file the repo
changes in practice can be named (templates, stylesheets, config), not only code. Tests go
where the repo keeps that code's tests, in its naming (the existing test module is modified);
docs only where the repo has docs, in its format; a changelog entry the way the repo records
them, of the type its recent entries take (`engine.analysis.conventions`). A new module is
proposed only when the task asks for one, beside the file it belongs with.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field, replace
from pathlib import PurePosixPath

from engine.analysis.cochange import MIN_WINDOW, History
from engine.analysis.conventions import RepoConventions
from engine.analysis.languages import SOURCE_EXTENSION, language_of
from engine.analysis.layout import Layout, area_of, test_folder_for, test_folders
from engine.analysis.localize import Ranked, query_terms, rank
from engine.analysis.localize_index import FileIndex
from engine.analysis.similar import votes
from engine.core.models import FileReason
from engine.planning.evidence import FOLLOWED, THRESHOLD, Evidence, likelihood

MAX_PLAN_FILES = 8
"""A plan names at most this many files: a focused plan, not a spread."""
NEAR = 10
"""The ranking's first work files whose test modules are candidates."""
SUPPORT = 0.2
"""A later source's test module joins when the history changed it in this share of the source's
commits; a candidate's history partner is named in its reason from this share."""
VOTED = 12
"""The files the past commits most like the task changed that are weighed as candidates."""
SIMILAR = 0.3
"""A candidate's reason names the past commits like the task from this share of their votes
(the best-voted file has 1.0)."""
POOL = 40
"""The ranking's first places weighed as candidates: from its eleventh place on, about one file
in twenty is part of the change."""
RECORDED = 0.25
"""A change to a file gets a changelog entry when the repo recorded one in this share of the
file's recent commits."""
MIN_RECORDED = 3
"""Fewer recent commits of a file say nothing about whether its changes are recorded."""
LIVELY = 0.25
"""Each doubling of a file's recent commits lifts its ranking score by this share."""
_CODE_EXTS = frozenset(SOURCE_EXTENSION.values()) | {".tsx", ".jsx", ".vue", ".svelte", ".pyi", ".mjs",
                                                    ".c", ".h", ".cc", ".cpp", ".hpp", ".swift", ".scala"}
_PAGE_EXTS = frozenset({".html", ".jinja", ".j2", ".css", ".scss", ".less", ".tmpl", ".gotmpl"})
_LOCKS = (".lock", "lock.json", "lock.yaml", "go.sum")
_DOC_EXTS = frozenset({".md", ".rst", ".txt", ".adoc", ".mdx"})
_NOT_WORK = ("changelog", "changes.", "history.", "news", "license", "authors", *_LOCKS)


def is_code(path: str) -> bool:
    return PurePosixPath(path).suffix.lower() in _CODE_EXTS or language_of(path) == "Shell"


def is_page(path: str) -> bool:
    return PurePosixPath(path).suffix.lower() in _DOC_EXTS


@dataclass(frozen=True, slots=True, kw_only=True)
class Candidate:
    path: str
    evidence: Evidence
    likelihood: float
    ranked: Ranked | None
    partner: str = ""
    """A followed file the history changes this one with, for the reason people read."""

    def why(self) -> str:
        why = [self.ranked.reason()] if self.ranked else []
        if self.evidence.tests_rank is not None:
            why.append(f"the test module of the ranking's #{self.evidence.tests_rank}")
        if self.partner:
            why.append(f"changed with {self.partner} in the repo's history")
        if self.evidence.similar >= SIMILAR:
            why.append("changed by the past commits like this task")
        return "; ".join([*why, f"likelihood {self.likelihood:.2f}"])


@dataclass(slots=True)
class PartFiles:
    modify: list[str] = field(default_factory=list)
    create: list[str] = field(default_factory=list)
    reasons: list[FileReason] = field(default_factory=list)

    def count(self) -> int:
        return len(self.modify) + len(self.create)

    def drop_inside(self, folder: str) -> None:
        """Forget the files inside `folder` (`dir/`), which an entry for the folder will own."""
        self.modify = [p for p in self.modify if not p.startswith(folder)]
        self.create = [p for p in self.create if not p.startswith(folder)]
        self.reasons = [r for r in self.reasons if not r.path.startswith(folder)]

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
    _test_folder_names: dict[str, str] | None = None
    _votes: dict[str, dict[str, float]] = field(default_factory=dict)

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

    def follow(self, query: str, area: str | None, limit: int,
               others: AbstractSet[str] = frozenset()) -> tuple[PartFiles, list[Ranked]]:
        """The part's files: the top-ranked work file, then the candidates the evidence makes likely
        enough (`engine.planning.evidence`), most likely first, but none of the areas (`tests`,
        `docs`) another part owns; also the ranking, for what follows. How many comes from the
        evidence, not a fixed cut."""
        ranking = self.ranking(query)
        work = self.work_ranking(ranking, area)
        narrowed = {r.path for r in work} if area is not None and work and work[0].focused else None
        out = PartFiles()
        if not work:
            return out, ranking
        top = work[0]
        out.add(top.path, top.reason(), ranked=top)
        for found in self.weigh(ranking, work, area, self.voted(query)):
            if out.count() >= limit or found.likelihood < THRESHOLD:
                break
            if (found.path != top.path and found.evidence.area not in others
                    and (narrowed is None or not found.evidence.work or found.path in narrowed)):
                out.add(found.path, found.why(), ranked=found.ranked)
        self._locks(out, limit)
        self.claimed.update(out.modify)
        return out, ranking

    def _locks(self, out: PartFiles, limit: int) -> None:
        """The lock file beside a planned manifest (`uv.lock` by `pyproject.toml`), when the
        history changes it in SUPPORT of the manifest's commits: a dependency change rewrites
        both, and only the session that changes the manifest can regenerate its lock."""
        for manifest in list(out.modify):
            if out.count() >= limit:
                return
            folder = PurePosixPath(manifest).parent
            for path, n in (self.history.neighbours(manifest).items() if self.history is not None else ()):
                if (_is_lock(path) and PurePosixPath(path).parent == folder and n >= 2
                        and path in self._file_set and self._free(path) and path not in out.modify
                        and self._share(manifest, path) >= SUPPORT):
                    out.add(path, f"the lock file of {manifest}, changed with it in the repo's history")

    def voted(self, query: str) -> dict[str, float]:
        """The files the history's commits most like `query` changed, with their share of the votes."""
        if self.history is None:
            return {}
        if query not in self._votes:
            focus = [self.head] if self.head else []
            words = [(t.term, t.weight) for t in query_terms(query, focus)]
            self._votes[query] = votes(self.history.past, words)
        return self._votes[query]

    def weigh(self, ranking: Sequence[Ranked], work: Sequence[Ranked], area: str | None,
              voted: Mapping[str, float]) -> list[Candidate]:
        """Every file the change may reach from the ranking's first work files (`work`): the
        ranking's first places, the test modules of its first work files, the files the history
        changes with them, the files past commits like this one changed; each with its evidence
        and likelihood, most likely first."""
        wanted = (area,) if area else ("backend", "frontend")
        followed = [r.path for r in work[:FOLLOWED]]
        place = {r.path: r for r in ranking}
        paths = [r.path for r in ranking[:POOL]]
        tested: dict[str, int] = {}
        for r in ranking[:NEAR]:
            if self._is_work_file(r.path):
                test, exists = self.conventions.test_for(r.path, self.files)
                if exists and test not in tested:
                    tested[test] = r.rank
        paths += list(tested)
        if self.history is not None:
            paths += [p for f in followed for p, n in self.history.neighbours(f).items() if n >= 2]
        paths += list(voted)[:VOTED]
        top = ranking[0].score if ranking and ranking[0].score else 1.0
        out = []
        for path in dict.fromkeys(paths):
            if (path not in self._file_set or not self._free(path)
                    or (_is_record(path) and not _is_lock(path))
                    or (self._is_work_file(path) and area_of(path) not in wanted)):
                continue
            evidence = replace(self._evidence(path, place.get(path), top, followed, tested.get(path)),
                               similar=voted.get(path, 0.0))
            out.append(Candidate(path=path, evidence=evidence, likelihood=likelihood(evidence),
                                 ranked=place.get(path),
                                 partner=next((f for f in followed if self._share(f, path) >= SUPPORT), "")))
        return sorted(out, key=lambda c: -c.likelihood)

    def _evidence(self, path: str, ranked: Ranked | None, top: float, followed: Sequence[str],
                  tests_rank: int | None) -> Evidence:
        base = Evidence(rank=None, area=area_of(path) or "", work=self._is_work_file(path),
                        shares=tuple(self._share(f, path) for f in followed), changes=self._changes(path),
                        tests_rank=tests_rank)
        if ranked is None:
            return base
        return replace(base, rank=ranked.rank, relative=ranked.score / top, named=ranked.named,
                       defines=ranked.defines, focused=ranked.focused, words=len(ranked.words),
                       text=bool(ranked.text_rank))

    def work_ranking(self, ranking: Sequence[Ranked], area: str | None) -> list[Ranked]:
        """The ranking's free work files in the part's area; for a layer of a named feature, those
        its head word names."""
        wanted = (area,) if area else ("backend", "frontend")
        found = [r for r in ranking if area_of(r.path) in wanted and self._is_work_file(r.path)
                 and self._free(r.path)]
        if area is not None and any(r.focused for r in found[:10]):
            found = [r for r in found if r.focused]
        return found

    def _share(self, path: str, other: str) -> float:
        history = self.history
        if history is None or history.neighbours(path)[other] < 2:
            return 0.0
        return history.share(path, other)

    def _changes(self, path: str) -> int:
        return self.history.changes[path] if self.history is not None else 0

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
        """The test modules of the changed code, where the repo keeps them (and the tests folder
        named after it, where the repo keeps tests so); a new one only when the task asks for
        tests and the code has none."""
        for i, source in enumerate(sources):
            if out.count() >= limit:
                return
            if area_of(source) == "tests":
                continue  # a test module the part already changes
            if i == 0 or self._untold(source) or self._folder_changes_with(source):
                self._test_folder(out, source)
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

    def _test_folder(self, out: PartFiles, source: str) -> None:
        """The tests folder named after `source` (`test/integration/targets/copy/`), where the
        repo keeps tests that way (`engine.analysis.layout.test_folders`): owned whole, as the
        ownership rule's folder entry, when no other part owns a file in it."""
        folder = test_folder_for(source, self._folders())
        mine = {*out.modify, *out.create}
        if folder is None or not self._free(folder) or any(
                c.startswith(folder) and c not in mine for c in self.claimed):
            return
        out.drop_inside(folder)  # its files the ranking named: the folder owns them now
        out.add(folder, f"the tests of {source}: the repo keeps them in a folder named after it")
        self.claimed.add(folder)

    def _folders(self) -> dict[str, str]:
        if self._test_folder_names is None:
            self._test_folder_names = test_folders(self.files)
        return self._test_folder_names

    def _folder_changes_with(self, source: str) -> bool:
        """The history changed a file of `source`'s tests folder in SUPPORT of its commits."""
        folder = test_folder_for(source, self._folders())
        history = self.history
        if folder is None or history is None:
            return False
        return any(n >= 2 and history.share(source, p) >= SUPPORT
                   for p, n in history.neighbours(source).items() if p.startswith(folder))

    def docs(self, out: PartFiles, ranking: Sequence[Ranked], stem: str, *, create: bool) -> None:
        """The most relevant page of the repo's docs folder, in its format; a new page there only
        when none is about the task and `create` (the task asks for docs). Nothing when the repo
        has no docs folder."""
        conv = self.conventions
        if not conv.docs_dir or any(p.startswith(f"{conv.docs_dir}/") for p in (*out.modify, *out.create)):
            return  # no docs folder, or the part already changes a page of it
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
        """A changelog entry as the repo records them: a new fragment, or its changelog file.

        A fragment's name is the session's to choose (the pull request's number, the type the
        change turns out to be), so the part's file to create is the fragment folder itself
        (`dir/`, the ownership rule's folder entry: a new file in it): a session whose fragment
        is named otherwise than the suggestion is not refused. The suggested name (after the
        task's issue number when the repo numbers its fragments) is in the reason."""
        conv = self.conventions
        recent = [p for p in self.history.changes if p.startswith(f"{conv.changelog_path}/")] \
            if self.history is not None else []
        fragment = conv.new_fragment(name, verb, self._file_set | self.claimed, issue=issue, recent=recent)
        folder = f"{conv.changelog_path}/"
        if fragment is not None and self._free(folder):
            out.add(folder, f"a new file here: {conv.summary().changelog}, as the repo records changes "
                    f"(e.g. {fragment})", new=True)
            self.claimed.add(folder)
        elif conv.changelog_kind == "file" and self._free(conv.changelog_path):
            out.add(conv.changelog_path, "the repo's changelog")
            self.claimed.add(conv.changelog_path)

    def recorded_with(self, path: str = "") -> bool:
        """The repo records a changelog entry with changes to `path`: in RECORDED of its recent
        commits (a repo that records features and fixes records no CI or tooling change);
        True when `path`'s history is too short to say."""
        history, where = self.history, self.conventions.changelog_path
        if not path or history is None or history.changes[path] < MIN_RECORDED or not where:
            return True
        recorded = sum(n for p, n in history.neighbours(path).items()
                       if p == where or p.startswith(f"{where}/"))
        return recorded >= RECORDED * history.changes[path]

    def _tested_like(self, source: str) -> bool:
        """The repo writes tests in `source`'s language: a pytest repo gets no `test_Login.tsx`."""
        ext = self.conventions.test_ext
        return not ext or language_of(f"x{ext}") == language_of(source)

    def coupled(self, a: str, b: str) -> bool:
        """`a` and `b` changed together in most of the rarer one's recent commits."""
        return self.history is not None and self.history.coupled(a, b) > 0

    def _untold(self, path: str) -> bool:
        """The repo's history is too short to say what changes with `path`."""
        return self.history is None or self.history.commits < MIN_WINDOW

    def _changes_with(self, path: str, other: str) -> bool:
        """The history changed `other` in at least SUPPORT of `path`'s commits (twice or more)."""
        history = self.history
        return (history is not None and history.neighbours(path)[other] >= 2
                and history.share(path, other) >= SUPPORT)

    def _is_work_file(self, path: str) -> bool:
        return _is_work(path) and PurePosixPath(path).suffix.lower() in self._work_exts

    def _free(self, path: str) -> bool:
        """Not claimed, and not inside a folder (`dir/`) another part owns."""
        return path not in self.claimed and not any(
            c.endswith("/") and path.startswith(c) for c in self.claimed)


def _is_lock(path: str) -> bool:
    """A lock file: it changes with its manifest, so the history may bring it into a plan."""
    return PurePosixPath(path.lower()).name.endswith(_LOCKS)


def _is_record(path: str) -> bool:
    """A changelog, its fragments, a lock or licence file: planned by their own rules or never."""
    lowered = path.lower()
    name = PurePosixPath(lowered).name
    return (name.startswith(_NOT_WORK) or lowered.endswith(_NOT_WORK) or "fragments/" in lowered
            or lowered.startswith((".changeset/", ".changes/", "releasenotes/", "changelog.d/")))


def _is_work(path: str) -> bool:
    """A file a change's own work touches: not a test, page, changelog, lock or licence file."""
    return area_of(path) not in ("tests", "docs") and not _is_record(path) and not is_page(path)

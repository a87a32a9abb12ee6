"""Where a repo keeps what a change touches besides its code: tests, docs, changelog entries.

Read from what the repo shows, never a template: the test files it has (their naming, and
whether they sit in a tests folder or beside the code), its docs folder and that folder's
format (or, with none, the module's own docstring), how it records changes (a towncrier
fragment folder from `[tool.towncrier]`, `newsfragments/`, `changelog.d/`, ansible-style
`changelogs/fragments/`, changesets, changie, reno, else the CHANGELOG file), and the test
command when a config file names one. The offline planner places files by it; the plan
carries its summary (`Conventions`) so every agent's prompt repeats the same rules.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from engine.analysis.layout import area_of, covering_tests, name_under_test, naming_of_tests, new_test_path
from engine.core.errors import GitError
from engine.core.models import Conventions
from engine.hosts.gitcli import git

Reader = Callable[[str], str | None]
"""A tracked file's text by path, None when it cannot be read."""

_FRAGMENT_DIRS: tuple[tuple[str, str], ...] = (
    ("changelogs/fragments", "fragments"), (".changeset", "changesets"), (".changes/unreleased", "changie"),
    (".changes", "changie"), ("releasenotes/notes", "reno"), ("newsfragments", "towncrier"),
    ("changelog.d", "towncrier"), ("changes", "towncrier"), ("news", "towncrier"),
)
"""Folders a repo records one file per change in, and what records them that way."""
_CHANGELOG_FILE = re.compile(r"^(changelog|changes|history|news|release[-_]?notes)(\.(md|rst|txt|adoc))?$",
                             re.IGNORECASE)
_NOT_FRAGMENT = re.compile(r"^(readme|template|config)|^\.|\.(j2|jinja|toml|json)$", re.IGNORECASE)
_GENERIC_STEMS = frozenset({"main", "index", "init", "mod", "cli", "app", "utils", "util"})
_PAGE_EXTS = (".md", ".rst", ".adoc", ".mdx")
_NOT_DOCS = frozenset({"changelog.d", "changelogs", "newsfragments", "news", "changes", "releasenotes",
                       "tests", "test", "examples", "example"})
_KIND_WORDS = {"fix": ("bugfix", "fix", "bugfixes", "fixed", "bug"),
               "add": ("feature", "features", "added", "change", "changed", "minor_changes", "minor")}


@dataclass(frozen=True, slots=True, kw_only=True)
class RepoConventions:
    test_style: str = "test_{}"
    test_ext: str = ""
    """How test files are named after their module (`test_{}`, `{}_test`, `{}.test`)."""
    test_dir: str = ""
    """The main tests folder; empty when tests sit beside the code."""
    tests_beside_code: bool = False
    has_tests: bool = False
    docs_dir: str = ""
    docs_ext: str = ""
    docstrings: bool = False
    """No docs folder, Python code: the module's docstring is where it is documented."""
    changelog_kind: str = ""
    """towncrier, fragments, changesets, changie, reno, file, or empty for none."""
    changelog_path: str = ""
    """The fragment folder, or the changelog file."""
    fragment_types: tuple[str, ...] = ()
    fragment_ext: str = ""
    numbered_fragments: bool = False
    """Most fragments are named by an issue number (`1234.bugfix.rst`)."""
    test_command: str = ""

    def summary(self) -> Conventions:
        return Conventions(tests=self._tests_text(), docs=self._docs_text(),
                           changelog=self._changelog_text(), test_command=self.test_command)

    def _tests_text(self) -> str:
        if not self.has_tests:
            return ""
        name = self.test_style.format("<module>") + self.test_ext
        if self.tests_beside_code:
            return f"{name} beside the code it tests"
        return f"{self.test_dir}/{name} (in the subfolder matching the code's)" if self.test_dir else name

    def _docs_text(self) -> str:
        if self.docs_dir:
            return f"{self.docs_dir}/ ({self.docs_ext or 'text'} pages)"
        return "the module's own docstring (no docs folder)" if self.docstrings else ""

    def _changelog_text(self) -> str:
        where = self.changelog_path
        return {"towncrier": f"a towncrier fragment in {where}/ (<name>.<type>{self.fragment_ext})",
                "fragments": f"a changelog fragment in {where}/ (<name>{self.fragment_ext})",
                "changesets": f"a changeset in {where}/ (<name>.md)",
                "changie": f"a changie entry in {where}/",
                "reno": f"a reno note in {where}/ (<name>.yaml)",
                "file": f"an entry in {where}"}.get(self.changelog_kind, "")

    def new_fragment(self, name: str, verb: str, taken: Iterable[str] = (), *, issue: str = "",
                     recent: Iterable[str] = ()) -> str | None:
        """The path of a new changelog fragment for a change named `name` (or numbered `issue`
        where the repo numbers its fragments), or None when the repo records changes in one file
        (or not at all). `recent` are fragment paths the history added: their commonest type is
        the one a change takes when no type is named after its kind."""
        if self.changelog_kind in ("", "file"):
            return None
        ext = self.fragment_ext or (".yaml" if self.changelog_kind in ("reno", "changie") else ".md")
        stem = issue if issue and self.numbered_fragments else name.replace("_", "-")
        if self.changelog_kind == "towncrier":
            stem = f"{stem}.{self._fragment_type(verb, recent)}"
        path = f"{self.changelog_path}/{stem}{ext}"
        used = set(taken)
        return path if path not in used else f"{self.changelog_path}/{stem}-2{ext}"

    def _fragment_type(self, verb: str, recent: Iterable[str] = ()) -> str:
        wanted = _KIND_WORDS["fix" if verb == "fix" else "add"]
        names = [PurePosixPath(p).name for p in recent]
        used = Counter(n.split(".")[1] for n in names if n.count(".") >= 2)
        known = self.fragment_types
        usual = next((t for t, _ in used.most_common() if t in known or not known), "")
        return next((t for w in wanted for t in self.fragment_types if t == w), None) or usual \
            or (self.fragment_types[0] if self.fragment_types else ("bugfix" if verb == "fix" else "feature"))

    def test_for(self, source: str, files: Sequence[str]) -> tuple[str, bool]:
        """(path, exists) of the test module for `source`: the existing one named after it, else a
        new one where the repo keeps tests, in its naming."""
        tests = [f for f in files if area_of(f) == "tests"]
        found = covering_tests(source, tests)
        if found:
            return found[0], True
        pure = PurePosixPath(source)
        stem = pure.name.split(".")[0]
        if stem.strip("_").lower() in _GENERIC_STEMS:
            return "", False  # `main.py`, `index.ts`: a test named after it says nothing
        if self.tests_beside_code or not self.test_dir:
            return new_test_path(str(pure.parent), stem, self.test_style, pure.suffix), False
        return new_test_path(_mirror_folder(source, tests, self.test_dir), stem, self.test_style,
                             pure.suffix), False


def detect(files: Sequence[str], read: Reader) -> RepoConventions:
    """The repo's conventions from its file list and a few config files' text."""
    tests = [f for f in files if area_of(f) == "tests" and name_under_test(f)]
    beside = _tests_beside_code(tests, set(files))
    docs_dir, docs_ext = _docs(files)
    kind, where, types, ext = _changelog(files, read)
    return RepoConventions(
        test_style=naming_of_tests(tests), test_ext=_commonest(PurePosixPath(t).suffix for t in tests),
        test_dir="" if beside else _main_test_dir(tests),
        tests_beside_code=beside, has_tests=bool(tests), docs_dir=docs_dir, docs_ext=docs_ext,
        docstrings=not docs_dir and any(f.endswith(".py") for f in files),
        changelog_kind=kind, changelog_path=where, fragment_types=types, fragment_ext=ext,
        numbered_fragments=_numbered(files, where) if kind not in ("", "file") else False,
        test_command=_test_command(files, read))


def conventions_at(root: Path, commit: str, files: Sequence[str]) -> RepoConventions:
    """`detect` on a commit's tree, reading config files from git's objects (no checkout)."""

    def read(path: str) -> str | None:
        try:
            return git(root, "cat-file", "-p", f"{commit}:{path}")
        except GitError:
            return None

    return detect(files, read)


def conventions_in(root: Path, files: Sequence[str]) -> RepoConventions:
    """`detect` on a work tree, reading config files from disk (what the person has now)."""

    def read(path: str) -> str | None:
        try:
            return (root / path).read_text(encoding="utf-8", errors="replace")
        except OSError:
            return None

    return detect(files, read)


def _tests_beside_code(tests: Sequence[str], files: set[str]) -> bool:
    """Most test files share their folder with the module they test (`x_test.go`, `x.test.ts`)."""
    if not tests:
        return False
    beside = 0
    for test in tests:
        named = name_under_test(test)
        pure = PurePosixPath(test)
        if named and any(str(pure.parent / f"{named[1]}{ext}") in files
                         for ext in (pure.suffix, ".ts", ".tsx", ".js", ".go", ".py")):
            beside += 1
    return beside * 2 > len(tests)


def _commonest(items: Iterable[str]) -> str:
    counts = Counter(items)
    return counts.most_common(1)[0][0] if counts else ""


def _main_test_dir(tests: Sequence[str]) -> str:
    counts = Counter(_tests_root(t) for t in tests)
    return counts.most_common(1)[0][0] if counts else ""


def _tests_root(path: str) -> str:
    parts = PurePosixPath(path).parts[:-1]
    for depth, part in enumerate(parts):
        if part.lower() in ("tests", "test", "__tests__", "spec", "testing"):
            return "/".join(parts[: depth + 1])
    return "/".join(parts)


def _mirror_folder(source: str, tests: Sequence[str], test_dir: str) -> str:
    """The tests folder whose path shares most folder names with `source`'s."""
    wanted = set(PurePosixPath(source).parts[:-1])
    folders = {str(PurePosixPath(t).parent) for t in tests if t.startswith(f"{test_dir}/")}
    best = max(sorted(folders), key=lambda f: (len(wanted & set(PurePosixPath(f).parts)), -len(f)),
               default=test_dir)
    return best if wanted & set(PurePosixPath(best).parts) else test_dir


def _docs(files: Sequence[str]) -> tuple[str, str]:
    """The top folder holding the repo's pages (`docs/`, `doc/`, or any folder of mostly .md/.rst
    pages, like `manual/`), and its commonest page format."""
    pages: Counter[str] = Counter()
    others: Counter[str] = Counter()
    for path in files:
        parts = PurePosixPath(path).parts
        if len(parts) < 2 or parts[0].startswith("."):
            continue
        (pages if PurePosixPath(path).suffix in _PAGE_EXTS else others)[parts[0]] += 1
    named = [f for f in pages if f.lower() in ("docs", "doc", "documentation")]
    mostly = [f for f in pages if pages[f] >= 3 and pages[f] >= 4 * others[f]
              and f.lower() not in _NOT_DOCS]
    candidates = named or mostly
    if not candidates:
        return "", ""
    folder = max(candidates, key=lambda f: (pages[f], f))
    exts = Counter(PurePosixPath(f).suffix for f in files
                   if f.startswith(f"{folder}/") and PurePosixPath(f).suffix in _PAGE_EXTS)
    return folder, exts.most_common(1)[0][0] if exts else ""


def _changelog(files: Sequence[str], read: Reader) -> tuple[str, str, tuple[str, ...], str]:
    """(kind, folder or file, towncrier types, fragment extension)."""
    towncrier = _towncrier(files, read)
    if towncrier is not None:
        where, types, _ = towncrier
        ext = _fragment_ext(files, where) or PurePosixPath(towncrier[2]).suffix
        return "towncrier", where, types or _types_in(files, where), ext
    folders = {str(PurePosixPath(f).parent) for f in files}
    for folder, kind in _FRAGMENT_DIRS:
        if folder not in folders:
            continue
        if kind == "towncrier" and folder in ("changes", "news") and not _towncrier_names(files, folder):
            continue
        types = _types_in(files, folder) if kind == "towncrier" else ()
        return kind, folder, types, _fragment_ext(files, folder)
    top = sorted((f for f in files if _CHANGELOG_FILE.match(PurePosixPath(f).name)),
                 key=lambda f: (f.count("/"), not PurePosixPath(f).name.lower().startswith("changelog"), f))
    return ("file", top[0], (), "") if top else ("", "", (), "")


def _towncrier(files: Sequence[str], read: Reader) -> tuple[str, tuple[str, ...], str] | None:
    """The fragment folder and types `[tool.towncrier]` (pyproject.toml or towncrier.toml) names."""
    for name, table in (("pyproject.toml", ("tool", "towncrier")), ("towncrier.toml", ("tool", "towncrier"))):
        if name not in files:
            continue
        try:
            config = tomllib.loads(read(name) or "")
        except tomllib.TOMLDecodeError:
            continue
        section: object = config
        for key in table:
            section = section.get(key, {}) if isinstance(section, dict) else {}
        if not isinstance(section, dict) or not section:
            continue
        directory = section.get("directory")
        if not isinstance(directory, str):  # towncrier's default: newsfragments/ in the package
            package_dir = section.get("package_dir", ".")
            package = PurePosixPath(package_dir if isinstance(package_dir, str) else ".")
            directory = str(package / str(section.get("package", "")) / "newsfragments")
        raw = section.get("type", [])
        types = tuple(t["directory"] for t in (raw if isinstance(raw, list) else ())
                      if isinstance(t, dict) and isinstance(t.get("directory"), str))
        filename = section.get("filename", "NEWS.rst")
        return str(PurePosixPath(directory)), types, filename if isinstance(filename, str) else ""
    return None


def _numbered(files: Sequence[str], folder: str) -> bool:
    names = [PurePosixPath(f).name for f in files if str(PurePosixPath(f).parent) == folder
             and not _NOT_FRAGMENT.search(PurePosixPath(f).name)]
    return bool(names) and sum(n.split(".")[0].split("-")[0].isdigit() for n in names) * 2 > len(names)


def _towncrier_names(files: Sequence[str], folder: str) -> list[str]:
    return [f for f in files if str(PurePosixPath(f).parent) == folder
            and re.match(r"^[^.]+\.[a-z_]+(\.\d+)?(\.(md|rst|txt))?$", PurePosixPath(f).name)]


def _types_in(files: Sequence[str], folder: str) -> tuple[str, ...]:
    counts = Counter(PurePosixPath(f).name.split(".")[1] for f in _towncrier_names(files, folder))
    return tuple(t for t, _ in counts.most_common())


def _fragment_ext(files: Sequence[str], folder: str) -> str:
    names = [PurePosixPath(f) for f in files if str(PurePosixPath(f).parent) == folder
             and not _NOT_FRAGMENT.search(PurePosixPath(f).name)]
    counts = Counter(p.suffix for p in names if p.suffix in (".md", ".rst", ".txt", ".yml", ".yaml"))
    return counts.most_common(1)[0][0] if counts else ""


def _test_command(files: Sequence[str], read: Reader) -> str:
    """The test command a config file names: a Makefile `test` target, package.json's test script,
    pytest's config, go.mod, Cargo.toml; empty when none says."""
    present = set(files)
    if "Makefile" in present and re.search(r"^test:", read("Makefile") or "", re.MULTILINE):
        return "make test"
    if "package.json" in present:
        try:
            scripts = json.loads(read("package.json") or "{}").get("scripts", {})
        except (json.JSONDecodeError, AttributeError):
            scripts = {}
        if isinstance(scripts, dict) and "test" in scripts:
            runner = "pnpm" if "pnpm-lock.yaml" in present else "yarn" if "yarn.lock" in present else "npm"
            return f"{runner} test"
    pyproject = read("pyproject.toml") if "pyproject.toml" in present else None
    if "pytest.ini" in present or "[tool.pytest" in (pyproject or ""):
        return "pytest"
    if "tox.ini" in present and "[pytest]" in (read("tox.ini") or ""):
        return "pytest"
    if "go.mod" in present:
        return "go test ./..."
    if "Cargo.toml" in present:
        return "cargo test"
    return ""

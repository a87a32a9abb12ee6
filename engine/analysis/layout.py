"""Where things live in a repo: its backend, frontend, tests and docs folders, and the
file names a new piece of each should get. Used by the offline planner to propose real
paths that fit the repo's conventions instead of generic ones.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath

from engine.analysis.languages import SOURCE_EXTENSION
from engine.core.models import RepoProfile

AREA_DIRS: dict[str, tuple[str, ...]] = {
    "frontend": ("components", "pages", "ui", "frontend", "web", "client", "views"),
    "backend": ("api", "routes", "controllers", "server", "backend", "services"),
    "tests": ("tests", "test", "__tests__", "spec", "testing"),
    "docs": ("docs", "doc"),
}


@dataclass(frozen=True, slots=True, kw_only=True)
class Layout:
    language: str
    source_ext: str
    frontend_ext: str
    """.tsx / .jsx / .vue when the repo has such files, else .html."""
    main_dir: str
    """The biggest module: where plain feature code goes."""
    dirs: dict[str, str]
    """Area → the existing folder for it (or the conventional default)."""

    def new_file(self, area: str | None, stem: str) -> str:
        """A path for a new file of this area named after `stem`."""
        name = stem.replace("-", "_")
        if area == "frontend":
            if self.frontend_ext in (".tsx", ".jsx", ".vue"):
                name = "".join(w.capitalize() for w in name.split("_"))  # React/Vue style
            return f"{self.dirs['frontend']}/{name}{self.frontend_ext}"
        if area == "tests":
            return f"{self.dirs['tests']}/{test_file_name(name, self.language, self.source_ext)}"
        if area == "docs":
            return f"{self.dirs['docs']}/{stem}.md"
        folder = self.dirs["backend"] if area == "backend" else self.main_dir
        return f"{folder}/{name}{self.source_ext}"


def test_file_name(name: str, language: str, ext: str) -> str:
    if language in ("TypeScript", "JavaScript"):
        return f"{name}.test{ext}"
    if language == "Go":
        return f"{name}_test.go"
    return f"test_{name}{ext}"


def read_layout(profile: RepoProfile, files: Sequence[str]) -> Layout:
    language = next((g.name for g in profile.languages if g.name in SOURCE_EXTENSION), "Python")
    main_dir = profile.modules[0].path if profile.modules else "src"
    dirs = {area: find_dir(files, names) or default for area, names, default in (
        ("frontend", AREA_DIRS["frontend"], "frontend"),
        ("backend", AREA_DIRS["backend"], main_dir),
        ("tests", AREA_DIRS["tests"], "tests"),
        ("docs", AREA_DIRS["docs"], "docs"),
    )}
    present = {g.name for g in profile.languages}
    frontend_ext = next((ext for lang, ext in (("TypeScript", ".tsx"), ("JavaScript", ".jsx"),
                                               ("Vue", ".vue")) if lang in present), ".html")
    return Layout(language=language, source_ext=SOURCE_EXTENSION.get(language, ".py"),
                  frontend_ext=frontend_ext, main_dir=main_dir, dirs=dirs)


def find_dir(files: Sequence[str], names: Sequence[str]) -> str | None:
    """The shallowest existing folder whose name is one of `names`, in `names` order."""
    best: dict[str, str] = {}
    for path in files:
        parts = PurePosixPath(path).parts[:-1]
        for depth, part in enumerate(parts[:4]):
            if part in names:
                folder = "/".join(parts[: depth + 1])
                if part not in best or len(folder) < len(best[part]):
                    best[part] = folder
                break
    return next((best[n] for n in names if n in best), None)


def area_of(path: str) -> str | None:
    """Which area a path sits in, by folder name or file name."""
    lowered = path.lower()
    parts = PurePosixPath(lowered).parts
    name = parts[-1] if parts else ""
    if any(p in AREA_DIRS["tests"] for p in parts) or ".test." in name or ".spec." in name \
            or name.startswith("test_") or name.endswith("_test.go"):
        return "tests"
    if any(p in AREA_DIRS["docs"] for p in parts[:-1]) or name.endswith((".md", ".rst")):
        return "docs"
    if any(p in AREA_DIRS["frontend"] for p in parts[:-1]) or name.endswith(
            (".tsx", ".jsx", ".vue", ".svelte", ".css", ".scss", ".html")):
        return "frontend"
    return "backend"


TEST_STYLES: dict[str, re.Pattern[str]] = {
    "test_{}": re.compile(r"^test_(.+)$"), "{}_test": re.compile(r"^(.+)_test$"),
    "{}.test": re.compile(r"^(.+)\.test$"), "{}.spec": re.compile(r"^(.+)\.spec$"),
    "{}_spec": re.compile(r"^(.+)_spec$"), "{}_tests": re.compile(r"^(.+)_tests$"),
    "{}Test": re.compile(r"^(.+[a-z0-9])Tests?$"),
}
"""How a repo names a test file after what it tests, and how to read the name back."""


def name_under_test(path: str) -> tuple[str, str] | None:
    """(style, the name it tests) when `path` is named like a test file, else None."""
    stem = PurePosixPath(path).name.split(".")[0] if ".test." in path or ".spec." in path \
        else PurePosixPath(path).stem
    full = PurePosixPath(path).name.rsplit(".", 1)[0]
    for style, pattern in TEST_STYLES.items():
        if match := pattern.match(full if style in ("{}.test", "{}.spec") else stem):
            return style, match.group(1)
    return None


def naming_of_tests(files: Iterable[str]) -> str:
    """The repo's most common test-file naming, `test_{}` when it has no tests yet."""
    styles = Counter(found[0] for f in files if area_of(f) == "tests" and (found := name_under_test(f)))
    return styles.most_common(1)[0][0] if styles else "test_{}"


def new_test_path(folder: str, name: str, style: str, ext: str) -> str:
    stem = "".join(w.capitalize() for w in name.split("_")) if style == "{}Test" else name
    name = f"{style.format(stem)}{ext}"
    return name if folder in ("", ".") else f"{folder}/{name}"


def covering_tests(path: str, files: Iterable[str]) -> list[str]:
    """Test files named after `path`'s module (`cache/store.py` → `test_store.py`), nearest first;
    for a name every folder has (`index.ts`), only the test beside it (`index.test.ts`)."""
    pure = PurePosixPath(path)
    stem = pure.name.split(".")[0].lower().lstrip("_")  # `_make.py` → `test_make.py`
    if stem == "init__" and pure.parent.name:  # a package's `__init__.py` is tested under its name
        stem = pure.parent.name.lower().lstrip("_")
    if not stem:
        return []
    found = [f for f in files if f != path and (named := name_under_test(f))
             and named[1].lower().lstrip("_") == stem]
    if stem in ("init", "index", "main", "mod"):  # a name every folder has: only the one beside it
        folder = PurePosixPath(path).parent
        found = [f for f in found if PurePosixPath(f).parent == folder]
    return sorted(found, key=lambda f: (-_shared_folders(f, path), len(f), f))


def _shared_folders(a: str, b: str) -> int:
    """Folder names two paths share (`tests/plugins/cache/` and `plugins/cache/`: two)."""
    return len(set(PurePosixPath(a).parts[:-1]) & set(PurePosixPath(b).parts[:-1]))


TEST_FOLDER_SIBLINGS = 5
"""A repo keeps tests in folders named after the code (`test/integration/targets/copy/` for
`modules/copy.py`) when one tests folder holds at least this many such folders: one stray
match (`tests/data/packages`) is a coincidence, not where the repo keeps that code's tests."""


def test_folders(files: Iterable[str]) -> dict[str, str]:
    """Code name → the tests folder named after it, where the repo keeps tests that way.

    A folder below a tests folder whose name is a module's stem (`copy` for `copy.py`), among
    siblings that are named after modules too (`TEST_FOLDER_SIBLINGS`): the layout says this is
    where the tests of that code live. Names every folder has (`init`, `index`, `main`) say
    nothing and are left out."""
    listed = list(files)
    stems = {_stem(f) for f in listed if area_of(f) not in ("tests", "docs")}
    stems -= {"", "init", "index", "main", "mod", "tests", "test", "docs"}
    by_parent: dict[str, dict[str, str]] = {}
    for path in listed:
        parts = PurePosixPath(path).parts[:-1]
        root = next((i for i, p in enumerate(parts) if p.lower() in AREA_DIRS["tests"]), None)
        if root is None:
            continue
        for depth in range(root + 1, len(parts)):
            name = parts[depth].lower().lstrip("_")
            if name in stems:
                parent = "/".join(parts[:depth])
                by_parent.setdefault(parent, {})[name] = "/".join(parts[: depth + 1])
                break
    out: dict[str, str] = {}
    for parent in sorted(by_parent, key=lambda p: (p.count("/"), p)):
        if len(by_parent[parent]) >= TEST_FOLDER_SIBLINGS:
            for name, folder in by_parent[parent].items():
                out.setdefault(name, folder)
    return out


def test_folder_for(path: str, folders: dict[str, str]) -> str | None:
    """The tests folder (`dir/`) named after `path`'s module, from `test_folders`."""
    found = folders.get(_stem(path))
    return f"{found}/" if found else None


def _stem(path: str) -> str:
    return PurePosixPath(path).name.split(".")[0].lower().lstrip("_")

"""Files a task names outright: a dotted module path, a file name, a backticked identifier,
`Class.method`, a snake_case or CamelCase name the repo defines.

Word matching ranks `pkg.sub._options` by the words "pkg", "sub" and "options", which a
hundred files share; the name itself points at one file. These resolve to the files that are
(or define) what the task names, so the ranking can put them first.
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath

from engine.analysis.localize_index import FileIndex

MAX_DEFINERS = 3
"""A name more files define than this is a common word of the code, not a pointer to one file."""
_DOTTED = re.compile(r"(?<![\w./-])([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+)(?![\w/-])")
_TICKED = re.compile(r"`([^`\s]{2,80})`")
_IDENT = re.compile(r"\b([A-Za-z_]\w*_\w+|[A-Z][a-z0-9]+[A-Z]\w*|[a-z]+[A-Z]\w*)\b")
_OPTION = re.compile(r"(?<![\w-])--([a-z][a-z0-9-]{2,})")
_FILE_SUFFIXES = frozenset({".py", ".pyi", ".js", ".mjs", ".cjs", ".jsx", ".ts", ".tsx", ".go", ".rs",
                            ".java", ".kt", ".rb", ".php", ".c", ".h", ".cc", ".cpp", ".cs", ".swift", ".sh",
                            ".vue",
                            ".svelte", ".html", ".css", ".scss", ".md", ".rst", ".json", ".toml", ".yaml",
                            ".yml", ".cfg", ".ini", ".txt", ".j2", ".jinja", ".tmpl", ".sql", ".lua"})
_SCOPE = re.compile(r"^[A-Za-z]+\(([^)]+)\)!?:")
_CODE = frozenset({".py", ".js", ".mjs", ".jsx", ".ts", ".tsx", ".go", ".rs", ".java", ".kt", ".rb", ".php"})
_COMMON = frozenset({"e.g", "i.e", "etc", "vs"})


def named_files(index: FileIndex, text: str) -> list[int]:
    """The files `text` names, in the order it names them: a conventional-commit scope
    (`fix(router): …`) first, then the names in the sentence."""
    found: list[int] = []
    for scope in _scopes(text):
        for doc in _scope_files(index, scope):
            if doc not in found:
                found.append(doc)
    for token in _tokens(text):
        for doc in _resolve(index, token):
            if doc not in found:
                found.append(doc)
    return found


def _scopes(text: str) -> list[str]:
    found = _SCOPE.match(text.strip())
    return [t for t in re.split(r"[,\s]+", found.group(1)) if len(t) > 1] if found else []


def _scope_files(index: FileIndex, scope: str) -> list[int]:
    """The file a scope names (`utils/body` → `src/utils/body.ts`), else the code of the folder it
    names (`lambda-edge` → `src/adapter/lambda-edge/*`), when few enough to say which."""
    scope = scope.strip("/")
    by_name = [d for d, p in enumerate(index.paths)
               if str(PurePosixPath(p).with_suffix("")).endswith(f"/{scope}") or p.startswith(f"{scope}.")]
    by_name = [d for d in by_name if not _is_test(index.paths[d])]
    if by_name:
        return by_name[:MAX_DEFINERS]
    inside = [d for d, p in enumerate(index.paths)
              if f"/{scope}/" in f"/{p}" and PurePosixPath(p).suffix in _CODE and not _is_test(p)]
    return inside if len(inside) <= 2 * MAX_DEFINERS else []


def _is_test(path: str) -> bool:
    name = PurePosixPath(path).name
    return ".test." in name or ".spec." in name or name.startswith("test_") or "_test." in name


def _tokens(text: str) -> list[str]:
    tokens = [m.group(1) for m in _TICKED.finditer(text)]
    tokens += [m.group(1).rstrip(".") for m in _DOTTED.finditer(text)]
    tokens += [m.group(1) for m in _IDENT.finditer(text)]
    tokens += [m.group(1).replace("-", "_") for m in _OPTION.finditer(text)]
    return [t for t in dict.fromkeys(tokens) if t.lower() not in _COMMON]


def _resolve(index: FileIndex, token: str) -> list[int]:
    token = token.strip("()[]{}:,;'\"").removesuffix("()")
    if "/" in token or _has_suffix(token):
        return _by_path_tail(index, token)
    parts = [p for p in token.split(".") if p]
    if len(parts) > 1:
        for cut in range(len(parts), 0, -1):  # pkg.mod.Class.method: the longest prefix that is a file
            module = "/".join(parts[:cut])
            hits = _by_path_tail(index, f"{module}.py") or _by_path_tail(index, f"{module}/__init__.py")
            if hits:
                inner = _defined_inside(index, parts[cut], hits) if cut < len(parts) else []
                return list(dict.fromkeys([*inner, *hits]))[:MAX_DEFINERS]
        return _definers(index, parts[0]) or _definers(index, parts[-1])
    return _definers(index, token)


def _defined_inside(index: FileIndex, name: str, modules: list[int]) -> list[int]:
    """The files of `modules` (a package: its folder) that define `name`: `attr.astuple` is the
    `astuple` that `src/attr/_funcs.py` defines, re-exported by the package's `__init__.py`."""
    folders = [str(PurePosixPath(index.paths[d]).parent) + "/" for d in modules
               if PurePosixPath(index.paths[d]).stem == "__init__"]
    return [d for d in _definers(index, name)
            if d in modules or index.paths[d].startswith(tuple(folders))]


def _has_suffix(token: str) -> bool:
    """`setup.py`, `base.html`: a file name, not a dotted module path."""
    return PurePosixPath(token).suffix.lower() in _FILE_SUFFIXES


def _by_path_tail(index: FileIndex, tail: str) -> list[int]:
    """Files whose path ends with `tail`; none when too many do to say which."""
    hits = [d for d, p in enumerate(index.paths) if p == tail or p.endswith(f"/{tail}")]
    return hits if len(hits) <= MAX_DEFINERS else []


def _definers(index: FileIndex, name: str) -> list[int]:
    table = index.definers()
    docs = table.get(name, [])
    return docs if 0 < len(docs) <= MAX_DEFINERS else []

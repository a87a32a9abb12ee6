"""The file index localization ranks against: path words, symbol names and a BM25 text index.

Built once per commit from git's objects (never the work tree, so a dirty checkout or a
benchmark's old commit index the same way) and kept under the state directory keyed by
repo and commit, like the analysis cache: the first plan on a commit pays for reading the
blobs, every later query opens the stored index in milliseconds. `tantivy` (a 5 MB wheel with
no dependencies, imported in a few milliseconds) does the BM25 and the stemming, so path
words, symbols and text all reduce "caching" and "cache" to the same term.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path, PurePosixPath
from typing import IO, TYPE_CHECKING

from engine.core.config import state_dir
from engine.hosts.gitcli import git_bytes, stream_git

if TYPE_CHECKING:
    import tantivy

_VERSION = 2
MAX_BLOB_BYTES = 512_000
"""Larger files (vendored bundles, data) are ranked by their path only."""
TEXT_CHARS = 60_000
MAX_SYMBOLS = 40
KEEP_INDEXES = 8
"""Indexes of older commits are deleted beyond this many (newest kept), so the state
directory does not grow with every commit planned on."""
_WORDS = r"[A-Z]?[a-z]+|[A-Z]+|[0-9]+"
"""camelCase, snake_case and folder/name.ext all split into words (Rust regex: no lookaround)."""

_DEF = r"(?:async\s+def|def|class)"
_JS = r"(?:export\s+)?(?:default\s+)?(?:async\s+)?(?:function\*?|class|const|interface|type|enum)"
_JVM = r"(?:(?:public|private|protected|internal|abstract|final|static|sealed|data|open)\s+)*"
_SYMBOL_PATTERNS: tuple[tuple[tuple[str, ...], str], ...] = (
    ((".py", ".pyi"), rf"^(?:    )?{_DEF}\s+([A-Za-z_]\w*)"),
    ((".js", ".jsx", ".ts", ".tsx", ".mjs", ".cjs", ".vue", ".svelte"), rf"^{_JS}\s+([A-Za-z_$][\w$]*)"),
    ((".go",), r"^(?:func(?:\s*\([^)]*\))?|type)\s+([A-Za-z_]\w*)"),
    ((".rs",),
     r"^\s*(?:pub(?:\([^)]*\))?\s+)?(?:async\s+)?(?:fn|struct|enum|trait|mod|type)\s+([A-Za-z_]\w*)"),
    ((".java", ".kt", ".cs", ".scala", ".swift"),
     rf"^\s*{_JVM}(?:class|interface|enum|record|object|fun|struct|protocol)\s+([A-Za-z_]\w*)"),
    ((".rb",), r"^\s*(?:def|class|module)\s+(?:self\.)?([A-Za-z_]\w*[?!]?)"),
    ((".php",), r"^\s*(?:abstract\s+|final\s+)?(?:function|class|interface|trait)\s+([A-Za-z_]\w*)"),
)
"""Extensions → the definitions a cheap regex finds at the start of a line."""


@cache
def _symbol_re(suffix: str) -> re.Pattern[str] | None:
    """Compiled on first use: importing this module must stay cheap for verbs that never rank."""
    pattern = next((p for exts, p in _SYMBOL_PATTERNS if suffix in exts), None)
    return re.compile(pattern, re.MULTILINE) if pattern else None


@dataclass(slots=True, kw_only=True)
class FileIndex:
    """One commit's files: paths, their words, their symbols, and the text index if any."""

    paths: list[str]
    path_terms: list[list[str]]
    """Stemmed words of each path (folders, file name, extension dropped)."""
    symbols: list[list[str]]
    """Top-level (and first-level member) definitions of each file."""
    symbol_terms: list[list[str]]
    text: tantivy.Index | None = None
    cached: bool = False
    """True when read from the state directory rather than built now."""
    _by_term: dict[str, dict[str, list[int]]] = field(default_factory=dict)
    _by_symbol: dict[str, list[int]] | None = None

    def definers(self) -> dict[str, list[int]]:
        """Symbol name (as written) → the files defining it; built on first use."""
        if self._by_symbol is None:
            table: dict[str, list[int]] = {}
            for doc, names in enumerate(self.symbols):
                for name in dict.fromkeys(names):
                    table.setdefault(name, []).append(doc)
            self._by_symbol = table
        return self._by_symbol

    def postings(self, kind: str) -> dict[str, list[int]]:
        """Term → the files whose path (`path`) or symbols (`symbol`) hold it; built on first use."""
        if kind not in self._by_term:
            table: dict[str, list[int]] = {}
            for doc, terms in enumerate(self.path_terms if kind == "path" else self.symbol_terms):
                for term in dict.fromkeys(terms):
                    table.setdefault(term, []).append(doc)
            self._by_term[kind] = table
        return self._by_term[kind]


@cache
def analyzer() -> tantivy.TextAnalyzer:
    """Words, lowercased and stemmed in English: the one tokenizer for paths, symbols, text, queries."""
    import tantivy  # noqa: PLC0415 - only the planning path pays for the import

    return (tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.regex(_WORDS))
            .filter(tantivy.Filter.lowercase()).filter(tantivy.Filter.remove_long(40))
            .filter(tantivy.Filter.stemmer("english")).build())


def terms(text: str) -> list[str]:
    return analyzer().analyze(text)


def path_terms(path: str) -> list[str]:
    pure = PurePosixPath(path)
    return terms(" ".join([*pure.parts[:-1], pure.stem]))


def symbols_of(path: str, text: str) -> list[str]:
    pattern = _symbol_re(PurePosixPath(path).suffix.lower())
    if pattern is None:
        return []
    return list(dict.fromkeys(m.group(1) for m in pattern.finditer(text)))[:MAX_SYMBOLS]


def paths_only(files: Sequence[str]) -> FileIndex:
    """An index of names alone, for a tree git cannot read (ranking by path words only)."""
    paths = list(dict.fromkeys(files))
    return FileIndex(paths=paths, path_terms=[path_terms(p) for p in paths],
                     symbols=[[] for _ in paths], symbol_terms=[[] for _ in paths])


def index_dir(root: Path, commit: str) -> Path:
    raw = f"{_VERSION}|{root.resolve()}|{commit}"
    return state_dir() / "localize" / hashlib.sha256(raw.encode()).hexdigest()[:32]


def open_index(root: Path, commit: str) -> FileIndex:
    """The stored index of `commit`, building it first when there is none (or it is unreadable)."""
    where = index_dir(root, commit)
    stored = _load(where)
    if stored is not None:
        return stored
    shutil.rmtree(where, ignore_errors=True)  # unreadable (an older version, a crash): built anew
    return _build(root, commit, where)


def _load(where: Path) -> FileIndex | None:
    try:
        data = json.loads((where / "meta.json").read_text(encoding="utf-8"))
        if data.get("version") != _VERSION:
            return None
        index = FileIndex(paths=data["paths"], path_terms=data["path_terms"], symbols=data["symbols"],
                          symbol_terms=data["symbol_terms"], cached=True)
        index.text = _open_text(where / "text")
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return index


def _open_text(folder: Path) -> tantivy.Index:
    import tantivy  # noqa: PLC0415

    index = tantivy.Index.open(str(folder))
    index.register_tokenizer("code", analyzer())
    return index


def _build(root: Path, commit: str, where: Path) -> FileIndex:
    """Read every blob once, streaming (symbols and text go straight into the index, so memory
    stays flat on a large repo), then move the finished folder into place atomically."""
    blobs = _blobs(root, commit)
    paths = [path for path, _, _ in blobs]
    tmp = where.with_name(f"{where.name}.{os.getpid()}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        (tmp / "text").mkdir(parents=True)
        symbols = _write_text(tmp / "text", root, blobs)
        index = FileIndex(paths=paths, path_terms=[path_terms(p) for p in paths], symbols=symbols,
                          symbol_terms=[terms(" ".join(s)) for s in symbols])
        meta = {"version": _VERSION, "commit": commit, "paths": paths, "path_terms": index.path_terms,
                "symbols": symbols, "symbol_terms": index.symbol_terms}
        (tmp / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
        if not where.exists():
            tmp.rename(where)
            _prune(where.parent, keep=KEEP_INDEXES)
        index.text = _open_text(where / "text")
    except OSError:
        return paths_only(paths)  # a state directory that cannot be written: rank by path words
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return index


def _prune(folder: Path, *, keep: int) -> None:
    """Delete all but the `keep` most recently built indexes (their folders' mtimes)."""
    try:
        built = sorted((p for p in folder.iterdir() if p.is_dir() and not p.name.endswith(".tmp")),
                       key=lambda p: p.stat().st_mtime_ns, reverse=True)
    except OSError:
        return
    for old in built[keep:]:
        shutil.rmtree(old, ignore_errors=True)


def _write_text(folder: Path, root: Path, blobs: Sequence[tuple[str, str, int]]) -> list[list[str]]:
    """The BM25 index of every text blob; returns each file's symbols, read on the way."""
    import tantivy  # noqa: PLC0415

    schema = (tantivy.SchemaBuilder().add_unsigned_field("doc", stored=True)
              .add_text_field("body", stored=False, tokenizer_name="code").build())
    index = tantivy.Index(schema, path=str(folder))
    index.register_tokenizer("code", analyzer())
    writer = index.writer(heap_size=50_000_000, num_threads=1)
    symbols: list[list[str]] = [[] for _ in blobs]
    for doc, body in _bodies(root, blobs):
        symbols[doc] = symbols_of(blobs[doc][0], body)
        writer.add_document(tantivy.Document(doc=doc, body=body[:TEXT_CHARS]))
    writer.commit()
    writer.wait_merging_threads()
    return symbols


def _blobs(root: Path, commit: str) -> list[tuple[str, str, int]]:
    """(path, blob id, size) of every file in `commit`; submodules and links have no text."""
    out = git_bytes(root, "ls-tree", "-r", "-l", "-z", "--full-tree", commit)
    blobs = []
    for entry in out.split(b"\0"):
        if not entry:
            continue
        head, _, name = entry.partition(b"\t")
        mode, kind, sha, size = head.split()
        if kind == b"blob" and mode != b"120000":
            blobs.append((name.decode("utf-8", "surrogateescape"), sha.decode(), int(size)))
    return blobs


def _bodies(root: Path, blobs: Sequence[tuple[str, str, int]]) -> Iterator[tuple[int, str]]:
    """(file number, text) of each text blob, through one streaming `git cat-file --batch`;
    binary blobs (a NUL byte) and blobs over MAX_BLOB_BYTES are skipped."""
    wanted = [(doc, sha) for doc, (_, sha, size) in enumerate(blobs) if 0 < size <= MAX_BLOB_BYTES]
    proc = stream_git(root, "cat-file", "--batch")
    assert proc.stdin is not None and proc.stdout is not None
    feeder = threading.Thread(target=_feed, args=(proc.stdin, [sha for _, sha in wanted]), daemon=True)
    feeder.start()
    try:
        for doc, _ in wanted:
            header = proc.stdout.readline().split()
            if len(header) != 3:
                continue  # "<sha> missing": nothing follows
            body = proc.stdout.read(int(header[2]))
            proc.stdout.read(1)
            if b"\0" not in body[:8000]:
                yield doc, body.decode("utf-8", "replace")
    finally:
        proc.stdout.close()
        proc.kill()
        proc.wait()
        feeder.join()


def _feed(stdin: IO[bytes], shas: Sequence[str]) -> None:
    try:
        for sha in shas:
            stdin.write(f"{sha}\n".encode())
        stdin.close()
    except (BrokenPipeError, OSError):
        return  # the reader stopped early; git is being ended

"""On-disk cache of repo profiles, keyed by repo, HEAD commit, day and settings.

A second `analyze` on an unchanged repo must be near-instant, so the whole profile is
stored as JSON under the state directory. The day is part of the key because churn counts
a window of days; a corrupt or unreadable entry is simply a miss.

A hit read for `analyze --json` never builds the models: the entry is already the JSON that
prints, so `hit` checks its shape against `SHAPE` (tests keep that true to `RepoProfile`) and
returns it as records, which keeps `engine.core.models` out of that call's start-up.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias, cast

from engine.analysis.worktrees import linked_worktrees
from engine.core.config import state_dir
from engine.core.jsonio import Json, to_jsonable
from engine.hosts.gitcli import run_git

if TYPE_CHECKING:
    from hashlib import sha256

    from engine.core.models import RepoProfile
else:
    try:  # the built-in hash alone: `hashlib` also loads OpenSSL and blake2 (~2.5 ms of start-up)
        from _sha256 import sha256
    except ImportError:  # a Python that names it otherwise (3.12: _sha2)
        from hashlib import sha256

_VERSION = 1
Shape: TypeAlias = "type | list[Shape] | dict[str, Shape]"
"""A JSON value's expected form: a type (exactly), a list of one shape, or an object's fields."""
SHAPE: dict[str, Shape] = {
    "root": str, "head": str, "files": int, "loc": int, "modules": [{"path": str, "files": int, "loc": int}],
    "languages": [{"name": str, "files": int, "loc": int}],
    "churn": {"days": int, "commits": int, "files": int, "hot_files": [{"path": str, "commits": int}]},
    "worktrees": [{"path": str, "branch": str, "head": str}],
    "complexity_score": float, "max_splits": int, "max_splits_reason": str,
    "analysis_seconds": float, "cached": bool,
}
"""`RepoProfile` as JSON, fields in its order."""


def key(root: Path, head: str, churn_days: int, min_files: int) -> str:
    today = time.strftime("%Y-%m-%d")  # the local date, as date.today() (datetime costs ~1.5 ms)
    raw = f"{_VERSION}|{root}|{head}|{today}|{churn_days}|{min_files}"
    return sha256(raw.encode()).hexdigest()[:32]


def _path(cache_key: str) -> Path:
    return state_dir() / "analysis" / f"{cache_key}.json"


def load(cache_key: str) -> RepoProfile | None:
    data = load_record(cache_key)
    return None if data is None else _profile_from(data)


def load_record(cache_key: str) -> dict[str, Json] | None:
    """The entry as JSON records, fields in `RepoProfile`'s order, if it has that shape."""
    try:
        data = json.loads(_path(cache_key).read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return None  # garbage in the cache (even JSON nested too deep to parse) is only a miss
    if not _fits(data, SHAPE):
        return None
    return {name: data[name] for name in SHAPE}


def root_and_head(path: Path) -> tuple[Path, str] | None:
    """The repo's top level and HEAD in one git call (`resolve_repo` and `head_sha` take three);
    None if git says no: `resolve_repo` then names the problem."""
    proc = run_git(path, "rev-parse", "--show-toplevel", "HEAD")
    top, _, head = proc.stdout.decode("utf-8", "surrogateescape").strip().rpartition("\n")
    return (Path(top.strip()), head) if proc.returncode == 0 and top else None


def hit(root: Path, head: str, churn_days: int, min_files: int) -> dict[str, Json] | None:
    """`analyze_repo`'s cache hit as the JSON `analyze --json` prints, or None on a miss."""
    started = time.perf_counter()
    record = load_record(key(root, head, churn_days, min_files))
    if record is not None:
        # worktrees come and go without a commit: always read them fresh (one cheap call)
        record.update(worktrees=cast("Json", linked_worktrees(root)),
                      analysis_seconds=time.perf_counter() - started, cached=True)
    return record


def _fits(value: object, shape: Shape) -> bool:
    if isinstance(shape, type):
        return type(value) is shape or (shape is float and type(value) is int)
    if isinstance(shape, list):
        return isinstance(value, list) and all(_fits(v, shape[0]) for v in value)
    return (isinstance(value, dict) and value.keys() == shape.keys()
            and all(_fits(value[k], s) for k, s in shape.items()))


def store(cache_key: str, profile: RepoProfile) -> None:
    """Write atomically (temp file + rename) so a concurrent reader never sees half a file."""
    path = _path(cache_key)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(to_jsonable(profile)), encoding="utf-8")
        tmp.replace(path)
    except OSError:
        return  # a cache that cannot be written is only slower, never wrong


def _profile_from(data: dict[str, Any]) -> RepoProfile:
    """Build the models from an entry `load_record` checked (so every field is there, typed)."""
    from engine.core.models import (  # noqa: PLC0415 - a hit for --json never builds them
        Churn,
        HotFile,
        LanguageStat,
        RepoModule,
        RepoProfile,
        WorktreeInfo,
    )

    churn = {**data["churn"], "hot_files": tuple(HotFile(**h) for h in data["churn"]["hot_files"])}
    fields = {
        **data,
        "modules": tuple(RepoModule(**m) for m in data["modules"]),
        "languages": tuple(LanguageStat(**g) for g in data["languages"]),
        "worktrees": tuple(WorktreeInfo(**w) for w in data["worktrees"]),
        "churn": Churn(**churn),
        "cached": True,
    }
    return RepoProfile(**fields)

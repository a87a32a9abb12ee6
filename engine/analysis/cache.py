"""On-disk cache of repo profiles, keyed by repo, HEAD commit, day and settings.

A second `analyze` on an unchanged repo must be near-instant, so the whole profile is
stored as JSON under the state directory. The day is part of the key because churn counts
a window of days; a corrupt or unreadable entry is simply a miss.
"""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import json
import os
from pathlib import Path

from engine.core.config import state_dir
from engine.core.jsonio import to_jsonable
from engine.core.models import Churn, HotFile, LanguageStat, RepoModule, RepoProfile, WorktreeInfo

_VERSION = 1


def key(root: Path, head: str, churn_days: int, min_files: int) -> str:
    today = datetime.date.today().isoformat()
    raw = f"{_VERSION}|{root}|{head}|{today}|{churn_days}|{min_files}"
    return hashlib.sha256(raw.encode()).hexdigest()[:32]


def _path(cache_key: str) -> Path:
    return state_dir() / "analysis" / f"{cache_key}.json"


def load(cache_key: str) -> RepoProfile | None:
    try:
        data = json.loads(_path(cache_key).read_text(encoding="utf-8"))
        return _profile_from(data)
    except (OSError, ValueError, KeyError, TypeError, AttributeError, RecursionError):
        return None  # garbage in the cache (even JSON nested too deep to parse) is only a miss


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


def _profile_from(data: dict[str, object]) -> RepoProfile:
    churn = dict(data["churn"])  # type: ignore[call-overload]
    churn["hot_files"] = tuple(HotFile(**h) for h in churn["hot_files"])
    fields = {
        **data,
        "modules": tuple(RepoModule(**m) for m in data["modules"]),  # type: ignore[attr-defined]
        "languages": tuple(LanguageStat(**g) for g in data["languages"]),  # type: ignore[attr-defined]
        "worktrees": tuple(WorktreeInfo(**w) for w in data["worktrees"]),  # type: ignore[attr-defined]
        "churn": Churn(**churn),
    }
    return dataclasses.replace(RepoProfile(**fields), cached=True)  # type: ignore[arg-type]

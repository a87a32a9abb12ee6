"""On-disk cache of repo profiles, keyed by repo, HEAD commit, day and settings.

A second `analyze` on an unchanged repo must be near-instant, so the whole profile is
stored as JSON under the state directory. The day is part of the key because churn counts
a window of days; a corrupt or unreadable entry is simply a miss.

A hit read for `analyze --json` never builds the models: the entry is already the JSON that
prints, so `hit` checks its shape against `SHAPE` (tests keep that true to `RepoProfile`) and
returns it as records, which keeps `engine.core.models` out of that call's start-up; nor does
it load the config while its sources are unchanged (`settings`), nor pathlib, typing or
dataclasses (`bench/startup.py`; tests/test_startup.py lists what that call must not load).
"""

from __future__ import annotations

import json
import os
import time

from engine.analysis.worktrees import linked_worktrees
from engine.core.jsonio import to_jsonable
from engine.core.places import ENV_PREFIX, REPO_CONFIG_NAME, stamps, state_home, user_config_file
from engine.hosts.gitcli import run_git

TYPE_CHECKING = False  # the hit path loads no typing, pathlib or dataclasses (see the docstring)
if TYPE_CHECKING:
    from hashlib import sha256
    from pathlib import Path
    from typing import Any, TypeAlias

    from engine.core.jsonio import Json
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


def key(root: Path | str, head: str, churn_days: int, min_files: int) -> str:
    today = time.strftime("%Y-%m-%d")  # the local date, as date.today() (datetime costs ~1.5 ms)
    raw = f"{_VERSION}|{root}|{head}|{today}|{churn_days}|{min_files}"
    return sha256(raw.encode()).hexdigest()[:32]


def _path(name: str) -> str:
    return os.path.join(state_home(), "analysis", f"{name}.json")


def load(cache_key: str) -> RepoProfile | None:
    data = load_record(cache_key)
    return None if data is None else _profile_from(data)


def load_record(cache_key: str) -> dict[str, Json] | None:
    """The entry as JSON records, fields in `RepoProfile`'s order, if it has that shape."""
    try:
        with open(_path(cache_key), encoding="utf-8") as file:
            data = json.load(file)
    except (OSError, ValueError, RecursionError):
        return None  # garbage in the cache (even JSON nested too deep to parse) is only a miss
    if not _fits(data, SHAPE):
        return None
    return {name: data[name] for name in SHAPE}


def cached_json(repo: str) -> dict[str, Json] | None:
    """The cached profile of the repo at `repo` as `analyze --json` prints it, or None (a miss,
    or git finds no repo with a commit: the Engine then says why). The config is loaded as
    `build_engine` loads it (same errors), unless its sources are unchanged since it last was."""
    found = root_and_head(repo)
    if found is None:
        return None
    root, head = found
    churn_days, min_files = settings(root)
    return hit(root, head, churn_days, min_files)


def root_and_head(path: Path | str) -> tuple[str, str] | None:
    """The repo's top level and HEAD in one git call (`resolve_repo` and `head_sha` take three);
    None if git says no: `resolve_repo` then names the problem."""
    proc = run_git(path, "rev-parse", "--show-toplevel", "HEAD")
    top, _, head = proc.stdout.decode("utf-8", "surrogateescape").strip().rpartition("\n")
    return (top.strip(), head) if proc.returncode == 0 and top else None


def settings(root: str) -> tuple[int, int]:
    """`churn_days` and `min_files_per_subtask` as `load_config(root)` gives them.

    Loading the config costs a cached `analyze --json` ~20 ms (its dataclass, pathlib, the
    validators), more than the rest of the call. What it returns depends only on its sources:
    the user's and the repo's config files and the `PARALLEL_TUI_*` environment (and the rules
    in `config.py`). So the two numbers are kept under a signature of those sources, written
    only after `load_config` accepted them: a bad or changed config is always loaded in full,
    and fails as every verb fails."""
    memo = _path(f"settings/{_sources_signature(root)}")
    try:
        with open(memo, encoding="utf-8") as file:
            kept = json.load(file)
        if type(kept) is list and len(kept) == 2 and all(type(n) is int for n in kept):
            return kept[0], kept[1]
    except (OSError, ValueError):
        pass  # not kept yet, or garbage: load the config
    from pathlib import Path  # noqa: PLC0415 - only when the config is loaded in full

    from engine.core.config import load_config  # noqa: PLC0415

    config = load_config(Path(root))
    _write(memo, json.dumps([config.churn_days, config.min_files_per_subtask]))
    return config.churn_days, config.min_files_per_subtask


def _sources_signature(root: str) -> str:
    """What `load_config(root)` reads, as a hash: each config file's identity and change time
    (`st_ctime_ns` moves on every write and cannot be set back), the environment's
    `PARALLEL_TUI_*` values, and the config module's own file (an upgrade may change a rule)."""
    rules = os.path.join(os.path.dirname(os.path.dirname(__file__)), "core", "config.py")
    parts = stamps((user_config_file(), os.path.join(root, REPO_CONFIG_NAME), rules))
    parts += sorted(f"{k}={v}" for k, v in os.environ.items() if k.startswith(ENV_PREFIX))
    return sha256("\0".join(parts).encode("utf-8", "surrogateescape")).hexdigest()[:32]


def hit(root: Path | str, head: str, churn_days: int, min_files: int) -> dict[str, Json] | None:
    """`analyze_repo`'s cache hit as the JSON `analyze --json` prints, or None on a miss."""
    started = time.perf_counter()
    record = load_record(key(root, head, churn_days, min_files))
    if record is not None:
        # worktrees come and go without a commit: always read them fresh (one cheap call)
        worktrees: Any = linked_worktrees(root)
        record.update(worktrees=worktrees,
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
    _write(_path(cache_key), json.dumps(to_jsonable(profile)))


def _write(path: str, text: str) -> None:
    """Write atomically (temp file + rename) so a concurrent reader never sees half a file."""
    tmp = f"{path.removesuffix('.json')}.{os.getpid()}.tmp"
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(tmp, "w", encoding="utf-8") as file:
            file.write(text)
        os.replace(tmp, path)
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

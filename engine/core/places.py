"""Where the tool keeps its files, as plain strings: the state folder, the user's config file,
the repo's config file name and the environment prefix; and the prefix of its branches.

Apart from `config` (which wraps these in `Path`) so the cached `analyze --json` can find its
entry without importing the config's dataclass, pathlib or platformdirs (when
`PARALLEL_TUI_HOME` is set): `bench/startup.py` measures that call.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False  # typing: not on the cached `analyze --json` path
if TYPE_CHECKING:
    from collections.abc import Iterable

ENV_PREFIX = "PARALLEL_TUI_"
REPO_CONFIG_NAME = ".parallel-tui.toml"
BRANCH_PREFIX = "parallel/"
"""A session's branch is `parallel/<slug>`: here, not in `hosts.worktrees`, so naming a branch by
its slug (`check auth`) loads none of the worktree code."""


def state_home() -> str:
    """Where the journal and caches live; `PARALLEL_TUI_HOME` moves it."""
    return os.environ.get(f"{ENV_PREFIX}HOME") or _platform_dir("state")


def user_config_file() -> str:
    """The user's config file; `PARALLEL_TUI_HOME` moves it (tests use a temp dir)."""
    home = os.environ.get(f"{ENV_PREFIX}HOME")
    return os.path.join(home or _platform_dir("config"), "config.toml")


def stamps(paths: Iterable[str]) -> list[str]:
    """Each file's identity, size and change times (`st_ctime_ns` moves on every write and cannot
    be set back), `path:-` for one that is missing: what an answer kept from those files is
    keyed by (the cached config numbers, the status snapshot's sandbox note)."""
    parts = []
    for path in paths:
        try:
            st = os.stat(path)
        except OSError:
            parts.append(f"{path}:-")
            continue
        parts.append(f"{path}:{st.st_dev}:{st.st_ino}:{st.st_size}:{st.st_mtime_ns}:{st.st_ctime_ns}")
    return parts


def _platform_dir(kind: str) -> str:
    """The platform's folder of `kind` for the tool; platformdirs (~5 ms to import) only when asked."""
    import platformdirs  # noqa: PLC0415 - PARALLEL_TUI_HOME, when set, never needs it

    return (platformdirs.user_config_dir("parallel-tui") if kind == "config"
            else platformdirs.user_state_dir("parallel-tui"))

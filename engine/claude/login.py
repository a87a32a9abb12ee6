"""Whether the person's own Claude Code is logged in: `claude auth status`, asked once and cached.

Most people run Claude Code on a subscription login, with no ANTHROPIC_API_KEY for the SDK;
their Claude Code can still plan (`claude -p`). `claude auth status` prints JSON
(`loggedIn`, `authMethod`, `apiProvider`) and exits 1 when logged out; it takes about a third
of a second, so the answer is cached per binary and login-relevant environment, and callers
with an event loop ask from a thread. It prints no key, and nothing here reads one.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass

from engine.hosts.host import LOCAL

PROBE_TIMEOUT_S = 10.0
CACHE_S = 300.0
"""A login changes rarely; `/login` in another terminal shows up within this long."""
_ENV_KEYS = ("HOME", "CLAUDE_CONFIG_DIR", "ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN",
             "CLAUDE_CODE_USE_BEDROCK", "CLAUDE_CODE_USE_VERTEX", "PATH")
"""What the answer depends on: the cache key (values are hashed, never kept)."""
PROVIDERS = {"firstParty": "Anthropic", "bedrock": "Amazon Bedrock", "vertex": "Google Vertex AI",
             "foundry": "Microsoft Foundry"}
BILLED_METHODS = frozenset({"api_key", "api_key_helper"})
"""Logins whose use is billed per token; the others (a claude.ai subscription, an OAuth token)
are covered by a plan, so a cost Claude Code reports for them is notional."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ClaudeLogin:
    logged_in: bool
    auth_method: str = ""
    api_provider: str = ""
    problem: str = ""
    """Why it is not usable, in a few words (not installed, timed out, unreadable answer)."""
    binary: str = ""

    @property
    def subscription(self) -> bool:
        """True when Claude Code's reported cost is not what the person pays (a subscription)."""
        return self.api_provider in ("", "firstParty") and self.auth_method not in BILLED_METHODS

    def describe(self) -> str:
        """`Claude Code is logged in (api_key_helper, Anthropic)` or why it cannot plan."""
        if not self.logged_in:
            return self.problem or "Claude Code is not logged in"
        provider = PROVIDERS.get(self.api_provider, self.api_provider)
        how = ", ".join(p for p in (self.auth_method, provider) if p)
        return f"Claude Code is logged in ({how})" if how else "Claude Code is logged in"


_cache: dict[tuple[str, int], tuple[float, ClaudeLogin]] = {}
_lock = threading.Lock()


def claude_login(env: Mapping[str, str] | None = None, *, fresh: bool = False) -> ClaudeLogin:
    """The login `claude` (on PATH) reports; cached for CACHE_S. Blocks up to PROBE_TIMEOUT_S:
    never call it on an event loop (asyncio.to_thread)."""
    environ = dict(os.environ if env is None else env)
    binary = shutil.which("claude", path=environ.get("PATH")) or ""
    key = (binary, hash(tuple(environ.get(k, "") for k in _ENV_KEYS)))
    with _lock:
        hit = _cache.get(key)
        if hit and not fresh and time.monotonic() - hit[0] < CACHE_S:
            return hit[1]
    login = _probe(binary, environ)
    with _lock:
        _cache[key] = (time.monotonic(), login)
    return login


def _probe(binary: str, env: dict[str, str]) -> ClaudeLogin:
    if not binary:
        return ClaudeLogin(logged_in=False, problem="Claude Code (`claude`) is not installed")
    try:
        proc = LOCAL.run([binary, "auth", "status"], env=env, timeout=PROBE_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        return ClaudeLogin(logged_in=False, binary=binary,
                           problem=f"`claude auth status` gave no answer within {PROBE_TIMEOUT_S:g}s")
    except OSError as exc:
        return ClaudeLogin(logged_in=False, binary=binary,
                           problem=f"`claude auth status` could not run ({exc.strerror or exc})")
    return read_status(proc.stdout.decode("utf-8", "replace"), binary)


def read_status(stdout: str, binary: str = "") -> ClaudeLogin:
    """The JSON `claude auth status` prints (2.1.x); anything else means not usable."""
    try:
        data = json.loads(stdout)
    except ValueError:
        data = None
    if not isinstance(data, dict) or not isinstance(data.get("loggedIn"), bool):
        return ClaudeLogin(logged_in=False, binary=binary,
                           problem="`claude auth status` did not answer with its JSON (an old Claude Code?)")
    method, provider = data.get("authMethod"), data.get("apiProvider")
    login = ClaudeLogin(logged_in=data["loggedIn"], binary=binary,
                        auth_method=method if isinstance(method, str) else "",
                        api_provider=provider if isinstance(provider, str) else "")
    if login.logged_in:
        return login
    return ClaudeLogin(logged_in=False, binary=binary, auth_method=login.auth_method,
                       api_provider=login.api_provider, problem="Claude Code is not logged in")


def forget() -> None:
    """Drop cached answers (after `/login`, or between tests)."""
    with _lock:
        _cache.clear()

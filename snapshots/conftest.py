"""Snapshot fixtures: a fixed repo, no animations, the suite's isolated env."""

from __future__ import annotations

from tests.conftest import isolated_env, repo_factory, web_repo

__all__ = ["isolated_env", "repo_factory", "web_repo"]

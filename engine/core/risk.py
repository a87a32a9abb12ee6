"""What makes parallel work risky to merge: the spec's risk levels and the shared config files.

A leaf, apart from the model catalogue: `check` needs these two names, not `models`' dozens
of dataclasses (their import is most of a light verb's start-up).
"""

from __future__ import annotations

from enum import StrEnum


class ConflictRisk(StrEnum):
    """The spec's three levels: LOW parallelises safely, HIGH must not parallelise."""

    LOW = "LOW"
    MEDIUM = "MEDIUM"
    HIGH = "HIGH"


SHARED_CONFIG = frozenset({
    "package.json", "package-lock.json", "yarn.lock", "pnpm-lock.yaml", "pyproject.toml",
    "poetry.lock", "uv.lock", "requirements.txt", "setup.py", "setup.cfg", "cargo.toml",
    "cargo.lock", "go.mod", "go.sum", "gemfile", "gemfile.lock", "tsconfig.json",
    "makefile", "dockerfile", "docker-compose.yml", ".env", "settings.py", "config.py",
})
"""File names (lower case) most tasks touch: a plan gives each to one subtask, `check` flags them."""

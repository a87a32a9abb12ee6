"""`install-claude`: the spec's triggers and specialists as Claude Code project files.

Writes `.claude/commands/{parallel,orchestrate}.md` (the `/parallel` and `/orchestrate`
triggers, which call the `parallel-tui` CLI), the `parallel-orchestrator` agent that Claude
reaches for on "run in parallel" / "split this task", and one agent file per specialist of
the matching matrix, so a session can be launched as `claude --agent <name>`. The texts are
package data (`engine/claude/templates/`), read with importlib.resources so they ship in the
wheel. A user's own edits are never overwritten without `force`.
"""

from __future__ import annotations

import json
import os
import string
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from engine.core.errors import ConfigError
from engine.planning.matching import DEFAULT, TASK_MATRIX

TEMPLATES = "templates"
COMMANDS = ("parallel", "orchestrate")
ORCHESTRATOR = "parallel-orchestrator"
EDIT_TOOLS = "Read, Edit, Write, Bash, Grep, Glob"


@dataclass(frozen=True, slots=True, kw_only=True)
class Specialist:
    """One agent file: who Claude delegates to, and what the session focuses on."""

    name: str
    description: str
    focus: str
    tools: str = EDIT_TOOLS
    model: str = "inherit"
    """inherit: the session's model (the user's choice or `--model`) stays in charge."""


SPECIALISTS: dict[str, Specialist] = {s.name: s for s in (
    Specialist(name="security-engineer",
               description="Security-sensitive implementation: authentication, login, sessions, JWT, "
                           "OAuth, permissions, secrets and input validation.",
               focus="secure authentication and authorisation code; validate inputs, never log secrets, "
                     "prefer well-known libraries over hand-rolled crypto, and add tests for abuse cases."),
    Specialist(name="backend-architect",
               description="Server-side logic: APIs, endpoints, REST or GraphQL handlers, data models, "
                           "persistence and service boundaries.",
               focus="API and server-side logic with clear contracts, error handling and tests."),
    Specialist(name="frontend-architect",
               description="Frontend work: UI components, pages, React or other view code, styling, "
                           "accessibility and client-side state.",
               focus="UI components and styling that are accessible, consistent with the existing "
                     "design and covered by component tests where the project has them."),
    Specialist(name="quality-engineer",
               description="Tests and quality: unit, integration and end-to-end tests, specs, coverage, "
                           "fixtures and mocks.",
               focus="meaningful tests of behaviour (not implementation details), edge cases and "
                     "failure paths; keep them fast and deterministic."),
    Specialist(name="refactoring-expert",
               description="Restructuring existing code without changing behaviour: cleanup, technical "
                           "debt, duplication, naming and module boundaries.",
               focus="behaviour-preserving refactoring in small verified steps; run the tests after "
                     "each step."),
    Specialist(name="root-cause-analyst",
               description="Bugs and failures: reproducing an error, debugging, finding the root cause "
                           "and fixing it with a regression test.",
               focus="reproduce first, find the root cause (not the symptom), fix it and add a "
                     "regression test."),
    Specialist(name="technical-writer",
               description="Documentation: READMEs, guides, API docs, docstrings and code comments.",
               focus="accurate, concise documentation that matches the code as it is; check every "
                     "command and example you write.",
               tools="Read, Edit, Write, Grep, Glob"),
    Specialist(name="performance-engineer",
               description="Performance: profiling, optimisation, caching, query and algorithm "
                           "efficiency, memory use.",
               focus="measure before and after; optimise the hot path the measurements show, and "
                     "keep behaviour identical."),
    Specialist(name="devops-architect",
               description="Build and deployment: CI/CD pipelines, Docker images, packaging, release "
                           "and infrastructure configuration.",
               focus="reproducible builds and deployments; pin versions and keep secrets out of the "
                     "repository."),
    Specialist(name="system-architect",
               description="System structure and design: architecture, module layout, interfaces "
                           "between components and design decisions.",
               focus="coherent structure and clear interfaces; record the design decisions you make."),
    Specialist(name="general-purpose",
               description="General implementation work that no specialist pattern covers.",
               focus="the subtask as described, following the conventions already in the code base."),
)}


@dataclass(frozen=True, slots=True, kw_only=True)
class InstallReport:
    """What `install` did, relative to the repo: written new, overwritten (force), skipped."""

    root: str
    written: tuple[str, ...]
    overwritten: tuple[str, ...]
    skipped: tuple[str, ...]
    """Exist with other content; `--force` overwrites them."""
    unchanged: tuple[str, ...] = ()
    """Exist with exactly this content already."""


def _template(relative: str) -> str:
    node = resources.files("engine.claude").joinpath(TEMPLATES, *relative.split("/"))
    return node.read_text(encoding="utf-8")


def matrix_agents() -> tuple[str, ...]:
    """Every agent engine.planning.matching can assign, in matrix order, the default last."""
    names = dict.fromkeys(agent for _, agent, _, _ in TASK_MATRIX)
    names[DEFAULT.name] = None
    return tuple(names)


def _skill(agent: str) -> str:
    return next((skill for _, name, skill, _ in TASK_MATRIX if name == agent), DEFAULT.skill)


def specialist_text(agent: str) -> str:
    spec = SPECIALISTS[agent]
    return string.Template(_template("agents/specialist.md")).substitute(
        name=spec.name, description=json.dumps(spec.description, ensure_ascii=False), tools=spec.tools,
        model=spec.model, focus=spec.focus, skill=_skill(agent))


def planned_files() -> dict[str, str]:
    """Path under the repo → content, for every file `install` writes."""
    files = {f".claude/commands/{name}.md": _template(f"commands/{name}.md") for name in COMMANDS}
    files[f".claude/agents/{ORCHESTRATOR}.md"] = _template(f"agents/{ORCHESTRATOR}.md")
    for agent in matrix_agents():
        files[f".claude/agents/{agent}.md"] = specialist_text(agent)
    return files


def _write(path: Path, content: str) -> None:
    """Atomic write; a path git or the user made something else (a file where a folder goes)
    is a ConfigError naming it, never a traceback."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_text(content, encoding="utf-8")
        tmp.replace(path)
    except OSError as exc:
        raise ConfigError(f"cannot write {path}: {exc.strerror or exc}",
                          hint="move whatever is in the way (a file named like a folder?), "
                               "then run install-claude again") from None


def install(root: Path, *, force: bool = False) -> InstallReport:
    """Write the files under `root`; existing ones are skipped unless `force` (identical ones always are)."""
    written: list[str] = []
    overwritten: list[str] = []
    skipped: list[str] = []
    unchanged: list[str] = []
    for relative, content in planned_files().items():
        path = root / relative
        if path.exists():
            same = path.is_file() and path.read_text(encoding="utf-8", errors="replace") == content
            if same or not force:
                (unchanged if same else skipped).append(relative)
                continue
            overwritten.append(relative)
        else:
            written.append(relative)
        _write(path, content)
    return InstallReport(root=str(root), written=tuple(written), overwritten=tuple(overwritten),
                         skipped=tuple(skipped), unchanged=tuple(unchanged))

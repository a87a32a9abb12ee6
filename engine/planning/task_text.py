"""Reading a task sentence: its verb, subject and the parts it names.

"Implement user authentication with frontend and backend" → verb `implement`, subject
`user authentication` (slug stem `auth`), facets `backend`, `frontend`. The offline planner
turns these into subtasks; nothing here knows about the repo.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

FACETS: dict[str, tuple[str, ...]] = {
    "backend": ("backend", "back-end", "back end", "api", "server", "endpoint", "database"),
    "frontend": ("frontend", "front-end", "front end", "ui", "client", "component", "page"),
    "tests": ("test", "tests", "testing", "coverage", "spec"),
    "docs": ("doc", "docs", "documentation", "readme"),
    "changelog": ("changelog", "change log", "news fragment", "newsfragment", "release note", "changeset",
                  "news entry", "changelog entry"),
}
"""Facet name → words that name it in a task ("with frontend and backend")."""
_VERBS = {"implement", "add", "build", "create", "refactor", "fix", "write", "update",
          "improve", "migrate", "make", "design", "support", "introduce", "rework", "document"}
_ADDING = {"implement", "add", "build", "create", "write", "design", "introduce", "support"}
"""Verbs whose "with …" names more to build ("add a merge command with conflict review")."""
_CONVENTIONAL = re.compile(r"^([A-Za-z]+)(?:\(([^)]*)\))?!?:\s*(.+)$")
_KIND_VERBS = {"feat": "add", "feature": "add", "fix": "fix", "perf": "improve", "refactor": "refactor",
               "docs": "document", "doc": "document", "test": "update", "tests": "update", "chore": "update",
               "ci": "update", "build": "update", "style": "update"}
_SHORT = {"authentication": "auth", "authorization": "authz", "configuration": "config",
          "documentation": "docs", "database": "db", "application": "app",
          "management": "mgmt", "notifications": "notify", "notification": "notify"}
_STOP = {"the", "a", "an", "new", "some", "of", "for", "to", "in", "on", "our", "my", "this"}
_GENERIC = {"module", "modules", "system", "feature", "features", "support", "code", "layer",
            "service", "functionality", "logic", "entire", "whole", "all", "flow", "part",
            "command", "commands", "function", "class", "method", "option", "flag", "screen",
            "page", "view", "tool", "script", "handler", "helper", "button", "widget", "dialog"}
_ACTIONS = {"move", "hash", "rate-limit", "limit", "throttle", "encrypt", "decrypt", "validate", "cache",
            "store", "remove", "delete", "drop", "replace", "rename", "switch", "convert", "enable",
            "disable", "allow", "prevent", "protect", "log", "handle", "expose", "split", "merge",
            "extract", "use", "require", "enforce", "sanitize", "escape", "persist", "sign", "verify",
            "check", "ensure", "port", "upgrade", "deprecate", "optimize", "speed", "reduce", "paginate",
            "sort", "filter", "translate", "localize", "secure", "audit", "retry", "cap",
            "serve", "send", "parse", "render", "show", "hide", "load", "save", "expire", "rotate"}
"""Verbs that open a requirement in a list of verb phrases ("move sessions to Redis, hash passwords")."""
_CONSTRAINT = re.compile(r"^(?:do\s+not|don't|dont|never|without|must\s+not|should\s+not|avoid|while|"
                         r"keep|but)\b", re.IGNORECASE)
"""A clause that limits the change ("do not break the public API") rather than naming work."""
_CLAUSE_SPLIT = re.compile(r"\s*(?:,|;|\band\b|\bplus\b|&)\s*", re.IGNORECASE)
_SPLIT = re.compile(r"\s*(?:,|;|\band\b|\bplus\b|&)\s*", re.IGNORECASE)


@dataclass(frozen=True, slots=True, kw_only=True)
class TaskShape:
    verb: str
    subject: str
    stem: str
    """Short slug word for names and files: `auth`, `billing`."""
    features: tuple[str, ...]
    """Independent features named in the head ("login page, password reset")."""
    facets: tuple[str, ...]
    """Layers named after "with" or anywhere: backend, frontend, tests, docs."""
    head: str = ""
    """The subject's head word as written ("authentication"), which localization weighs most."""
    scope: str = ""
    """The scope of a conventional-commit subject (`fix(router): …` → `router`): where, not what."""
    clauses: bool = False
    """The features are whole verb phrases ("move sessions to Redis, hash passwords"), each
    carrying its own verb, in the task's own words."""


_NEW_MODULE = re.compile(r"\b(?:new|separate|its own|own|dedicated)\s+(?:\w+\s+)?(?:module|file|package|"
                         r"plugin|component|page|template|command|endpoint|class)\b", re.IGNORECASE)
_SMALL_CHANGE = re.compile(r"\b(typo|typos|spelling|wording|message|rename|bump|tweak|minor|one-line|"
                           r"comment|docstring|log line|warning text)\b", re.IGNORECASE)


def asks_for_new_module(task: str) -> bool:
    """The task asks for a new file ("a new module for …"); otherwise the plan modifies what exists."""
    return bool(_NEW_MODULE.search(task))


def is_small_change(task: str) -> bool:
    """One small change: a typo, a message, a rename: one session, minutes not hours."""
    return bool(_SMALL_CHANGE.search(task)) and len(read_task(task).features) <= 1


def requirements(task: str) -> tuple[int, tuple[str, ...]]:
    """What the task asks for: how many features (or layers), and the extras it names (tests,
    docs, a changelog entry)."""
    shape = read_task(task)
    layers = sum(f in shape.facets for f in ("backend", "frontend"))
    return max(1, len(shape.features), layers), tuple(f for f in ("tests", "docs", "changelog")
                                                      if f in shape.facets)


def slug(text: str, *, limit: int = 40) -> str:
    """Lowercase `[a-z0-9-]`, no leading/trailing dashes; `task` when nothing is left."""
    cleaned = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return cleaned[:limit].rstrip("-") or "task"


def read_task(task: str) -> TaskShape:
    text = " ".join(task.split())
    kind_verb, scope, text = _conventional(text)
    plain = re.sub(r"\s*\([^)]*\)", "", text)  # "(#123)", "(see x, y)": not parts of the task
    listed = _verb_clauses(plain)
    if listed is not None:
        return _clause_shape(*listed, scope=scope)
    head, *rest = re.split(r"\s+with\s+", plain, maxsplit=1, flags=re.IGNORECASE)
    tail = rest[0] if rest else ""
    words = head.split()
    first = words[0].lower() if words else ""
    verb = first if first in _VERBS else kind_verb or "update"  # a sentence with no verb adds nothing
    body = " ".join(words[1:]) if first in _VERBS else head
    own = _pieces(body)
    pieces = _pieces(tail, merge=False)
    extra = [p for p in pieces if not _facets(p)]  # "with conflict review and tests": a feature
    if verb not in _ADDING:  # "fix the handler with the value passed": one change, described
        extra = []
    features = tuple(own + extra)
    facets = _facets(" ".join(p for p in pieces if _facets(p))) or _facets(text, only_explicit=True)
    subject = own[0] if len(own) == 1 else body
    return TaskShape(verb=verb, subject=subject, stem=_stem(subject), features=features,
                     facets=facets, head=_head(subject), scope=scope)


def _verb_clauses(text: str) -> tuple[list[str], list[str]] | None:
    """A list of verb phrases ("move sessions to Redis, add CSRF protection, with tests, and do
    not break the API"): the requirements in their own words, and the "with …" clauses and
    verb phrases that name only tests or docs; None unless at least two requirements are listed.
    Constraints ("do not break …") are neither."""
    features: list[str] = []
    extras: list[str] = []
    current: list[str] | None = None
    for piece in (p.strip(" .") for p in _CLAUSE_SPLIT.split(text)):
        if not piece:
            continue
        first = piece.split()[0].lower()
        if _CONSTRAINT.match(piece):
            current = None
        elif first == "with":
            extras.append(piece[len(first):].strip())
            current = extras
        elif first in _VERBS | _ACTIONS and _is_extra(piece):
            extras.append(piece)
            current = extras
        elif first in _VERBS | _ACTIONS:
            features.append(piece)
            current = features
        elif current is not None:  # "add login, logout": a one-word item qualifies the clause
            current[-1] = f"{current[-1]} and {piece}"
        elif not features:
            return None
    return (features, extras) if len(features) >= 2 else None


def _is_extra(clause: str) -> bool:
    """A verb phrase about tests, docs or a changelog only ("update the docs", "add tests")."""
    words = [w.lower() for w in re.findall(r"[A-Za-z]+", clause)[1:] if w.lower() not in _STOP]
    names = {w for f in ("tests", "docs", "changelog") for w in FACETS[f]} | {"unit", "integration", "entry"}
    return bool(words) and all(w in names or w.rstrip("s") in names for w in words)


def _clause_shape(features: list[str], extras: list[str], *, scope: str) -> TaskShape:
    """A task listing requirements as verb phrases: one feature per phrase, its own verb leading;
    tests and docs come only from its "with …" and tests/docs clauses."""
    verb = features[0].split()[0].lower()
    facets = tuple(f for f in _facets(" ".join(extras)) if f in ("tests", "docs", "changelog"))
    layers = _facets(" ".join(features), only_explicit=True)
    subject = ", ".join(features)
    return TaskShape(verb=verb if verb in _VERBS else "update", subject=subject, stem=_stem(subject),
                     features=tuple(features), facets=tuple(f for f in FACETS if f in (*layers, *facets)),
                     head="", scope=scope, clauses=True)


def _conventional(text: str) -> tuple[str, str, str]:
    """A conventional-commit subject (`fix(router): …`): its type's verb, its scope words and the
    rest; ("", "", text) for any other sentence."""
    found = _CONVENTIONAL.match(text)
    if not found or found.group(1).lower() not in _KIND_VERBS:
        return "", "", text
    scope = " ".join(re.findall(r"[A-Za-z0-9_-]+", found.group(2) or ""))
    return _KIND_VERBS[found.group(1).lower()], scope, found.group(3)


def _pieces(text: str, *, merge: bool = True) -> list[str]:
    """The parts a list names; a one-word item ("query, headers and params") qualifies the
    part before it rather than naming a feature of its own."""
    out: list[str] = []
    for piece in (p for p in (_clean(x) for x in _SPLIT.split(text)) if p):
        if merge and out and len(piece.split()) == 1:
            out[-1] = f"{out[-1]} {piece}"
        else:
            out.append(piece)
    return out


def _clean(part: str) -> str:
    words = [w for w in part.strip(" .").split() if w.lower() not in _STOP]
    return " ".join(words)


def _stem(subject: str) -> str:
    head = _head(subject)
    return _SHORT.get(head, slug(head, limit=16)) if head else "task"


def _head(subject: str) -> str:
    """The last specific word: in "user authentication" the noun the others qualify."""
    words = [w.lower() for w in re.findall(r"[A-Za-z0-9]+", subject)
             if w.lower() not in _STOP and not w.isdigit()]  # "(#2429)" names an issue, not the work
    specific = [w for w in words if w not in _GENERIC] or words
    return specific[-1] if specific else ""


def _facets(text: str, *, only_explicit: bool = False) -> tuple[str, ...]:
    """Facets named in `text`; with only_explicit, just the unmistakable layer words."""
    found = []
    lowered = text.lower()
    for facet, words in FACETS.items():
        candidates = words[:3] if only_explicit else words
        if any(re.search(rf"\b{re.escape(w)}s?\b", lowered) for w in candidates):
            found.append(facet)
    return tuple(found)

"""The Approver port: the one way the engine asks a person before it changes something.

Every decision (a launch, a merge, pull requests, a stop, a cleanup, adopting orphans) is a
`Decision` the engine states in its own words; a face answers through one function. The CLI
answers with a flag (`--yes`) or a prompt on its terminal; the app asks in a modal first and
hands the engine an approver that agrees only to what the person saw (`approved`), since the
branches or leftovers may change while the modal is open.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, TypeAlias

Action: TypeAlias = Literal["launch", "resume", "merge", "prs", "stop", "cleanup", "adopt"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Decision:
    """What the engine is about to do, for a person to approve."""

    action: Action
    question: str
    """One line a prompt asks (no question mark): "Clean up 3 item(s)"."""
    detail: str
    """Exactly what would happen, in the engine's words (a merge's preview, the leftovers)."""
    subject: object = None
    """The values it is about, for a face that lists them its own way (the leftovers, the
    orphans)."""


Approver: TypeAlias = Callable[[Decision], bool]


def approve_all(_decision: Decision) -> bool:
    """Go ahead without asking (`--yes`, or a caller that asked already)."""
    return True


def approved(detail: str) -> Approver:
    """Agree only to a decision whose detail is `detail`: what the person was shown (else the
    engine does nothing and says the thing changed)."""
    return lambda decision: decision.detail == detail

"""The launch and stop Decisions, in the engine's words: what a face shows before it answers.

Every face asks the same question (the app's modal shows the detail, the CLI prompts with the
question), and `Engine.start_run` / `Engine.stop` ask it again before they act, so an approver
that agrees only to what the person saw (`approval.approved`) refuses a plan that changed.
"""

from __future__ import annotations

from collections.abc import Sequence

from engine.core.approval import Decision
from engine.core.models import Plan, Subtask
from engine.core.numfmt import fixed

FREE_AGENTS = frozenset({"demo"})
"""Agents that spend nothing (the demo agent only sleeps and commits)."""


def launch_decision(subtasks: Sequence[Subtask], agent: str, where: str, plan: Plan | None) -> Decision:
    """How many sessions, which agent where, the model's estimate, and what it costs."""
    n = len(subtasks)
    question = f"Start {n} session{'s' * (n != 1)} of agent {agent} {where}"
    lines = [f"{question}, one per approved subtask:", "  " + ", ".join(s.name for s in subtasks)]
    if plan is not None:
        row = plan.overhead.row(min(max(n, 1), 10))
        lines.append(f"Estimate (modelled): about {fixed(row.total_minutes)} min of wall time, against "
                     f"{fixed(plan.overhead.sequential_minutes)} min for one session doing it all.")
    lines.append("The demo agent spends nothing." if agent in FREE_AGENTS else
                 f"Each {agent} session spends from your login or API key until it ends (s stops one).")
    return Decision(action="launch", question=question, detail="\n".join(lines), subject=tuple(subtasks))


def stop_decision(name: str) -> Decision:
    """Stopping loses the agent's uncommitted work: the question says so."""
    return Decision(action="stop", question=f"Stop {name}",
                    detail=f"Stop {name}'s agent (ctrl+c, then SIGTERM)? Its branch and the commits it "
                           "made stay; the work it has not committed is lost.", subject=name)

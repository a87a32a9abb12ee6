"""Human renderings of engine records for the CLI: aligned tables, the spec's plan layout.

The TUI draws its own widgets from the same records; these strings are for terminals and
logs, so they stay plain text (no Rich).
"""

from __future__ import annotations

from collections.abc import Sequence

from engine.core.models import ModelConstant, OverheadTable, Plan, PlannerUsage, RepoProfile, WavesEstimate
from engine.core.numfmt import fixed
from engine.planning.overhead import row_mark

RULE = "=" * 60
_MARKS = {"optimal": " ← OPTIMAL", "over_cap": " (over the cap)", "": ""}


def overhead_lines(table: OverheadTable) -> list[str]:
    """The spec's table: Splits | Parallel Time | Overhead | Total | Savings, optimal marked."""
    lines = ["Splits | Parallel Time | Overhead | Total  | Savings",
             "-------|---------------|----------|--------|--------"]
    for r in table.rows:
        mark = _MARKS[row_mark(table, r.splits)]
        lines.append(f"  {r.splits:>2}   | {fixed(r.parallel_minutes):>9} min  | "
                     f"{fixed(r.overhead_minutes):>4} min | {fixed(r.total_minutes):>6} | "
                     f"{fixed(r.savings_pct, 0):>5}%{mark}")
    be = table.break_even_splits
    lines += ["",
              f"Sequential estimate: {table.sequential_minutes:g} min; break-even: "
              f"{be if be else 'none'}; optimal: {table.optimal_splits} "
              f"(cap {table.split_cap}: {table.cap_reason})",
              f"Worth parallelising: {'yes' if table.is_worth_parallelizing else 'no'} — "
              f"{table.reason}"]
    return lines


def analysis_lines(p: RepoProfile) -> list[str]:
    lines = [f"Repository: {p.root} @ {p.head[:12]}" + ("  (cached)" if p.cached else ""),
             f"Files: {p.files}   LOC: {p.loc}   Complexity: {p.complexity_score}   "
             f"Max splits: {p.max_splits} ({p.max_splits_reason})",
             f"Churn ({p.churn.days} days): {p.churn.commits} commits, {p.churn.files} files",
             "Modules:"]
    lines += [f"  {m.path:<32} {m.files:>6} files {m.loc:>9} LOC" for m in p.modules[:20]]
    if len(p.modules) > 20:
        lines.append(f"  … and {len(p.modules) - 20} more")
    if p.languages:
        lines.append("Languages: " + ", ".join(f"{g.name} {g.files}" for g in p.languages[:8]))
    if p.churn.hot_files:
        lines.append("Hot files: " + ", ".join(f"{h.path} ({h.commits})"
                                              for h in p.churn.hot_files[:5]))
    lines.append(f"Existing worktrees: {len(p.worktrees)}")
    lines += [f"  {w.path} [{w.branch or 'detached'}]" for w in p.worktrees]
    return lines


def _bar(confidence: float) -> str:
    filled = round(confidence * 5)
    return "█" * filled + "░" * (5 - filled)


def plan_lines(plan: Plan) -> list[str]:
    """The spec's SUBTASKS WITH AGENT RECOMMENDATIONS layout, then checks and verdict."""
    v = plan.validation
    lines = [RULE, "SUBTASKS WITH AGENT RECOMMENDATIONS", RULE, ""]
    for i, s in enumerate(plan.subtasks, 1):
        lines += [f"{i}. {s.name}", f"   Description: {s.description}"]
        if s.files_to_modify:
            lines.append(f"   Files to modify: {', '.join(s.files_to_modify)}")
        if s.files_to_create:
            lines.append(f"   Files to create: {', '.join(s.files_to_create)}")
        if s.depends_on:
            lines.append(f"   Depends on: {', '.join(s.depends_on)}")
        if s.agent:
            lines += [f"   Agent: {s.agent.name} [{_bar(s.agent.confidence)}] "
                      f"{fixed(s.agent.confidence * 100, 0)}%",
                      f"   Skill: {s.agent.skill}", f"   Why: {s.agent.why}"]
        lines.append("")
    lines += [RULE, "AGENT ASSIGNMENT SUMMARY", RULE]
    for agent, names in plan.assignments.items():
        lines += [f"  {agent}:"] + [f"    → {n}" for n in names]
    lines += ["", f"Conflict risk: {v.conflict_risk.value}"]
    lines += [f"  - {r}" for r in v.risk_reasons]
    lines += [f"Problem: {p}" for p in v.problems] + [f"Warning: {w}" for w in v.warnings]
    lines += [f"Note: {n}" for n in plan.planner_notes]
    lines.append(planner_line(plan))
    if plan.fallback_reason:
        lines.append(f"Planner fell back to offline: {plan.fallback_reason}")
    lines += ["", "Checklist:"]
    lines += [f"  [{'x' if c.ok else ' '}] {c.item} — {c.detail}" for c in plan.checklist]
    if plan.waves:
        lines += ["", waves_line(plan.waves)]
    lines += ["", f"Verdict: {'parallelise' if v.verdict.parallelize else 'do not parallelise'}"
                  f" — {v.verdict.reason}"]
    return lines


def planner_line(plan: Plan) -> str:
    """Which planner drafted, why that one, and what it cost (notional on a subscription login)."""
    line = f"Planner: {plan.planner}" + (f" — {plan.planner_reason}" if plan.planner_reason else "")
    cost = planner_cost(plan.planner_usage)
    return f"{line}; {cost}" if cost else line


def planner_cost(usage: PlannerUsage | None) -> str:
    """`cost $0.0123`, labelled when it is notional (Claude Code on a subscription login); "" when
    the planner reported none."""
    if usage is None or usage.cost_usd is None:
        return ""
    label = " (notional: a subscription login is not billed per token)" if usage.cost_notional else ""
    return f"cost ${usage.cost_usd:.4f}{label}"


def waves_line(w: WavesEstimate) -> str:
    """The second, labelled estimate of a plan with dependencies (the spec's table above it
    assumes independent subtasks): the critical path instead of sequential / N."""
    return (f"With waves: {fixed(w.total_minutes)} min total, {fixed(w.savings_pct, 0)}% savings — critical "
            f"path {' → '.join(w.critical_path)} ({fixed(w.critical_minutes)} min of work × coordination = "
            f"{fixed(w.parallel_minutes)} min) + {fixed(w.overhead_minutes)} min overhead for "
            f"{w.splits} sessions")


def model_line(constants: Sequence[ModelConstant]) -> str:
    """Which overhead constants are measured on this repo's runs and which are the seed."""
    parts = [f"{c.name} {c.value:.3g} "
             + (f"(measured, {c.runs} runs)" if c.source == "measured" else "(seed)") for c in constants]
    return "model: " + "; ".join(parts)

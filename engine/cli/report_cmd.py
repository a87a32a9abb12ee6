"""`parallel-tui report` and `history`: predicted vs measured, per stage and per run."""

from __future__ import annotations

import argparse
from pathlib import Path

from engine.cli.parser import add_common, add_run_option
from engine.cli.session_cmds import Verb
from engine.core.jsonio import dumps
from engine.planning.chart import stage_chart
from engine.report.efficiency import MEASURED_VS_MODELLED, RunReport, SessionLine
from engine.report.history import HistoryLine
from engine.service import build_engine, run_inline

REPORT, HISTORY = "report", "history"


def add_report_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(REPORT, help="a run's efficiency: predicted vs measured, per stage")
    add_common(p)
    add_run_option(p)
    p.set_defaults(func=report)


def add_history_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(HISTORY, help="this repo's past runs: predicted vs actual, outcome")
    add_common(p)
    p.set_defaults(func=show_history)


def report(args: argparse.Namespace) -> int:
    data = run_inline(build_engine(Path(args.repo), inline=True).report(args.run_id))
    print(dumps(data) if args.json else render_report(data))
    return 0


def show_history(args: argparse.Namespace) -> int:
    lines = run_inline(build_engine(Path(args.repo), inline=True).history())
    print(dumps({"runs": lines}) if args.json else render_history(lines))
    return 0


REPORT_VERB = Verb(REPORT, add_report_parser, report)
HISTORY_VERB = Verb(HISTORY, add_history_parser, show_history)


def _m(seconds: float | None) -> str:
    return "—" if seconds is None else f"{seconds / 60:.1f} min"


def _s(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    return f"{seconds:.2f}s" if seconds < 10 else f"{seconds:.1f}s"


def render_report(r: RunReport) -> str:
    lines = [f"run {r.run} ({r.outcome}) — {r.task or 'no task text'}"]
    if r.predicted:
        p = r.predicted
        lines.append(f"modelled: sequential {p.sequential_minutes:.1f} min "
                     f"({r.sources['sequential_minutes']}); {p.splits} splits → {p.total_minutes:.1f} min, "
                     f"{p.savings_pct:.0f}% savings")
        lines.append(f"specialization bonus: +{p.specialization_bonus_pct:.0f}% — modelled (spec), "
                     "not measured")
    else:
        lines.append("modelled: no estimate was recorded for this run")
    a = r.actual
    lines.append(f"measured: wall {_m(a.wall_seconds)} (active {_m(a.active_seconds)}, "
                 f"waiting for a person {_m(a.waiting_seconds)})")
    if r.realised_savings_pct is not None:
        lines.append(f"realised savings: {r.realised_savings_pct:.0f}% ({MEASURED_VS_MODELLED})")
    lines.append(f"{'stage':<18} {'modelled':>9} {'measured':>9}  n")
    for st in r.stages:
        note = f"  {st.note}" if st.note else ""
        lines.append(f"{st.name:<18} {_s(st.modelled_seconds):>9} {_s(st.measured_seconds):>9}  "
                     f"{st.samples}{note}")
    for s in r.sessions:
        cost = f"${s.cost_usd:.4f}" if s.cost_usd is not None else "cost —"
        where = "" if s.host == "local" else f" on {s.host}"
        lines.append(f"  {s.name}: {s.state}, {_s(s.seconds)}, {cost} ({s.agent}{where}){_work(s)}")
        if s.refused_edits:
            lines.append(f"    refused {len(s.refused_edits)} edit(s) outside its files: "
                         + ", ".join(f"{r.path} ({r.decision})" for r in s.refused_edits))
    shown = [st for st in r.stages if st.modelled_seconds is not None or st.measured_seconds is not None]
    if shown:
        lines.append(stage_chart([st.name.replace("_", " ") for st in shown],
                                 [st.modelled_seconds or 0.0 for st in shown],
                                 [st.measured_seconds or 0.0 for st in shown]))
    return "\n".join(lines)


def _work(s: SessionLine) -> str:
    """What git says the session produced: nothing shown when its branch is gone unmerged."""
    if s.commits is None:
        return ""
    lines = f", +{s.lines_added}/−{s.lines_removed}" if s.lines_added is not None else ""
    return f", {s.commits} commit(s), {s.files_changed} file(s){lines}"


def render_history(lines: tuple[HistoryLine, ...]) -> str:
    if not lines:
        return "no runs for this repo yet: start one with `parallel-tui run`"
    out = [f"{'run':<22} {'N':>2} {'predicted':>10} {'actual':>10} {'cost':>9}  outcome  agents"]
    for h in lines:
        cost = f"${h.cost_usd:.3f}" if h.cost_usd is not None else "—"
        predicted = "—" if h.predicted_minutes is None else f"{h.predicted_minutes:.1f} min"
        actual = "—" if h.actual_minutes is None else f"{h.actual_minutes:.1f} min"
        out.append(f"{h.run:<22} {h.splits:>2} {predicted:>10} {actual:>10} {cost:>9}  {h.outcome}  "
                   f"{', '.join(h.agents)}")
    return "\n".join(out)

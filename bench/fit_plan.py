"""Refit the weights of `engine/planning/evidence.py` on the tuning histories' replayed changes.

    pip install scikit-learn    # this script only; the planner does not need it
    python bench/fit_plan.py --mirrors DIR

Each replayed change (`bench/replay.py`'s selection) is planned from its subject at its parent
commit; every candidate the offline planner weighs is labelled by whether the change touched it,
and a logistic regression over `evidence.features` is fitted to those labels. Only the tuning
histories are read: the untouched ones stay untouched. It prints, per threshold, coverage,
precision and files per plan with each repo held out of the fit (how the weights carry to a
repo they were not fitted on), then the weights to paste into `engine/planning/evidence.py`.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.histories import add_arguments, commits, keep_indexes, located, request_for
from bench.replay import select
from engine.analysis import cochange
from engine.analysis.layout import read_layout
from engine.analysis.localize_index import open_index
from engine.planning.evidence import features
from engine.planning.localize_plan import FilePicker
from engine.planning.offline import _conventions
from engine.planning.task_text import read_task

Row = tuple[str, int, str, tuple[float, ...], bool]
"""(repo, case, path, features, touched)."""


def candidates(repo: Path, parent: str, subject: str) -> list[tuple[str, tuple[float, ...]]]:
    index = open_index(repo, parent)
    request = request_for(repo, parent, subject, index.paths)
    picker = FilePicker(index=index, files=index.paths, head=read_task(subject).head,
                        layout=read_layout(request.repo, index.paths),
                        conventions=_conventions(repo, parent, index.paths),
                        history=cochange.read_history(repo, parent))
    ranking = picker.ranking(subject)
    work = picker.work_ranking(ranking, None)
    return [(c.path, features(c.evidence)) for c in picker.weigh(ranking, work, None, picker.voted(subject))]


def rows(args: argparse.Namespace) -> list[Row]:
    out: list[Row] = []
    case = 0
    for history, repo in located(args):
        if not history.tuning:
            continue
        for found in select(commits(repo, history), args.commits):
            touched = found.paths()
            out += [(history.name, case, path, x, path in touched)
                    for path, x in candidates(repo, found.parent, found.subject)]
            case += 1
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    add_arguments(parser)
    parser.add_argument("--commits", type=int, default=30)
    args = parser.parse_args(argv)
    try:
        from sklearn.linear_model import LogisticRegression  # noqa: PLC0415 - this script only
    except ImportError:
        print("bench/fit_plan.py needs scikit-learn: pip install scikit-learn", file=sys.stderr)
        return 2
    keep_indexes()
    with tempfile.TemporaryDirectory(prefix="ptui-fit-") as state:
        os.environ.setdefault("PARALLEL_TUI_HOME", state)
        data = rows(args)
    if not data:
        print("no tuning history was found: pass --mirrors DIR or --repo NAME=PATH", file=sys.stderr)
        return 2
    x = [r[3] for r in data]
    y = [r[4] for r in data]
    held: list[float] = [0.0] * len(data)
    for repo in sorted({r[0] for r in data}):
        inside = [i for i, r in enumerate(data) if r[0] != repo]
        model = LogisticRegression(max_iter=5000).fit([x[i] for i in inside], [y[i] for i in inside])
        out = [i for i, r in enumerate(data) if r[0] == repo]
        for i, p in zip(out, model.predict_proba([x[i] for i in out])[:, 1], strict=True):
            held[i] = float(p)
    for threshold in (0.1, 0.15, 0.17, 0.2, 0.25, 0.3):
        _report(data, held, threshold)
    model = LogisticRegression(max_iter=5000).fit(x, y)
    print("WEIGHTS =", tuple(round(float(w), 2) for w in model.coef_[0]))
    print("INTERCEPT =", round(float(model.intercept_[0]), 2))
    return 0


def _report(data: list[Row], held: list[float], threshold: float) -> None:
    """Candidates only (no changelog entry, no forced top file): how the threshold trades."""
    by_case: dict[int, list[tuple[float, bool]]] = defaultdict(list)
    for row, p in zip(data, held, strict=True):
        by_case[row[1]].append((p, row[4]))
    picked = [[t for p, t in found if p >= threshold][:8] for found in by_case.values()]
    chosen = sum(len(p) for p in picked)
    right = sum(sum(p) for p in picked)
    reachable = sum(t for found in by_case.values() for _, t in found)
    print(f"threshold {threshold:.2f}: {right} of {reachable} reachable touched files, precision "
          f"{100 * right / max(1, chosen):.0f} %, {chosen / max(1, len(by_case)):.1f} files per plan")


if __name__ == "__main__":
    sys.exit(main())

"""The real histories the planner benches replay, frozen before any tuning (issue #20).

Each entry names a public repository and a commit range; the benches walk the range newest
first and keep the commits that fit. The list and the ranges were fixed before the planner was
tuned, and split in two: `tuning` repos the planner was tuned on, `untouched` repos it never
saw while being tuned. The benches report the two sets apart, so the untouched figures say how
the planner does on a repository nobody looked at.

Where the repositories are is an argument, never in this list:

    --mirrors DIR          DIR/<owner>+<name>/repo or DIR/<name>.git (bare clones)
    --repo owner/name=PATH one repository at PATH
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TypeVar

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine.analysis import localize_index  # noqa: E402
from engine.analysis.languages import language_of  # noqa: E402
from engine.analysis.layout import area_of  # noqa: E402
from engine.analysis.localize_index import FileIndex, open_index  # noqa: E402
from engine.analysis.profile import find_modules, languages  # noqa: E402
from engine.core.config import ParallelConfig  # noqa: E402
from engine.core.models import Churn, RepoProfile  # noqa: E402
from engine.hosts.gitcli import git  # noqa: E402
from engine.planning.estimate import estimate  # noqa: E402
from engine.planning.offline import OfflinePlanner  # noqa: E402
from engine.planning.overhead import overhead_table  # noqa: E402
from engine.planning.port import PlanRequest  # noqa: E402


@dataclass(frozen=True, slots=True)
class History:
    name: str
    """owner/name on GitHub: `git clone --bare https://github.com/<name>.git`."""
    kind: str
    tuning: bool
    start: str
    """The range is start..end (start excluded), walked newest first."""
    end: str


HISTORIES: tuple[History, ...] = (
    History("python-attrs/attrs", "Python library, src/ layout, towncrier changelog.d/", True,
            "95bed4ee15748e6b60d755691a364a4b60948f79", "c1dc5dcba16ed827aa6dcad896b41a3afedb4e32"),
    History("honojs/hono", "TypeScript framework, x.test.ts beside the code", True,
            "e6913190b745f673b7d7fba37bdc1ccbeaf1ef87", "28a9c128912de19f3fb28b00ae289c9b93f6f392"),
    History("spf13/cobra", "Go library, x_test.go", True,
            "fe69f2e3a341cc3f84b5416441d1e6a25bc8fb8f", "adbc8813901bba65827259daa8e22ff94ec1f30e"),
    History("mkdocs/mkdocs", "Python application with templates and stylesheets", True,
            "e0835482a57f09775582745a61d5e705e69971a1", "2862536793b3c67d9d83c33e0dd6d50a791928f8"),
    History("pypa/pip", "large Python application, towncrier news/, tests/unit/", False,
            "031c34e94a95c6de9236b26f7b0710588260bbb5", "6d309205789d368b2749d93fd6193d584811efd5"),
    History("ansible/ansible", "5,000-file application, changelogs/fragments/, test/units/", False,
            "dc3c88be8bbe10d6e206eafc8471a94e84108947", "c9ac477e53a99e95781f333eec3329a935c1bf95"),
    History("caddyserver/caddy", "Go server, x_test.go, Caddyfile adapters", False,
            "0de6064c3b1ae28388f2ef58f896652dd99fc58f", "0cf03d32f7d99cf160d5375e8a40fbe3d910d515"),
)

CODE_LANGUAGES = {"Python", "JavaScript", "TypeScript", "Go", "Rust", "Java", "Kotlin", "Ruby", "PHP",
                  "C", "C++", "C#", "Swift", "Scala", "Vue", "Svelte", "Lua", "Elixir", "Dart", "Shell"}
_PAGE_EXTS = (".html", ".jinja", ".j2", ".css", ".scss", ".less", ".toml", ".yml", ".yaml", ".json",
              ".cfg", ".ini", ".tmpl", ".gotmpl")
NOISE = re.compile(r"^(merge|bump|revert|release|prepare|\[pre-commit|pre-commit|update changelog|"
                   r"build\(deps\)|chore\(deps\)|chore: release|version packages|\[bot\])", re.IGNORECASE)
_CHANGELOG = re.compile(r"(^|/)(changelog|changes|history|news)(\.[a-z]+)?$|(^|/)(changelog\.d|newsfragments|"
                        r"news|fragments|\.changeset|\.changes|releasenotes)/", re.IGNORECASE)


def is_changelog(path: str) -> bool:
    return bool(_CHANGELOG.search(path))


def is_test(path: str) -> bool:
    return area_of(path) == "tests" and not is_changelog(path)


def is_source(path: str) -> bool:
    """What a change's own work is: code, and the templates, stylesheets and config beside it."""
    if is_changelog(path) or area_of(path) in ("tests", "docs"):
        return False
    return language_of(path) in CODE_LANGUAGES or path.lower().endswith(_PAGE_EXTS)


def is_doc(path: str) -> bool:
    return area_of(path) == "docs" and not is_changelog(path) and not is_test(path)


@dataclass(frozen=True, slots=True)
class Commit:
    commit: str
    parent: str
    subject: str
    status: tuple[tuple[str, str], ...]
    """(status letter, path) of every file the commit touched."""

    def paths(self) -> set[str]:
        return {p for _, p in self.status}


def commits(repo: Path, history: History) -> list[Commit]:
    """Non-merge commits of the range, newest first, with a descriptive subject."""
    log = git(repo, "log", "--no-merges", "--no-renames", "--format=%x01%H %P%x02%s", "--name-status",
              f"{history.start}..{history.end}")
    out = []
    for chunk in log.split("\x01")[1:]:
        head, _, body = chunk.partition("\x02")
        ids = head.split()
        subject, *changes = body.strip("\n").split("\n")
        if len(ids) != 2 or NOISE.match(subject) or len(subject.split()) < 4:
            continue
        status = tuple((p[0][0], p[-1]) for p in (c.split("\t") for c in changes if c.strip()))
        out.append(Commit(commit=ids[0], parent=ids[1], subject=subject, status=status))
    return out


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--mirrors", type=Path,
                        help="folder of bare clones: <owner>+<name>/repo or <name>.git")
    parser.add_argument("--repo", action="append", default=[], metavar="OWNER/NAME=PATH",
                        help="one repository of the list at PATH (repeatable)")
    parser.add_argument("--only", action="append", default=[], help="only these owner/name (repeatable)")
    parser.add_argument("--set", choices=("all", "tuning", "untouched"), default="all")


def located(args: argparse.Namespace) -> list[tuple[History, Path]]:
    """The listed histories found where the arguments say; one line per missing one."""
    given = dict(item.split("=", 1) for item in args.repo)
    found = []
    for history in HISTORIES:
        if args.only and history.name not in args.only:
            continue
        if args.set != "all" and history.tuning != (args.set == "tuning"):
            continue
        path = _where(history.name, given, args.mirrors)
        if path is None:
            print(f"skipped {history.name}: not found; clone it with `git clone --bare "
                  f"https://github.com/{history.name}.git` and pass --mirrors or --repo", file=sys.stderr)
            continue
        found.append((history, path))
    return found


def _where(name: str, given: dict[str, str], mirrors: Path | None) -> Path | None:
    if name in given:
        return Path(given[name])
    if mirrors is None:
        return None
    owner, repo = name.split("/")
    for candidate in (mirrors / f"{owner}+{repo}" / "repo", mirrors / f"{repo}.git", mirrors / repo):
        if candidate.exists():
            return candidate
    return None


def request_for(repo: Path, commit: str, subject: str, files: list[str]) -> PlanRequest:
    """What `plan` would build at `commit`, from git's objects (no checkout, no LOC)."""
    config = ParallelConfig()
    profile = RepoProfile(root=str(repo), head=commit, files=len(files), loc=0,
                          modules=find_modules(files, {}, config.min_files_per_subtask),
                          languages=languages(files, {}), churn=Churn(days=30, commits=0, files=0),
                          worktrees=(), complexity_score=0.5, max_splits=10, max_splits_reason="")
    est = estimate(subject, profile.complexity_score)
    table = overhead_table(est.sequential_minutes, config)
    return PlanRequest(task=subject, repo=profile, files=tuple(files), splits=table.optimal_splits,
                       overhead=table, estimate=est, config=config)


@dataclass(frozen=True, slots=True)
class Planned:
    files: tuple[str, ...]
    subtasks: int
    parallelise: bool
    index: FileIndex


def plan_at(repo: Path, parent: str, subject: str) -> Planned:
    """The offline plan for `subject` on the tree of `parent`, and the verdict's first rule: more
    than one subtask and a task long enough to pay for a split."""
    index = open_index(repo, parent)
    request = request_for(repo, parent, subject, index.paths)
    draft = asyncio.run(OfflinePlanner(index).draft(request))
    files = tuple(dict.fromkeys(f for s in draft.subtasks for f in s.files()))
    table = overhead_table(request.estimate.sequential_minutes, request.config)
    return Planned(files=files, subtasks=len(draft.subtasks), index=index,
                   parallelise=len(draft.subtasks) > 1 and table.is_worth_parallelizing)


def keep_indexes() -> None:
    """The benches build one index per commit; keep them all for the run (its own state folder)."""
    localize_index.KEEP_INDEXES = 1_000_000


T = TypeVar("T", bound="Tallies")


class Tallies(Protocol):
    """What both planner benches count per repo: a row to print and a sum."""

    def row(self, label: str) -> str: ...
    def add(self, other: Any) -> None: ...


def print_groups(results: Sequence[tuple[History, T, T]], make: Callable[[], T],
                 per_repo: Callable[[T, T], bool] = lambda _ours, _base: True) -> tuple[T, T, bool]:
    """Each repo's row and its baseline's, then each set's (tuning, untouched), then the overall
    sums: both benches report the same way, so the sets are never mixed. `per_repo` is each repo's
    goal; the result says whether all met it."""
    met = True
    overall, overall_base = make(), make()
    for label, tuning in (("tuning", True), ("untouched", False)):
        group = [(h, o, b) for h, o, b in results if h.tuning == tuning]
        if not group:
            continue
        total, total_base = make(), make()
        for history, ours, base in group:
            print(ours.row(history.name))
            print(base.row("  path-token baseline"))
            total.add(ours)
            total_base.add(base)
            met &= per_repo(ours, base)
        print(total.row(f"**{label}**"))
        print(total_base.row(f"  {label} baseline"))
        overall.add(total)
        overall_base.add(total_base)
    print(overall.row("**overall**"))
    print(overall_base.row("  overall baseline"))
    return overall, overall_base, met


def main(argv: list[str] | None = None) -> int:
    """`python bench/histories.py DIR`: bare clones of the listed repositories into DIR (skips
    those already there), for `--mirrors DIR`."""
    parser = argparse.ArgumentParser(description="clone the benches' repositories (bare) into DIR")
    parser.add_argument("dir", type=Path)
    args = parser.parse_args(argv)
    args.dir.mkdir(parents=True, exist_ok=True)
    for history in HISTORIES:
        target = args.dir / f"{history.name.split('/')[1]}.git"
        if _where(history.name, {}, args.dir) is not None:
            continue
        print(f"cloning {history.name} into {target}", file=sys.stderr)
        git(args.dir, "clone", "--bare", "--quiet", f"https://github.com/{history.name}.git", str(target))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The offline plan follows the repo's history outward from the file a task names: the files and
tests that change with it are planned, the existing test module is modified, a changelog fragment
takes the type the repo's recent fragments use. Real git repos with real histories."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from engine.cli.main import main
from engine.core import ownership
from engine.planning.evidence import THRESHOLD, Evidence, likelihood
from tests.conftest import RepoFactory
from tests.gitrepo import commit

SHOP = {
    "src/shop/__init__.py": "",
    "src/shop/cart.py": "def apply_discount(total, rate):\n    return total * (1 - rate)\n",
    "src/shop/pricing.py": "from shop.cart import apply_discount\n\n\ndef price(t):\n"
                           "    return apply_discount(t, 0.1)\n",
    "src/shop/reports.py": "from shop.cart import apply_discount\n\n\ndef report(t):\n"
                           "    return apply_discount(t, 0.0)\n",
    "src/shop/stock.py": "def count():\n    return 0\n",
    "tests/test_cart.py": "from shop.cart import apply_discount\n\n\ndef test_cart():\n"
                          "    assert apply_discount(10, 0) == 10\n",
    "tests/test_checkout.py": "from shop.pricing import price\n\n\ndef test_checkout_discount():\n"
                              "    assert price(10) == 9\n",
    "tests/test_stock.py": "def test_stock():\n    pass\n",
}


def plan_files(capsys: pytest.CaptureFixture[str], task: str, repo: Path) -> dict[str, list[str]]:
    assert main(["plan", task, "--repo", str(repo), "--json", "--planner", "offline"]) == 0
    data: dict[str, Any] = json.loads(capsys.readouterr().out)
    return {"modify": [p for s in data["subtasks"] for p in s["files_to_modify"]],
            "create": [p for s in data["subtasks"] for p in s["files_to_create"]]}


@pytest.fixture
def shop(repo_factory: RepoFactory) -> Path:
    """cart.py changes with pricing.py and tests/test_checkout.py; reports.py uses the same
    function but changes on its own; enough commits for the history to speak."""
    repo = repo_factory(SHOP)
    for i in range(6):
        commit(repo, {"src/shop/cart.py": SHOP["src/shop/cart.py"] + f"\n# {i}\n",
                      "src/shop/pricing.py": SHOP["src/shop/pricing.py"] + f"\n# {i}\n",
                      "tests/test_checkout.py": SHOP["tests/test_checkout.py"] + f"\n# {i}\n"},
               f"pricing round {i}")
        commit(repo, {"src/shop/reports.py": SHOP["src/shop/reports.py"] + f"\n# {i}\n"}, f"report {i}")
        commit(repo, {"src/shop/stock.py": SHOP["src/shop/stock.py"] + f"\n# {i}\n"}, f"stock {i}")
    return repo


def test_files_the_history_changes_with_the_named_one_are_planned(
        shop: Path, capsys: pytest.CaptureFixture[str]) -> None:
    files = plan_files(capsys, "Fix rounding in apply_discount", shop)
    assert files["modify"][0] == "src/shop/cart.py"
    assert "src/shop/pricing.py" in files["modify"]  # always changed with cart.py
    assert "src/shop/reports.py" not in files["modify"]  # calls it too, but never changed with it
    assert "src/shop/stock.py" not in files["modify"]


def test_tests_the_history_changes_with_the_code_are_planned_and_modified(
        shop: Path, capsys: pytest.CaptureFixture[str]) -> None:
    files = plan_files(capsys, "Fix rounding in apply_discount", shop)
    assert "tests/test_cart.py" in files["modify"]  # named after cart.py: modified, never copied
    assert "tests/test_checkout.py" in files["modify"]  # not named after it, but changed with it
    assert "tests/test_stock.py" not in files["modify"]
    assert not [p for p in files["create"] if p.startswith("tests/")]


def test_a_fragment_takes_the_type_the_repo_uses(repo_factory: RepoFactory,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    towncrier = ('[tool.towncrier]\ndirectory = "changelog.d"\n'
                 '[[tool.towncrier.type]]\ndirectory = "breaking"\nname = "Breaking"\n'
                 '[[tool.towncrier.type]]\ndirectory = "change"\nname = "Changes"\n')
    repo = repo_factory({**SHOP, "pyproject.toml": towncrier, "changelog.d/.gitignore": "!.gitignore\n"})
    for i in range(12):  # each change recorded as a `.change.md` fragment, as the repo does
        commit(repo, {"src/shop/stock.py": SHOP["src/shop/stock.py"] + f"\n# {i}\n",
                      f"changelog.d/{100 + i}.change.md": f"Change {i}.\n"}, f"stock {i} (#{100 + i})")
    assert main(["plan", "Fix rounding in apply_discount (#321)", "--repo", str(repo), "--json",
                 "--planner", "offline"]) == 0
    [change] = json.loads(capsys.readouterr().out)["subtasks"]
    assert change["files_to_create"] == ["changelog.d/"]
    [why] = [r["why"] for r in change["file_reasons"] if r["path"] == "changelog.d/"]
    assert why.endswith("(e.g. changelog.d/321.change.md)")  # not the config's first type, `breaking`


def test_an_index_module_keeps_the_test_beside_it(repo_factory: RepoFactory,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    code = "export const etag = (weak: boolean) => weak\n"
    repo = repo_factory({
        "src/middleware/etag/index.ts": code,
        "src/middleware/etag/index.test.ts": "import { etag } from '.'\ntest('etag', () => {})\n",
        "src/middleware/cors/index.ts": "export const cors = () => null\n",
        "src/middleware/cors/index.test.ts": "import { cors } from '.'\ntest('cors', () => {})\n",
        "package.json": "{}\n",
    })
    files = plan_files(capsys, "Fix weak comparison in the etag middleware", repo)
    assert files["modify"][0] == "src/middleware/etag/index.ts"
    assert "src/middleware/etag/index.test.ts" in files["modify"]
    assert "src/middleware/cors/index.test.ts" not in files["modify"]


def test_of_two_files_the_words_rank_alike_the_one_in_use_comes_first(
        repo_factory: RepoFactory, capsys: pytest.CaptureFixture[str]) -> None:
    body = "def expire(session):\n    return session.expired\n"
    repo = repo_factory({"src/app/session_cache.py": body, "src/app/session_store.py": body,
                         "src/app/other.py": "X = 0\n"})
    for i in range(8):
        commit(repo, {"src/app/session_store.py": body + f"\n# {i}\n"}, f"store {i}")
        commit(repo, {"src/app/other.py": f"X = {i + 1}\n"}, f"other {i}")
    files = plan_files(capsys, "Fix session expiry", repo)
    assert files["modify"][0] == "src/app/session_store.py"


def test_the_plan_is_as_big_as_the_evidence(shop: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A file the history ties to others brings them along; one that changes alone comes alone."""
    tied = plan_files(capsys, "Fix rounding in apply_discount", shop)
    alone = plan_files(capsys, "Fix the stock count", shop)
    assert alone["modify"] == ["src/shop/stock.py", "tests/test_stock.py"]
    assert len(tied["modify"]) > len(alone["modify"])
    assert not set(tied["modify"]) & set(alone["modify"])


def test_likelihood_grows_with_the_evidence() -> None:
    weak = Evidence(rank=6, relative=0.3, words=1, area="backend", work=True, changes=2)
    assert likelihood(weak) < THRESHOLD
    tied = replace(weak, shares=(0.8, 0.0, 0.0))
    tested = replace(weak, area="tests", work=False, tests_rank=1)
    assert likelihood(tied) > likelihood(weak)
    assert likelihood(tested) > likelihood(weak)
    assert likelihood(replace(weak, similar=1.0)) > likelihood(replace(weak, similar=0.3)) > likelihood(weak)
    assert likelihood(replace(weak, rank=1, relative=1.0)) > THRESHOLD


def test_the_fragment_folder_owned_lets_the_session_name_its_fragment(
        repo_factory: RepoFactory, capsys: pytest.CaptureFixture[str]) -> None:
    """The plan owns a new file in the fragment folder, by the run's ownership rule: the session
    may write the fragment under the name the change turns out to need (its pull request's
    number, a `breaking` type), and nothing else outside its files."""
    towncrier = '[tool.towncrier]\ndirectory = "changelog.d"\n'
    repo = repo_factory({**SHOP, "pyproject.toml": towncrier, "changelog.d/100.change.md": "Old.\n"})
    assert main(["plan", "Fix rounding in apply_discount, with a changelog entry", "--repo", str(repo),
                 "--json", "--planner", "offline"]) == 0
    [change] = json.loads(capsys.readouterr().out)["subtasks"]
    owned = (*change["files_to_modify"], *change["files_to_create"])
    bounds = ownership.Boundaries(subtask=change["name"], worktree=str(repo), owned=owned)
    assert ownership.judge(bounds, "changelog.d/4242.breaking.md").allowed
    assert not ownership.judge(bounds, "src/shop/stock.py").allowed
    assert not ownership.judge(bounds, "CHANGELOG.md").allowed


def _targets(names: list[str]) -> dict[str, str]:
    """A repo that keeps each module's tests in a folder named after it (`targets/<module>/`)."""
    files = {"pyproject.toml": "[project]\nname = 'tool'\n"}
    for name in names:
        files[f"lib/tool/modules/{name}.py"] = f'"""What {name} does."""\n\n\ndef run_{name}():\n' \
                                               f"    return {name!r}\n"
        files[f"test/integration/targets/{name}/tasks/main.yml"] = f"- name: {name} works\n"
        files[f"test/integration/targets/{name}/aliases"] = "shippable/posix/group1\n"
    return files


def test_tests_go_to_the_folder_named_after_the_module(
        repo_factory: RepoFactory, capsys: pytest.CaptureFixture[str]) -> None:
    repo = repo_factory(_targets(["copy", "fetch", "user", "group", "stat", "find"]))
    files = plan_files(capsys, "Fix the copy module", repo)
    assert files["modify"][0] == "lib/tool/modules/copy.py"
    assert "test/integration/targets/copy/" in files["modify"]  # the whole folder: tasks, aliases, files
    assert "test/integration/targets/copy/tasks/main.yml" not in files["modify"]  # owned by the folder
    assert not [p for p in files["modify"] if p.startswith("test/integration/targets/fetch")]


def test_one_folder_that_shares_a_module_name_is_not_where_its_tests_are(
        repo_factory: RepoFactory, capsys: pytest.CaptureFixture[str]) -> None:
    repo = repo_factory(_targets(["copy", "fetch"]))  # two such folders: a coincidence, not a layout
    files = plan_files(capsys, "Fix the copy module", repo)
    assert files["modify"][0] == "lib/tool/modules/copy.py"
    assert "test/integration/targets/copy/" not in files["modify"]


def test_a_planned_manifest_brings_the_lock_the_history_changes_with_it(
        repo_factory: RepoFactory, capsys: pytest.CaptureFixture[str]) -> None:
    manifest = "[project]\nname = 'shop'\ndependencies = ['attrs']\n"
    repo = repo_factory({**SHOP, "pyproject.toml": manifest, "uv.lock": "version = 1\n",
                         "tools/pins.lock": "six==1\n"})
    for i in range(4):  # a dependency change rewrites the lock; the other lock changes on its own
        commit(repo, {"pyproject.toml": manifest.replace("'attrs'", f"'attrs>={i}'"),
                      "uv.lock": f"version = 1\n# {i}\n"}, f"deps {i}")
        commit(repo, {"tools/pins.lock": f"six=={i + 2}\n"}, f"pins {i}")
        commit(repo, {"src/shop/stock.py": SHOP["src/shop/stock.py"] + f"\n# {i}\n"}, f"stock {i}")
    files = plan_files(capsys, "Require a newer attrs in the pyproject dependencies", repo)
    assert files["modify"][0] == "pyproject.toml"
    assert "uv.lock" in files["modify"]
    assert "tools/pins.lock" not in files["modify"]


def test_a_changelog_entry_goes_with_the_changes_the_repo_records(
        repo_factory: RepoFactory, capsys: pytest.CaptureFixture[str]) -> None:
    """Code changes come with a fragment in this repo, tooling changes never do."""
    towncrier = '[tool.towncrier]\ndirectory = "changelog.d"\n'
    repo = repo_factory({**SHOP, "pyproject.toml": towncrier, "changelog.d/.gitkeep": "",
                         "tox.ini": "[tox]\nenv_list = lint\n"})
    for i in range(8):
        commit(repo, {"src/shop/cart.py": SHOP["src/shop/cart.py"] + f"\n# {i}\n",
                      f"changelog.d/{100 + i}.change.md": f"Change {i}.\n"}, f"cart {i} (#{100 + i})")
        commit(repo, {"tox.ini": f"[tox]\nenv_list = lint\n# python 3.{i}\n"}, f"tox {i}")
    code = plan_files(capsys, "Fix rounding in apply_discount", repo)
    tooling = plan_files(capsys, "Run the tox lint env on more Python versions", repo)
    asked = plan_files(capsys, "Run the tox lint env on more Python versions, with a changelog entry", repo)
    assert code["modify"][0] == "src/shop/cart.py" and "changelog.d/" in code["create"]
    assert tooling["modify"][0] == "tox.ini" and "changelog.d/" not in tooling["create"]
    assert "changelog.d/" in asked["create"]  # the task asks for one: it gets one


def test_files_past_commits_like_the_task_changed_are_planned(
        repo_factory: RepoFactory, capsys: pytest.CaptureFixture[str]) -> None:
    """theme.css and print.css read alike and each changed with render.py twice (print.css ranks
    first, by name); only theme.css did so in commits about the same thing as the task, so it
    comes first, saying why."""
    css = "/* colours for dark mode and contrast */\n"
    repo = repo_factory({"src/site/render.py": "def render_page(page):\n    return page\n",
                         "src/site/static/theme.css": css, "src/site/static/print.css": css,
                         "src/site/other.py": "X = 0\n"})
    for i in range(2):
        commit(repo, {"src/site/render.py": f"def render_page(page):\n    return page  # {i}\n",
                      "src/site/static/theme.css": css + f"body {{ color: #{i}{i}{i} }}\n"},
               f"Fix dark mode contrast of rendered pages, round {i}")
        commit(repo, {"src/site/render.py": f"def render_page(page):\n    return page  # p{i}\n",
                      "src/site/static/print.css": css + f"body {{ color: #{i}{i}{i} }}\n"},
               f"Tidy up output {i}")
    for i in range(4):
        commit(repo, {"src/site/render.py": f"def render_page(page):\n    return page  # r{i}\n"},
               f"Refactor render_page internals {i}")
        commit(repo, {"src/site/other.py": f"X = {i + 1}\n"}, f"other {i}")
    assert main(["plan", "Fix dark mode contrast when rendering a page", "--repo", str(repo), "--json",
                 "--planner", "offline"]) == 0
    data: dict[str, Any] = json.loads(capsys.readouterr().out)
    modify = [p for s in data["subtasks"] for p in s["files_to_modify"]]
    assert modify[0] == "src/site/render.py"
    assert modify[1] == "src/site/static/theme.css"
    reasons = {r["path"]: r["why"] for s in data["subtasks"] for r in s["file_reasons"]}
    assert "past commits like this task" in reasons["src/site/static/theme.css"]

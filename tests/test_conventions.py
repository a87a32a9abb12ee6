"""Conventions read off real repos (tests, docs, changelog, test command), and the offline plans
that follow them: the issue's src/-layout library and its one-line typo task."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from engine.analysis.conventions import RepoConventions, conventions_at
from engine.cli.main import main
from engine.hosts.gitcli import head_sha, tracked_files
from tests.conftest import RepoFactory

PYPROJECT = """[project]
name = "fetchy"

[tool.pytest.ini_options]
testpaths = ["tests"]

[tool.towncrier]
directory = "changelog.d"
filename = "CHANGELOG.md"

[[tool.towncrier.type]]
directory = "breaking"
name = "Breaking"

[[tool.towncrier.type]]
directory = "change"
name = "Changes"
"""
FETCHY: dict[str, str] = {
    "pyproject.toml": PYPROJECT,
    "src/fetchy/__init__.py": '"""fetchy: fetch things."""\n',
    "src/fetchy/net.py": '"""Fetching URLs."""\n\n\ndef fetch(url):\n    """Fetch `url`."""\n'
                         '    raise ValueError("could not fetch the URL: %s" % url)\n',
    "src/fetchy/parse.py": "def parse(text):\n    return text\n",
    "src/fetchy/cache.py": "def cached(key):\n    return None\n",
    "tests/test_net.py": "from fetchy.net import fetch\n\n\ndef test_fetch():\n    assert fetch\n",
    "tests/test_parse.py": "def test_parse():\n    pass\n",
    "changelog.d/.gitkeep": "",
    "CHANGELOG.md": "# Changelog\n",
    "README.md": "# fetchy\n",
}
"""The issue's small src/-layout library: tests/test_<module>.py, towncrier fragments in changelog.d/."""


def read_at(repo: Path) -> RepoConventions:
    return conventions_at(repo, head_sha(repo), tracked_files(repo))


def plan_json(capsys: pytest.CaptureFixture[str], task: str, repo: Path, *more: str) -> dict[str, Any]:
    assert main(["plan", task, "--repo", str(repo), "--json", "--planner", "offline", *more]) == 0
    data: dict[str, Any] = json.loads(capsys.readouterr().out)
    return data


def test_pytest_and_towncrier(repo_factory: RepoFactory) -> None:
    found = read_at(repo_factory(FETCHY))
    summary = found.summary()
    assert summary.tests == "tests/test_<module>.py (in the subfolder matching the code's)"
    assert summary.test_command == "pytest"
    assert (found.changelog_kind, found.changelog_path, found.fragment_types) == (
        "towncrier", "changelog.d", ("breaking", "change"))
    assert found.new_fragment("timeout-option", "add") == "changelog.d/timeout-option.change.md"
    assert summary.docs == "the module's own docstring (no docs folder)"
    files = tracked_files(repo_factory(FETCHY))
    assert found.test_for("src/fetchy/net.py", files) == ("tests/test_net.py", True)


def test_go_tests_beside_the_code(repo_factory: RepoFactory) -> None:
    repo = repo_factory({"go.mod": "module example.com/x\n", "args.go": "package x\n",
                         "args_test.go": "package x\n", "command.go": "package x\n",
                         "command_test.go": "package x\n", "CHANGELOG.md": "# Changes\n"})
    found = read_at(repo)
    assert found.summary().tests == "{}_test.go beside the code it tests".replace("{}", "<module>")
    assert found.summary().test_command == "go test ./..."
    assert found.test_for("flags.go", tracked_files(repo)) == ("flags_test.go", False)
    assert (found.changelog_kind, found.changelog_path) == ("file", "CHANGELOG.md")
    assert found.new_fragment("x", "fix") is None


def test_jest_tests_beside_the_code_and_changesets(repo_factory: RepoFactory) -> None:
    repo = repo_factory({"package.json": json.dumps({"scripts": {"test": "jest"}}), "pnpm-lock.yaml": "x\n",
                         "src/router.ts": "export const r = 1\n", "src/router.test.ts": "test('r')\n",
                         "src/context.ts": "export const c = 1\n", "src/context.test.ts": "test('c')\n",
                         ".changeset/config.json": "{}\n", ".changeset/README.md": "# Changesets\n",
                         ".changeset/brave-owls-sing.md": "---\n'x': patch\n---\nFix\n"})
    found = read_at(repo)
    assert found.summary().tests == "<module>.test.ts beside the code it tests"
    assert found.summary().test_command == "pnpm test"
    assert found.test_for("src/helper.ts", tracked_files(repo)) == ("src/helper.test.ts", False)
    assert found.changelog_kind == "changesets"
    assert found.new_fragment("add-timeout", "add") == ".changeset/add-timeout.md"


def test_tests_in_a_tests_folder_beside_the_code(repo_factory: RepoFactory) -> None:
    repo = repo_factory({"src/app.js": "x\n", "src/__tests__/app.test.js": "x\n",
                         "src/__tests__/util.test.js": "x\n", "src/util.js": "x\n"})
    found = read_at(repo)
    assert found.test_for("src/app.js", tracked_files(repo)) == ("src/__tests__/app.test.js", True)
    assert found.test_for("src/server.js", tracked_files(repo)) == ("src/__tests__/server.test.js", False)
    assert found.changelog_kind == ""


def test_reno_fragments_and_docs_format(repo_factory: RepoFactory) -> None:
    repo = repo_factory({"nova/api.py": "x\n", "nova/tests/unit/test_api.py": "x\n",
                         "releasenotes/notes/add-api-1a2b3c.yaml": "features:\n  - x\n",
                         "doc/source/index.rst": "Nova\n", "doc/source/api.rst": "API\n",
                         "doc/source/conf.py": "x = 1\n", "doc/source/usage.rst": "Usage\n"})
    found = read_at(repo)
    assert found.changelog_kind == "reno"
    assert found.new_fragment("api-timeout", "add") == "releasenotes/notes/api-timeout.yaml"
    assert found.summary().docs == "doc/ (.rst pages)"


def test_ansible_style_fragments_and_mirrored_test_folders(repo_factory: RepoFactory) -> None:
    files = {"lib/ansible/modules/copy.py": "x\n", "lib/ansible/modules/file.py": "x\n",
             "test/units/modules/test_copy.py": "x\n", "test/units/plugins/test_loader.py": "x\n",
             "changelogs/fragments/12345-copy-fix.yml": "bugfixes:\n  - x\n", "changelogs/config.yaml": "x\n"}
    repo = repo_factory(files)
    found = read_at(repo)
    assert (found.changelog_kind, found.changelog_path) == ("fragments", "changelogs/fragments")
    assert found.new_fragment("file-mode", "fix") == "changelogs/fragments/file-mode.yml"
    assert found.test_for("lib/ansible/modules/file.py", tracked_files(repo)) == (
        "test/units/modules/test_file.py", False)


def test_the_src_layout_library_plan_follows_the_repo(repo_factory: RepoFactory,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    repo = repo_factory(FETCHY)
    task = "Add a timeout option to fetch in the net module, with tests and a changelog entry"
    data = plan_json(capsys, task, repo)
    [change] = data["subtasks"]
    assert change["files_to_modify"][0] == "src/fetchy/net.py"
    assert "tests/test_net.py" in change["files_to_modify"]  # the existing test module, not a copy
    assert change["files_to_create"] == ["changelog.d/"]  # a new fragment: its name is the session's
    [why] = [r["why"] for r in change["file_reasons"] if r["path"] == "changelog.d/"]
    assert re.search(r"e\.g\. changelog\.d/[\w-]+\.change\.md\)$", why)  # the type the config names
    named = change["files_to_modify"] + change["files_to_create"]
    assert not any(p.startswith("docs/") or p.endswith("_2.py") for p in named)
    assert all(p.startswith(("src/fetchy/", "tests/test_", "changelog.d/")) for p in named)
    sequential = data["estimate"]["sequential_minutes"]
    assert change["estimated_minutes"] == sequential == data["overhead"]["sequential_minutes"]
    assert data["validation"]["verdict"]["parallelize"] is False
    assert data["conventions"]["changelog"].startswith("a towncrier fragment in changelog.d/")
    assert data["conventions"]["test_command"] == "pytest"


def test_a_typo_is_one_short_session(repo_factory: RepoFactory, capsys: pytest.CaptureFixture[str]) -> None:
    repo = repo_factory(FETCHY)
    typo = plan_json(capsys, "Fix the typo in the error message of fetch", repo)
    [change] = typo["subtasks"]
    assert change["files_to_modify"][0] == "src/fetchy/net.py"
    assert change["files_to_create"] == []
    assert typo["validation"]["verdict"]["parallelize"] is False
    assert typo["estimate"]["scope"] == "small"
    bigger = plan_json(capsys, "Add retries, a timeout option, proxy support, caching and streaming to fetch "
                               "with tests and docs", repo)
    assert bigger["estimate"]["sequential_minutes"] > 4 * typo["estimate"]["sequential_minutes"]
    minutes = sum(s["estimated_minutes"] for s in bigger["subtasks"])
    assert minutes == pytest.approx(bigger["estimate"]["sequential_minutes"], abs=0.05)


SECURITY_TASK = ("Move sessions to Redis, add CSRF protection to every form, hash passwords with argon2id, "
                 "rate-limit the login endpoint, with tests and docs, and do not break the public API")


def test_a_list_of_requirements_is_planned_as_its_features(
        web_repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = plan_json(capsys, SECURITY_TASK, web_repo, "--minutes", "90", "--splits", "3")
    subtasks = data["subtasks"]
    assert len(subtasks) >= 2
    files = set(tracked_files(web_repo))
    words = {w.lower() for w in re.findall(r"[A-Za-z0-9]+", SECURITY_TASK)}
    planned_sources = {Path(p).stem for s in subtasks for p in s["files_to_modify"] if p in files}
    for sub in subtasks:
        assert not sub["description"].startswith("Update")
        assert SECURITY_TASK not in sub["description"]
        assert sub["files_to_modify"], sub["name"]  # every session changes something that exists
        assert all(p in files for p in sub["files_to_modify"])
        for path in sub["files_to_create"]:
            pure = Path(path)
            if path.startswith("tests/"):  # beside the repo's tests, named after a planned module
                assert pure.suffix == ".py" and pure.stem.removeprefix("test_") in planned_sources, path
            else:  # a new page in the repo's docs folder, in its format; never a new code module
                assert pure.parent == Path("docs") and pure.suffix == ".md", path
            assert pure.stem.lower() not in words, path  # not named after a stray word of the task
    owner = {p: s["name"] for s in subtasks for p in s["files_to_modify"]}
    assert owner["api/auth_routes.py"] != owner["components/Login.tsx"]  # the endpoint and the forms
    said = " ".join(s["description"] for s in subtasks)
    for requirement in ("Move sessions to Redis", "Add CSRF protection to every form",
                        "Hash passwords with argon2id", "Rate-limit the login endpoint"):
        assert requirement in said  # every requirement, in its own words
    assert "public API" not in said  # a constraint, not a feature
    if len(subtasks) < 3:
        assert any("4 requirements" in note for note in data["planner_notes"])
    worth = next(c for c in data["checklist"] if c["item"].startswith("is_worth"))
    assert f"{len(subtasks)} parallel sessions" in worth["detail"]

"""claude_env: the unattended-start answers in a temp HOME, never the user's."""

from __future__ import annotations

import json
import os
import pwd
import stat
from pathlib import Path

from engine.claude.env import KEY_SUFFIX_LEN, claude_environ, prepare_claude_config, prepare_home

KEY = "sk-ant-test-" + "0123456789abcdef" * 3


def test_home_gets_onboarding_key_suffix_and_trust(tmp_path: Path) -> None:
    home = tmp_path / "home"
    worktree = tmp_path / "wt"
    worktree.mkdir()
    path = prepare_home(home, [worktree], KEY)
    assert path == home / ".claude.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["hasCompletedOnboarding"] is True
    assert data["customApiKeyResponses"]["approved"] == [KEY[-KEY_SUFFIX_LEN:]]
    assert KEY not in path.read_text(encoding="utf-8")  # only the last 20 characters
    assert data["projects"][str(worktree)]["hasTrustDialogAccepted"] is True
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_existing_config_is_merged_not_replaced(tmp_path: Path) -> None:
    config = tmp_path / "cfg" / ".claude.json"
    config.parent.mkdir()
    config.write_text(json.dumps({"theme": "dark", "projects": {"/old": {"hasTrustDialogAccepted": True}},
                                  "customApiKeyResponses": {"approved": ["x" * 20], "rejected": []}}))
    first, second = tmp_path / "a", tmp_path / "b"
    prepare_claude_config(config, [first], KEY)
    prepare_claude_config(config, [second], KEY)
    data = json.loads(config.read_text(encoding="utf-8"))
    assert data["theme"] == "dark"
    assert set(data["projects"]) >= {"/old", str(first), str(second)}
    assert data["customApiKeyResponses"]["approved"] == ["x" * 20, KEY[-20:]]


def test_symlinked_worktree_is_trusted_under_both_paths(tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.mkdir()
    link = tmp_path / "link"
    link.symlink_to(real)
    data = json.loads(prepare_home(tmp_path / "h", [link]).read_text(encoding="utf-8"))
    assert {str(link), str(real)} <= set(data["projects"])
    assert "customApiKeyResponses" not in data  # no key given


def test_environ_is_offline_and_isolated(tmp_path: Path) -> None:
    env = claude_environ({"PATH": "/bin", "CLAUDE_CONFIG_DIR": "/x"}, home=tmp_path,
                         base_url="http://127.0.0.1:9", api_key=KEY)
    assert env["HOME"] == str(tmp_path)
    assert env["CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC"] == "1"
    assert env["DISABLE_TELEMETRY"] == "1"
    assert env["ANTHROPIC_BASE_URL"] == "http://127.0.0.1:9"
    assert "CLAUDE_CONFIG_DIR" not in env
    assert env["PATH"] == "/bin"


def test_tests_never_see_the_real_home(tmp_path: Path) -> None:
    """conftest's HOME is a temp dir; prepare_home is only ever given explicit temp paths."""
    real_home = Path(pwd.getpwuid(os.getuid()).pw_dir).resolve()
    assert Path(os.environ["HOME"]).resolve() != real_home
    assert not (Path(os.environ["HOME"]) / ".claude.json").exists()

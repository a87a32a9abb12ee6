"""Interactive Claude Code's cost, tokens and rate limits reach the board through its
statusline: the settings fragment chains to the person's own command, the writer keeps the
latest values in a file, and the follower journals them as SessionProgress."""

from __future__ import annotations

import json
import shlex
import subprocess
import time
from pathlib import Path

from engine.claude.settings import session_settings
from engine.claude.statusline import own_statusline, read_usage, statusline_settings, usage_file_for
from engine.core import events as rev
from engine.core.sandbox import SessionSettings
from engine.hosts.host import LOCAL
from engine.hosts.tmux_sessions import PaneFacts, Tmux
from engine.run import progress
from engine.run.fold import fold
from engine.run.journal import SessionRecord

PAYLOAD = {"session_id": "s1", "cost": {"total_cost_usd": 0.4213, "total_duration_ms": 9000},
           "context_window": {"total_input_tokens": 12000, "total_output_tokens": 345,
                              "context_window_size": 200000, "used_percentage": 6},
           "rate_limits": {"five_hour": {"used_percentage": 42.5, "resets_at": 1765000000},
                           "seven_day": {"used_percentage": 12, "resets_at": 1765500000}}}


def run_statusline(command: str, payload: object) -> subprocess.CompletedProcess[str]:
    """The command as Claude Code runs it: through a shell, the JSON on stdin."""
    return subprocess.run(["/bin/sh", "-c", command], input=json.dumps(payload), capture_output=True,
                          text=True, check=False, timeout=30)


def test_writer_keeps_usage_and_chains_to_the_persons_own_line(tmp_path: Path) -> None:
    seen = tmp_path / "their stdin.json"
    own = f"cat > {shlex.quote(str(seen))}; echo 'my own line'"
    usage_file = tmp_path / "it's odd $x" / "a.usage.json"
    line = statusline_settings(usage_file, own)["statusLine"]
    assert line["type"] == "command"
    done = run_statusline(line["command"], PAYLOAD)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "my own line\n", "the person's statusline still draws the line"
    assert json.loads(seen.read_text()) == PAYLOAD, "their command got the same JSON"
    usage = read_usage(usage_file)
    assert usage is not None
    assert (usage.cost_usd, usage.tokens, usage.rate_limit_pct) == (0.4213, 12345, 42.5)


def test_writer_without_rate_limits_or_own_command_never_fails(tmp_path: Path) -> None:
    usage_file = tmp_path / "a.usage.json"
    command = statusline_settings(usage_file)["statusLine"]["command"]
    api_key = {"cost": {"total_cost_usd": 1.5}, "context_window": {"total_input_tokens": 10}}
    done = run_statusline(command, api_key)
    assert (done.returncode, done.stdout) == (0, "")
    usage = read_usage(usage_file)
    assert usage is not None and (usage.cost_usd, usage.tokens, usage.rate_limit_pct) == (1.5, 10, None)
    assert run_statusline(command, "not json at all").returncode == 0
    assert read_usage(tmp_path / "missing.json") is None


def test_session_settings_carry_the_statusline_chained_to_the_users(tmp_path: Path) -> None:
    """The one settings builder (what `--settings` gets) adds the statusLine; the person's own
    command from ~/.claude/settings.json is its last word (the conftest HOME is a temp dir)."""
    hook_file = tmp_path / "runs" / "r" / "auth.hook.jsonl"
    assert usage_file_for(hook_file) == tmp_path / "runs" / "r" / "auth.usage.json"
    assert own_statusline() == ""
    plain = json.loads(session_settings(SessionSettings(status_file=hook_file)))["statusLine"]["command"]
    assert shlex.split(plain)[-1] == str(usage_file_for(hook_file).resolve())
    settings = Path.home() / ".claude" / "settings.json"
    settings.parent.mkdir(parents=True, exist_ok=True)
    settings.write_text(json.dumps({"statusLine": {"type": "command", "command": "~/bin/my line"}}))
    chained = json.loads(session_settings(SessionSettings(status_file=hook_file)))["statusLine"]["command"]
    assert shlex.split(chained)[-1] == "~/bin/my line"


def _record(tmp_path: Path) -> SessionRecord:
    return SessionRecord(run_id="r", slug="a", name="a", branch="b", worktree=str(tmp_path / "wt"),
                         window_name="a", agent="claude", owned=(), phase="started", prompt_file="",
                         hook_file=str(tmp_path / "a.hook.jsonl"), stream_file="")


def test_follower_journals_usage_and_the_fold_keeps_it(tmp_path: Path, monkeypatch: object) -> None:
    """A statusline write is journaled as SessionProgress (cost, tokens, rate limit, when the
    pane printed); the fold — what the board reads — has the same numbers."""
    record = _record(tmp_path)
    watch = progress.ProgressWatch("0" * 40, Tmux("ptui-none", "none", host=LOCAL))
    sent: list[rev.RunEvent] = []
    now = time.time()
    pane = PaneFacts(window_id="@1", window_name="a", dead=False, exit_status=None, signal=None, pid=1,
                     command="claude", activity_at=now - 30, dead_at=0.0)
    watch(record, pane, None, sent.append, now)
    assert isinstance(sent[-1], rev.SessionProgress) and sent[-1].cost_usd is None
    assert sent[-1].output_at == now - 30, "when the pane last printed travels with its last line"
    line = statusline_settings(usage_file_for(Path(record.hook_file)))["statusLine"]
    done = run_statusline(line["command"], PAYLOAD)
    assert done.returncode == 0
    watch(record, pane, None, sent.append, now + 0.5)
    last = sent[-1]
    assert isinstance(last, rev.SessionProgress)
    assert (last.cost_usd, last.tokens, last.rate_limit_pct) == (0.4213, 12345, 42.5)
    started = rev.RunStarted(run_id="r", repo="/r", base_sha="b", sessions=("a",))
    view = fold("r", [started, *sent]).session("a")
    assert view is not None and (view.cost_usd, view.tokens, view.rate_limit_pct, view.output_at) == \
        (0.4213, 12345, 42.5, now - 30)
    count = len(sent)
    watch(record, pane, None, sent.append, now + 1.0)
    assert len(sent) == count, "an unchanged usage file journals nothing"


def test_tokens_the_agents_own_output_reported_reach_the_fold(tmp_path: Path) -> None:
    """Headless Claude, Codex and Gemini report tokens in their output, not a statusline: the
    follower journals them too, so a supervised `status` (the fold) shows what an observation
    without a supervisor shows."""
    record = _record(tmp_path)
    watch = progress.ProgressWatch("0" * 40, Tmux("ptui-none", "none", host=LOCAL))
    sent: list[rev.RunEvent] = []
    now = time.time()
    pane = PaneFacts(window_id="@1", window_name="a", dead=False, exit_status=None, signal=None, pid=1,
                     command="codex", activity_at=now - 30, dead_at=0.0)
    watch(record, pane, None, sent.append, now, tokens=1234)
    started = rev.RunStarted(run_id="r", repo="/r", base_sha="b", sessions=("a",))
    view = fold("r", [started, *sent]).session("a")
    assert view is not None and view.tokens == 1234

"""tmux for a run: one session per repo, one window per subtask, facts about each pane.

The server is injectable (socket name: config `tmux_socket` / `PARALLEL_TUI_TMUX_SOCKET`)
so tests use a private server and never the user's. A run addresses its server by socket
*path* (`server_path`, journaled), so `cleanup` outside tmux finds the windows a run made
from inside tmux (`$TMUX`). The user's server-wide options are never touched: the session
gets its own `history-limit` and an `after-new-window` hook that sets `remain-on-exit` on
each of its windows (a session option alone does not keep dead windows on tmux 3.3a), so a
finished agent leaves its pane and exit status behind for `status` to read. A whole poll is
one `list-panes` call: cheap enough to run every half second.
"""

from __future__ import annotations

import hashlib
import os
import re
import shlex
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from engine.core.errors import TmuxError
from engine.hosts.host import Host

SESSION_PREFIX = "claude-parallel-"
SUPERVISOR_MODULE = "engine.run.supervisor"
"""What a run's supervisor window runs (`python -P -m engine.run.supervisor RUN_ID`)."""
PLACEHOLDER = "parallel-tui"
"""The name of the session's own windows (its first, and each run's supervisor)."""
_NAME_BAD = re.compile(r"[^A-Za-z0-9_-]+")
_FIELDS = ("#{window_id}", "#{window_name}", "#{pane_dead}", "#{pane_dead_status}",
           "#{pane_dead_signal}", "#{pane_pid}", "#{pane_current_command}",
           "#{window_activity}", "#{pane_dead_time}")


def literal(word: str) -> str:
    """`word` as tmux must be given it to pass it on as is: tmux reads an argument ending in `;`
    as the end of its command (the `;` dropped, the words after it run as another tmux command)
    and takes `\\;` there as a plain `;` (one backslash removed, whatever precedes it)."""
    return word[:-1] + "\\;" if word.endswith(";") else word


@dataclass(frozen=True, slots=True)
class TmuxResult:
    """One tmux command's outcome, as lines (libtmux's shape: no trailing empty line)."""

    returncode: int
    stdout: list[str]
    stderr: list[str]


@dataclass(frozen=True, slots=True, kw_only=True)
class PaneFacts:
    window_id: str
    window_name: str
    dead: bool
    exit_status: int | None
    signal: int | None
    pid: int | None
    command: str
    activity_at: float
    dead_at: float


def server_path(socket_name: str, environ: dict[str, str] | None = None) -> str:
    """The socket path tmux itself would use: `-L name` under `$TMUX_TMPDIR`, else the server
    of the tmux this process runs inside (`$TMUX`), else the default one."""
    env = os.environ if environ is None else environ
    inside = env.get("TMUX", "")
    if not socket_name and inside:
        return inside.rsplit(",", 2)[0]
    tmpdir = env.get("TMUX_TMPDIR") or "/tmp"
    return str(Path(tmpdir) / f"tmux-{os.getuid()}" / (socket_name or "default"))


def session_name(repo: Path) -> str:
    """`claude-parallel-<folder>-<6 hex of the repo's real path>`, with characters tmux treats
    specially (`.`, `:`) replaced. The hash keeps two repos with one folder name (`~/a/app`,
    `~/b/app`) out of each other's session; a run's session name is journaled, so runs made
    under the older name (`legacy_session_name`) are still found under it."""
    digest = hashlib.sha256(os.fsencode(os.path.realpath(repo))).hexdigest()[:6]
    return f"{legacy_session_name(repo)}-{digest}"


def legacy_session_name(repo: Path) -> str:
    """The name before it was made unique per repo: `claude-parallel-<folder>`."""
    return SESSION_PREFIX + (_NAME_BAD.sub("-", repo.name).strip("-") or "repo")


class Tmux:
    """One tmux server and session, driven through the host's `tmux` (one process a command;
    libtmux did the same, and cost `status` 50 ms of import)."""

    def __init__(self, socket_name: str, session: str, socket_path: str = "", *, host: Host) -> None:
        binary = host.which("tmux")
        if binary is None:
            raise TmuxError("tmux is not installed", hint="install tmux (apt-get install tmux)")
        self.socket_name = socket_name
        self.socket_path = socket_path
        self.session = session
        self.host = host
        self.tag = "" if host.name == "local" else f"{host.name}/"
        """What this server's window ids start with in the journal and in `panes()`: nothing here,
        the host's name on another machine (`build1/@3`), so one run's windows on several hosts
        never share an id (tmux numbers each server's windows from @0)."""
        self._server_argv = [binary, *(("-S", socket_path) if socket_path
                                       else ("-L", socket_name) if socket_name else ())]
        self._prepared = False
        """`ensure_session` set this session's options already (it then only asks has-session)."""

    def run(self, *args: str) -> TmuxResult:
        """`tmux args...` on this server, whatever its exit code."""
        try:
            proc = self.host.run([*self._server_argv, *args])
        except OSError as exc:
            raise TmuxError(f"tmux cannot be started: {exc.strerror or exc}",
                            hint="check that the `tmux` on PATH is an executable tmux") from None
        out = proc.stdout.decode("utf-8", "backslashreplace").split("\n")
        while out and out[-1] == "":
            out.pop()
        err = [ln for ln in proc.stderr.decode("utf-8", "backslashreplace").split("\n") if ln]
        return TmuxResult(proc.returncode, out, err)

    def _cmd(self, *args: str) -> list[str]:
        result = self.run(*args)
        if result.returncode != 0:
            detail = " ".join(result.stderr).strip() or f"exit {result.returncode}"
            raise TmuxError(f"tmux {args[0]} failed: {detail}",
                            hint="check `tmux ls`; is the tmux server running and reachable?")
        return list(result.stdout)

    @property
    def server_args(self) -> list[str]:
        """The words that name this server to `tmux` (`-S PATH`, `-L NAME` or none), for a
        reader that runs `tmux` itself (`engine.run.snapshot_read`)."""
        return self._server_argv[1:]

    def has_session(self) -> bool:
        return self.run("has-session", "-t", f"={self.session}").returncode == 0

    def ensure_session(self, cwd: Path, history_limit: int, first: list[str] | None = None,
                       launcher: tuple[str, ...] = ()) -> bool:
        """Create the session if missing, its first window (named `parallel-tui`) running `first`
        (the run's supervisor) or a placeholder shell that keeps it alive. True if created.
        `launcher` starts the server under another command (`systemd-run --user --scope`:
        engine.hosts.logout)."""
        if self.socket_path:  # tmux makes its `tmux-<uid>` folder for -L, not for -S
            folder = Path(self.socket_path).parent
            if not self.host.exists(folder):
                self.host.mkdir(folder)
                self.host.chmod(folder, 0o700)
        created = not self.has_session()
        if not created and self._prepared:
            return False
        if created:
            new = ("new-session", "-d", "-s", self.session, "-n", PLACEHOLDER,
                   "-c", str(cwd), "-x", "200", "-y", "50", *(("--", *map(literal, first)) if first else ()))
            if launcher:
                done = self.host.run([*launcher, *self._server_argv, *new])
                if done.returncode != 0:
                    raise TmuxError(f"tmux new-session under {launcher[0]} failed: "
                                    f"{done.stderr.decode('utf-8', 'replace').strip() or done.returncode}",
                                    hint="check `parallel-tui hosts check` on that host")
            else:
                self._cmd(*new)
        target = f"={self.session}:"
        self._cmd("set-option", "-t", target, "history-limit", str(history_limit), ";",  # one tmux call
                  "set-hook", "-t", target, "after-new-window", "set-option -w remain-on-exit on")
        self._prepared = True
        return created

    def supervises(self, run_id: str) -> bool:
        """A live pane runs `run_id`'s supervisor (found by its start command)."""
        return any(not dead and SUPERVISOR_MODULE in command and run_id in command
                   for _wid, dead, command in self.start_commands())

    def set_user_option(self, name: str, value: str) -> bool:
        """A user option (`@name`) of this session only, never the global ones."""
        return self.run("set-option", "-t", f"={self.session}:", name, value).returncode == 0

    def start_commands(self) -> list[tuple[str, bool, str]]:
        """(window id, dead, start command) of every pane: how a run's supervisor is found."""
        result = self.run("list-panes", "-s", "-t", f"={self.session}", "-F",
                          "#{window_id}\t#{pane_dead}\t#{pane_start_command}")
        rows = [line.split("\t", 2) for line in result.stdout] if result.returncode == 0 else []
        return [(self.tag + r[0], r[1] == "1", r[2]) for r in rows if len(r) == 3]

    def new_window(self, name: str, cwd: Path, argv: list[str]) -> str:
        """Open a detached window running `argv`; tmux execs two or more words directly."""
        words = argv if len(argv) > 1 else ["/bin/sh", "-c", shlex.join(argv)]
        out = self._cmd("new-window", "-d", "-t", f"={self.session}:", "-n", name, "-c", str(cwd),
                        "-P", "-F", "#{window_id}", "--", *map(literal, words))
        return self.tag + out[0].strip()

    def panes(self) -> dict[str, PaneFacts]:
        """Facts for every window of the session by window id; {} if the session is gone."""
        result = self.run("list-panes", "-s", "-t", f"={self.session}", "-F",
                          "\t".join(("#{session_name}", *_FIELDS)))
        if result.returncode != 0:
            return {}
        out: dict[str, PaneFacts] = {}
        for line in result.stdout:
            session, _, rest = line.partition("\t")
            if session != self.session:
                continue  # tmux 3.3 answers `-t =app` with the panes of `app-1a2b3c` when `app` is gone
            facts = _parse(rest, self.tag)
            if facts is not None:
                out.setdefault(facts.window_id, facts)
        return out

    def settled(self, window_id: str, timeout_s: float = 0.5) -> PaneFacts | None:
        """Pane facts, waiting out the race where a dead pane has no exit status yet."""
        deadline = time.monotonic() + timeout_s
        while True:
            facts = self.panes().get(window_id)
            done = facts is None or not facts.dead or facts.exit_status is not None or facts.signal
            if done or time.monotonic() > deadline:
                return facts
            time.sleep(0.02)

    def last_line(self, window_id: str) -> str:
        result = self.run("capture-pane", "-p", "-J", "-t", self.target(window_id))
        if result.returncode != 0:
            return ""
        lines = [ln.rstrip() for ln in result.stdout if ln.strip()]
        lines = [ln for ln in lines if not ln.startswith("Pane is dead")]
        return lines[-1][:200] if lines else ""

    def pane_text(self, window_id: str, lines: int = 40) -> str:
        result = self.run("capture-pane", "-p", "-J", "-S", f"-{lines}", "-t", self.target(window_id))
        return "\n".join(result.stdout) if result.returncode == 0 else ""

    def send_text(self, window_id: str, text: str) -> None:
        """Type `text` literally (`-l`: no key-name lookup), then Enter."""
        self._cmd("send-keys", "-t", self.target(window_id), "-l", "--", literal(text))
        self._cmd("send-keys", "-t", self.target(window_id), "Enter")

    def interrupt(self, window_id: str) -> None:
        self._cmd("send-keys", "-t", self.target(window_id), "C-c")

    def kill_window(self, window_id: str) -> bool:
        return self.run("kill-window", "-t", self.target(window_id)).returncode == 0

    def target(self, window_id: str) -> str:
        """A journaled window id as this server knows it (without the host's tag)."""
        return window_id.removeprefix(self.tag)

    def kill_session_if_empty(self) -> None:
        """Drop the session once only the placeholder window is left."""
        names = {f.window_name for f in self.panes().values()}
        if names <= {PLACEHOLDER}:
            self.run("kill-session", "-t", f"={self.session}")

    def _base_argv(self) -> list[str]:
        if self.socket_name:
            return ["tmux", "-L", self.socket_name]
        return ["tmux", "-S", self.socket_path] if self.socket_path else ["tmux"]

    def attach_argv(self, window_id: str) -> list[str]:
        """The argv that attaches a terminal to the window (switch-client inside tmux)."""
        return [*self._base_argv(), "attach-session", "-t", self.target(window_id)]

    def attach_hint(self, window: str = "") -> str:
        target = f"{self.session}:{window}" if window else self.session
        return shlex.join([*self._base_argv(), "attach", "-t", target])


def _parse(line: str, tag: str = "") -> PaneFacts | None:
    parts = line.split("\t")
    if len(parts) != len(_FIELDS):
        return None
    wid, name, dead, status, signal, pid, command, activity, dead_time = parts
    return PaneFacts(window_id=tag + wid, window_name=name, dead=dead == "1",
                     exit_status=int(status) if status.lstrip("-").isdigit() else None,
                     signal=int(signal) if signal.isdigit() else None,
                     pid=int(pid) if pid.isdigit() else None, command=command,
                     activity_at=float(activity) if activity.isdigit() else 0.0,
                     dead_at=float(dead_time) if dead_time.isdigit() else 0.0)


def allow_passthrough(host: Host, environ: dict[str, str] | None = None) -> bool:
    """`set -p allow-passthrough on` for this process's own pane (`$TMUX_PANE`) on the server
    it runs in (the socket in `$TMUX`): what a terminal notification needs to leave tmux
    (facts §9, tmux ≥ 3.3). The pane's option only: the person's other panes and global
    options stay as they are. False outside tmux or when tmux refuses."""
    env = dict(os.environ) if environ is None else environ
    socket, pane = env.get("TMUX", "").split(",")[0], env.get("TMUX_PANE", "")
    if not socket or not pane:
        return False
    try:
        done = host.run(["tmux", "-S", socket, "set-option", "-p", "-t", pane, "allow-passthrough", "on"],
                        timeout=5.0)
    except (OSError, subprocess.TimeoutExpired):  # a tmux that hangs: the bell is the fallback
        return False
    return done.returncode == 0


"""Real OpenSSH servers on 127.0.0.1 as test hosts: Debian's openssh-server, one per host.

Each server has its own host key, sshd_config (password and keyboard-interactive logins off,
`MaxSessions` as asked), and an authorized_keys holding one throwaway client key; one
known_hosts file lists every server, so host keys are verified as in real use. The first host
logs in as the user running the tests with a HOME of its own (sshd's `SetEnv`), the second as
a throwaway user (`useradd`) with another home, the third hides tmux from its PATH. Nothing
here reads or writes the real ~/.ssh. sshd must start as root to log in as another user: the
fixture skips, in one line, when the tests do not run as root (CI does).
"""

from __future__ import annotations

import contextlib
import itertools
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from engine.core.hosts_config import HostSpec

SSHD = Path("/usr/sbin/sshd")
_USERS = itertools.count()
NOT_ROOT = ("SSH host tests skipped: they start sshd and add a throwaway user, which needs root "
            "(CI runs as root)")


@dataclass
class SshServer:
    """One running sshd and how to reach it."""

    name: str
    port: int
    user: str
    home: Path
    identity: Path
    known_hosts: Path
    root: Path
    proc: subprocess.Popen[bytes]
    path_env: str = ""

    @property
    def ssh(self) -> str:
        return f"{self.user}@127.0.0.1:{self.port}"

    def spec(self, **changes: object) -> HostSpec:
        fields: dict[str, object] = {"name": self.name, "ssh": self.ssh, "identity_file": str(self.identity),
                                     "known_hosts": str(self.known_hosts),
                                     "work_root": str(self.home / "work"), **changes}
        return HostSpec(**fields)  # type: ignore[arg-type]

    def log(self) -> str:
        return (self.root / "sshd.log").read_text(errors="replace")


@dataclass
class SshHosts:
    """The session's servers: `first` (this user), `second` (another user), `notmux` (no tmux on PATH)."""

    first: SshServer
    second: SshServer
    notmux: SshServer
    farm: SshdFarm
    """Starts more servers for a test that needs an odd one (removed with the others)."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def keygen(path: Path) -> str:
    """A new ed25519 key pair at `path` (no passphrase); its public line."""
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "parallel-tui-test",
                    "-f", str(path)], check=True, capture_output=True)
    return Path(f"{path}.pub").read_text().strip()


class SshdFarm:
    """Starts servers under one temp folder (outside pytest's 0700 basetemp: another user reads it)."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="ptui-sshd-"))
        self.root.chmod(0o755)
        self.identity = self.root / "client_key"
        self.client_pub = keygen(self.identity)
        self.known_hosts = self.root / "known_hosts"
        self.known_hosts.write_text("")
        self.servers: list[SshServer] = []
        self.users: list[str] = []

    def add_user(self, name: str) -> tuple[str, Path]:
        home = self.root / f"home-{name}"
        home.mkdir()
        subprocess.run(["useradd", "--home-dir", str(home), "--no-create-home", "--shell", "/bin/sh", name],
                       check=True, capture_output=True)
        self.users.append(name)
        # useradd locks the account ("!"), and sshd without PAM refuses a locked account even
        # for a key: "*" is no password at all, but not locked
        subprocess.run(["usermod", "--password", "*", name], check=True, capture_output=True)
        shutil.chown(home, name, name)
        return name, home

    def start(self, name: str, *, user: str, home: Path, max_sessions: int = 10,
              path_env: str = "") -> SshServer:
        folder = self.root / f"sshd-{name}"
        folder.mkdir()
        host_pub = keygen(folder / "host_key").split()[:2]
        keys = folder / "authorized_keys"
        keys.write_text(self.client_pub + "\n")
        keys.chmod(0o644)
        for attempt in range(5):
            port = free_port()
            setenv = f"HOME={home}" + (f" PATH={path_env}" if path_env else "")
            (folder / "sshd_config").write_text(_config(folder, port, user, max_sessions, setenv))
            log = folder / "sshd.log"
            proc = subprocess.Popen([str(SSHD), "-D", "-f", str(folder / "sshd_config"), "-E", str(log)],
                                    stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL)
            if _listening(port, proc):
                break
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            proc.wait()
            if attempt == 4:
                raise RuntimeError(f"sshd {name} did not start: {log.read_text(errors='replace')[-500:]}")
        with self.known_hosts.open("a") as out:
            out.write(f"[127.0.0.1]:{port} {' '.join(host_pub)}\n")
        server = SshServer(name, port, user, home, self.identity, self.known_hosts, folder, proc, path_env)
        self.servers.append(server)
        return server

    def close(self) -> None:
        for server in self.servers:
            with contextlib.suppress(ProcessLookupError):
                server.proc.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                server.proc.wait(timeout=5)
        for user in self.users:
            subprocess.run(["userdel", "--force", user], capture_output=True, check=False)
        shutil.rmtree(self.root, ignore_errors=True)


def _config(folder: Path, port: int, user: str, max_sessions: int, setenv: str) -> str:
    return "\n".join([
        f"Port {port}", "ListenAddress 127.0.0.1", f"HostKey {folder / 'host_key'}", "PidFile none",
        f"AuthorizedKeysFile {folder / 'authorized_keys'}", "PubkeyAuthentication yes",
        "PasswordAuthentication no", "KbdInteractiveAuthentication no", "UsePAM no", "StrictModes no",
        "PermitRootLogin prohibit-password", f"AllowUsers {user}", f"MaxSessions {max_sessions}",
        "Subsystem sftp internal-sftp", f"SetEnv {setenv}", "LogLevel VERBOSE", "",
    ])


def _listening(port: int, proc: subprocess.Popen[bytes]) -> bool:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return True
        time.sleep(0.05)
    return False


def path_without(root: Path, *hidden: str) -> str:
    """A folder of links to every program in /usr/bin but `hidden`: a PATH without them."""
    folder = root / f"bin-no-{'-'.join(hidden)}"
    folder.mkdir()
    for entry in Path("/usr/bin").iterdir():
        if not entry.name.startswith(hidden):
            (folder / entry.name).symlink_to(entry)
    return str(folder)


def ensure_sshd_can_run() -> None:
    """Skip (one line) where sshd cannot start; give it the privilege-separation folder it needs."""
    if not SSHD.is_file():
        pytest.skip("SSH host tests skipped: /usr/sbin/sshd is missing (apt-get install openssh-server)")
    if os.geteuid() != 0:
        pytest.skip(NOT_ROOT)
    Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)


@contextlib.contextmanager
def sshd_hosts(max_sessions: int = 10) -> Iterator[SshHosts]:
    """Three servers: this user, a throwaway user, and this user again without tmux on PATH."""
    ensure_sshd_can_run()
    farm = SshdFarm()
    try:
        me = os.environ.get("USER") or "root"
        if os.geteuid() == 0:
            me = "root"
        first_home = farm.root / "home-first"
        first_home.mkdir()
        first = farm.start("first", user=me, home=first_home, max_sessions=max_sessions)
        other, other_home = farm.add_user(f"ptui{os.getpid()}x{next(_USERS)}")
        second = farm.start("second", user=other, home=other_home, max_sessions=max_sessions)
        bare_home = farm.root / "home-notmux"
        bare_home.mkdir()
        notmux = farm.start("notmux", user=me, home=bare_home, max_sessions=max_sessions,
                            path_env=path_without(farm.root, "tmux"))
        yield SshHosts(first, second, notmux, farm)
    finally:
        farm.close()


@pytest.fixture(scope="session")
def ssh_hosts() -> Iterator[SshHosts]:
    """The three test hosts, with sshd's `MaxSessions 4`: the engine must stay under it."""
    with sshd_hosts(max_sessions=4) as hosts:
        yield hosts

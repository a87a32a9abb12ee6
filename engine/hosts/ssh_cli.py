"""The system `ssh` command for a host: attach (`ssh -t`) and `hosts check`'s BatchMode probe.

OpenSSH finds ~/.ssh (config, known_hosts, default keys) through the password database, not
$HOME; asyncssh, the engine's own client, goes by $HOME. When the two homes differ (tests, a
`sudo -E`), the command is pointed at $HOME's files so both clients read the same ones: its
ssh config if there is one (which then decides everything else), else its known_hosts and
default keys. When the homes are the same nothing is added: `ssh` behaves as the user's own.
"""

from __future__ import annotations

import os
import pwd
from pathlib import Path

from engine.core.hosts_config import HostSpec, ssh_target

DEFAULT_KEYS = ("id_ed25519", "id_ecdsa", "id_rsa", "id_ed25519_sk", "id_ecdsa_sk")


def ssh_argv(spec: HostSpec, *, tty: bool = False, batch: bool = False) -> list[str]:
    """`ssh … -- destination`, the remote command to be appended by the caller."""
    target = ssh_target(spec.ssh)
    argv = ["ssh", "-t" if tty else "-T", "-o", "StrictHostKeyChecking=yes",
            "-o", "PasswordAuthentication=no", "-o", "KbdInteractiveAuthentication=no"]
    if batch:
        argv += ["-o", "BatchMode=yes", "-o", "ConnectTimeout=15"]
    argv += _home_files(spec)
    if spec.identity_file:
        argv += ["-i", str(Path(spec.identity_file).expanduser()), "-o", "IdentitiesOnly=yes"]
    if spec.known_hosts:
        argv += ["-o", f"UserKnownHostsFile={Path(spec.known_hosts).expanduser()}"]
    if target.port is not None:
        argv += ["-p", str(target.port)]
    return [*argv, "--", f"{target.user}@{target.host}" if target.user else target.host]


def _home_files(spec: HostSpec) -> list[str]:
    """Options that make `ssh` read $HOME/.ssh when it is not the password database's home."""
    home = Path(os.environ.get("HOME") or "~").expanduser()
    try:
        passwd_home = Path(pwd.getpwuid(os.getuid()).pw_dir)
    except KeyError:
        return []
    if home.resolve() == passwd_home.resolve():
        return []
    folder = home / ".ssh"
    config = folder / "config"
    if config.is_file():  # options given here would override the config's own: it decides
        return ["-F", str(config)]
    argv = ["-F", "none"]
    if not spec.known_hosts:
        argv += ["-o", f"UserKnownHostsFile={folder / 'known_hosts'}"]
    if not spec.identity_file:
        keys = [folder / k for k in DEFAULT_KEYS if (folder / k).is_file()]
        for key in keys or [folder / DEFAULT_KEYS[0]]:  # a missing file: no key, rather than the other home's
            argv += ["-o", f"IdentityFile={key}"]
    return argv

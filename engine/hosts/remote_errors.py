"""Why an SSH host could not be used, in one line with the way out.

A `HostUnreachable` is an OSError, so every caller of the Host protocol that already handles
"the command could not start" handles a host that cannot be reached the same way; its
`problem` and `hint` are the CLI's one line. asyncssh's exceptions are mapped here (and only
here) so no caller needs asyncssh to understand them.
"""

from __future__ import annotations

import errno

TYPE_CHECKING = False
if TYPE_CHECKING:
    from engine.core.hosts_config import HostSpec, SshTarget


class HostUnreachable(OSError):
    """The host cannot be reached or used now: no connection, a refused key, a dead helper."""

    def __init__(self, problem: str, *, hint: str, code: int = errno.EHOSTUNREACH) -> None:
        super().__init__(code, f"{problem} — {hint}")
        self.problem = problem
        self.hint = hint

    def one_line(self) -> str:
        return " ".join(f"error: {self.problem} — {self.hint}".split())


class HelperMissing(HostUnreachable):
    """The host logs in, but the helper cannot run there (most often: no python3 on its PATH)."""


def where(spec: HostSpec, target: SshTarget) -> str:
    """The host as a message names it: `build1 (dev@10.0.0.5:2222)`."""
    return f"host {spec.name} ({spec.ssh})" if spec.ssh else f"host {spec.name} ({target.host})"


def known_hosts_hint(target: SshTarget, known_hosts: str) -> str:
    """The command that trusts the host's key, after the user has checked its fingerprint."""
    port = f"-p {target.port} " if target.port and target.port != 22 else ""
    return (f"check the host's key fingerprint, then trust it: "
            f"ssh-keyscan {port}{target.host} >> {known_hosts or '~/.ssh/known_hosts'}")


def explain(exc: BaseException, spec: HostSpec, target: SshTarget, timeout: float) -> HostUnreachable:
    """One line for a failed connect: the host key, the login, the network or the clock."""
    import asyncssh  # noqa: PLC0415 - only a host in use loads it

    at = where(spec, target)
    if isinstance(exc, asyncssh.HostKeyNotVerifiable):
        return HostUnreachable(f"{at}: its host key is not trusted ({exc.reason})",
                               hint=known_hosts_hint(target, spec.known_hosts), code=errno.EACCES)
    if isinstance(exc, asyncssh.PermissionDenied):
        return HostUnreachable(f"{at}: no key was accepted (keys and ssh-agent only, never a password)",
                               hint="load a key the host accepts into ssh-agent (ssh-add), "
                                    "or set identity_file",
                               code=errno.EACCES)
    if isinstance(exc, asyncssh.KeyImportError | asyncssh.KeyEncryptionError):
        return HostUnreachable(f"{at}: identity_file {spec.identity_file} cannot be used ({exc})",
                               hint=f"load it into ssh-agent (ssh-add {spec.identity_file}) and leave "
                                    "identity_file out: nothing here asks for a passphrase",
                               code=errno.EACCES)
    if isinstance(exc, TimeoutError):
        return HostUnreachable(f"{at}: did not answer within {timeout:.0f} s",
                               hint="check that the host is up and the address and port are right",
                               code=errno.ETIMEDOUT)
    if isinstance(exc, FileNotFoundError):
        return HostUnreachable(f"{at}: {exc.filename or exc} does not exist",
                               hint="fix identity_file or known_hosts in the host's [[hosts]] table",
                               code=errno.ENOENT)
    if isinstance(exc, OSError):
        return HostUnreachable(f"{at}: cannot connect ({exc.strerror or exc})",
                               hint="check that the host is up and sshd listens on that address and port")
    reason = getattr(exc, "reason", "") or str(exc) or type(exc).__name__
    return HostUnreachable(f"{at}: the SSH connection failed ({reason})",
                           hint=f"try `ssh -o BatchMode=yes {spec.ssh}` to see what the host says")

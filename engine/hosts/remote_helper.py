"""The helper a RemoteHost runs on its host: commands, files and signals over ONE SSH channel.

sshd caps the channels of a connection (`MaxSessions`, 10 by default), and a channel per
tail, write or tmux query would hit it with a few sessions. So the host runs this one file
(copied over SFTP into the work root, standard library only, python3 >= 3.8) and talks
line-delimited JSON on its stdin and stdout: each request `{"id", "op", ...}` gets one answer
`{"id", "ok": true, ...}` or `{"id", "ok": false, "error": <kind>, "message", "errno"}`, in
any order (each request runs in a thread, so a long command never holds up a file read).
Bytes travel as base64. The helper ends when its stdin closes (the connection went away);
what it started in a process group of its own (tmux's server) lives on.

This file must not import anything from the engine: it runs where only python3 is.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import PurePosixPath

VERSION = 1
TAIL_LIMIT = 4 << 20
"""The most one `read_tail` returns: a larger file comes in several calls."""
_out_lock = threading.Lock()


def _path(req: dict[str, object]) -> str:
    return os.path.expanduser(str(req["path"]))


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _data(req: dict[str, object]) -> bytes:
    return base64.b64decode(str(req.get("data", "")))


def op_hello(req: dict[str, object]) -> dict[str, object]:
    return {"version": VERSION, "python": sys.version.split()[0], "home": os.path.expanduser("~"),
            "pid": os.getpid()}


def op_run(req: dict[str, object]) -> dict[str, object]:
    env = dict(os.environ)
    env.update({str(k): str(v) for k, v in dict(req.get("env") or {}).items()})  # type: ignore[call-overload]
    for name in list(req.get("unset") or []):  # type: ignore[call-overload]
        env.pop(str(name), None)
    stdin = req.get("stdin")
    cwd = req.get("cwd")
    timeout = req.get("timeout")
    group = bool(req.get("group"))
    proc = subprocess.Popen([str(a) for a in req["argv"]],  # type: ignore[attr-defined]
                            cwd=os.path.expanduser(str(cwd)) if cwd else None, env=env,
                            stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=group)
    try:
        out, err = proc.communicate(base64.b64decode(str(stdin)) if stdin is not None else None,
                                    timeout=float(timeout) if timeout is not None else None)  # type: ignore[arg-type]
    except subprocess.TimeoutExpired:
        _kill(proc, group)
        out, err = proc.communicate()
        return {"timed_out": True, "rc": proc.returncode, "stdout": _b64(out), "stderr": _b64(err)}
    return {"rc": proc.returncode, "stdout": _b64(out), "stderr": _b64(err)}


def _kill(proc: subprocess.Popen[bytes], group: bool) -> None:
    try:
        if group:
            os.killpg(proc.pid, signal.SIGKILL)
        else:
            proc.kill()
    except (ProcessLookupError, PermissionError):
        pass


def op_which(req: dict[str, object]) -> dict[str, object]:
    return {"path": shutil.which(str(req["program"]))}


def op_signal(req: dict[str, object]) -> dict[str, object]:
    pid, sig = int(req["pid"]), int(req["sig"])  # type: ignore[call-overload]
    try:
        (os.killpg if req.get("group") else os.kill)(pid, sig)
    except ProcessLookupError:
        return {"sent": False}
    return {"sent": True}


def op_alive(req: dict[str, object]) -> dict[str, object]:
    try:
        os.kill(int(req["pid"]), 0)  # type: ignore[call-overload]
    except ProcessLookupError:
        return {"alive": False}
    except PermissionError:
        pass
    return {"alive": True}


def op_read_bytes(req: dict[str, object]) -> dict[str, object]:
    with open(_path(req), "rb") as f:
        return {"data": _b64(f.read())}


def op_write_bytes(req: dict[str, object]) -> dict[str, object]:
    path = _path(req)
    folder = os.path.dirname(path) or "."
    os.makedirs(folder, exist_ok=True)
    fd, temp = tempfile.mkstemp(dir=folder, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(_data(req))
        if "mode" in req:
            os.chmod(temp, int(req["mode"]))  # type: ignore[call-overload]
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
    return {}


def op_append_bytes(req: dict[str, object]) -> dict[str, object]:
    path = _path(req)
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    with open(path, "ab") as f:
        f.write(_data(req))
    return {}


def op_read_tail(req: dict[str, object]) -> dict[str, object]:
    offset = int(req.get("offset", 0))  # type: ignore[call-overload]
    try:
        with open(_path(req), "rb") as f:
            end = f.seek(0, 2)
            if end < offset:  # past the end: the size, as LocalHost answers (a file's size is asked so)
                return {"data": "", "offset": end}
            f.seek(offset)
            data = f.read(min(TAIL_LIMIT, end - offset))
    except FileNotFoundError:
        return {"data": "", "offset": offset}
    return {"data": _b64(data), "offset": offset + len(data)}


def op_read_tails(req: dict[str, object]) -> dict[str, object]:
    """Several tails in one round trip (the supervisor's tick over a host's sessions)."""
    tails = []
    for path, offset in req["files"]:  # type: ignore[attr-defined]
        tail = op_read_tail({"path": path, "offset": offset})
        tails.append([tail["data"], tail["offset"]])
    return {"tails": tails}


def op_look(req: dict[str, object]) -> dict[str, object]:
    """What a look at a host's sessions reads, in one round trip: for each path, in the order
    asked, its kind ("file", "dir", "none" or "?"), size, and the bytes of one of at most `small`
    bytes; each worktree's `.git` link is followed to its git dir (that dir, its index, HEAD
    log and HEAD), named as the caller names them (`<gitdir>/index`)."""
    small = int(req.get("small", 0))  # type: ignore[call-overload]
    paths = [str(p) for p in req.get("paths", [])]  # type: ignore[attr-defined]
    for worktree in req.get("worktrees", []):  # type: ignore[attr-defined]
        gitdir = _gitdir(str(worktree))
        if gitdir:
            paths += [gitdir, *(str(PurePosixPath(gitdir) / n) for n in ("index", "logs/HEAD", "HEAD"))]
    return {"files": [[path, *_fact(path, small)] for path in paths]}


def _gitdir(worktree: str) -> str:
    """The absolute git dir a worktree's `.git` file names ("" for none, or a relative one)."""
    try:
        with open(os.path.join(os.path.expanduser(worktree), ".git"), "rb") as f:
            text = f.read(4096).decode("utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return ""
    found = text[len("gitdir:"):].strip() if text.startswith("gitdir:") else ""
    return str(PurePosixPath(found)) if found.startswith("/") else ""


def _fact(path: str, small: int) -> list[object]:
    try:
        st = os.stat(os.path.expanduser(path))
    except (FileNotFoundError, NotADirectoryError):
        return ["none", -1, None]
    except OSError:
        return ["?", -1, None]  # the caller asks itself, and gets the error
    if stat.S_ISDIR(st.st_mode):
        return ["dir", st.st_size, None]
    if st.st_size > small:
        return ["file", st.st_size, None]
    try:
        with open(os.path.expanduser(path), "rb") as f:
            data = f.read(small + 1)
    except OSError:
        return ["?", -1, None]
    return ["file", len(data), _b64(data)] if len(data) <= small else ["file", len(data), None]


def op_exists(req: dict[str, object]) -> dict[str, object]:
    return {"exists": os.path.exists(_path(req))}


def op_mkdir(req: dict[str, object]) -> dict[str, object]:
    os.makedirs(_path(req), exist_ok=True)
    return {}


def op_remove(req: dict[str, object]) -> dict[str, object]:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(_path(req))
    return {}


def op_listdir(req: dict[str, object]) -> dict[str, object]:
    """Entry names, sorted; none for a folder that is not there (as LocalHost.listdir)."""
    try:
        return {"names": sorted(os.listdir(_path(req)))}
    except FileNotFoundError:
        return {"names": []}


def op_chmod(req: dict[str, object]) -> dict[str, object]:
    os.chmod(_path(req), int(req["mode"]))  # type: ignore[call-overload]
    return {}


def op_disk_free(req: dict[str, object]) -> dict[str, object]:
    """Free bytes where `path` is or would be (its nearest existing parent)."""
    path = os.path.abspath(_path(req))
    while not os.path.exists(path):
        path = os.path.dirname(path)
    stat = os.statvfs(path)
    return {"free": stat.f_bavail * stat.f_frsize, "at": path}


OPS = {name[3:]: fn for name, fn in dict(globals()).items() if name.startswith("op_")}


def answer(req: dict[str, object]) -> dict[str, object]:
    """The reply to one request; an exception becomes its kind, message and errno."""
    try:
        handler = OPS[str(req.get("op"))]
        return {"id": req.get("id"), "ok": True, **handler(req)}
    except Exception as exc:  # noqa: BLE001 - every failure goes back to the caller, never kills the helper
        return {"id": req.get("id"), "ok": False, "error": type(exc).__name__,
                "message": getattr(exc, "strerror", None) or str(exc), "errno": getattr(exc, "errno", None)}


def _reply(req: dict[str, object], out: object) -> None:
    line = (json.dumps(answer(req)) + "\n").encode("utf-8")
    with _out_lock:
        out.write(line)  # type: ignore[attr-defined]
        out.flush()  # type: ignore[attr-defined]


def main() -> None:
    out = sys.stdout.buffer
    with ThreadPoolExecutor(max_workers=32) as pool:
        _reply({"op": "hello", "id": 0}, out)
        for raw in sys.stdin.buffer:
            try:
                req = json.loads(raw)
            except ValueError:
                continue
            pool.submit(_reply, req, out)


if __name__ == "__main__":
    main()

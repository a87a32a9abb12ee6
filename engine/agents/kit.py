"""Shipping a session's kit to a host: our tools under `<work root>/kit/<content hash>/`.

A session on an SSH host runs the same tools as one here (status hook, ownership hook,
statusline writer, demo agent), with only the host's python3: no venv, no pip, nothing read
from this machine. They are standard library only, so shipping them is copying five files in
the checkout's layout (the ownership hook imports its rule from the tree it sits in).

The folder is named by a hash of what is in it, so shipping is idempotent: a host that has
this version already costs one read (its `kit.json`). A new kit is written into a temp folder
beside it and renamed into place by the host's python3, which also checks its version and
notes where it lives (`kit.json`): a half-copied kit is never used, two launches shipping at
once both end with the same whole folder, and an older python3 is refused before a session
depends on it.

API: `ship_kit(host, work_root) -> Kit`, then `LaunchContext(kit=..., host=...)`; `LOCAL_KIT`
is this machine's (what a local session runs); `kit.places()` is the home, temp dir and uid
the ownership file protects and allows there (`ownership_hook.protected_places`, `scratch_places`).
"""

from __future__ import annotations

import hashlib
import json
import uuid
from pathlib import Path, PurePosixPath

from engine.core.errors import EngineError
from engine.core.kit import LOCAL_KIT, MIN_PYTHON, TOOLS, Kit, Places, local_kit
from engine.hosts.host import Host

__all__ = ["LOCAL_KIT", "Kit", "KitError", "Places", "kit_files", "local_kit", "ship_kit"]

FACTS = "kit.json"
"""Written last into a kit by the host's python3: the kit is whole when this is in it."""
SHIP_TIMEOUT_S = 60.0
STALE_PARTIAL_S = 3600
"""A temp folder of a ship that died this long ago is removed by the next ship to that host."""

_FINISH = """\
import json, os, shutil, sys, tempfile, time
partial, final, minimum = sys.argv[1], sys.argv[2], tuple(int(n) for n in sys.argv[3].split("."))
if sys.version_info[:2] < minimum:
    shutil.rmtree(partial, ignore_errors=True)
    sys.stderr.write("python3 is %d.%d.%d (%s); the session tools need %s or newer\\n"
                     % (sys.version_info[:3] + (sys.executable, sys.argv[3])))
    sys.exit(3)  # TOO_OLD
facts = {"python": sys.executable, "version": "%d.%d.%d" % sys.version_info[:3],
         "home": os.path.expanduser("~"), "temp_dir": tempfile.gettempdir(), "uid": os.getuid()}
with open(os.path.join(partial, "kit.json"), "w") as out:
    json.dump(facts, out)
try:
    os.rename(partial, final)
except OSError:
    if not os.path.isfile(os.path.join(final, "kit.json")):
        raise
    shutil.rmtree(partial, ignore_errors=True)  # another ship got there first: its kit is this one
folder, now = os.path.dirname(final), time.time()
for name in os.listdir(folder):
    path = os.path.join(folder, name)
    if ".partial-" in name and now - os.path.getmtime(path) > int(sys.argv[4]):
        shutil.rmtree(path, ignore_errors=True)
with open(os.path.join(final, "kit.json")) as found:
    sys.stdout.write(found.read())
"""
"""Run by the host's python3 (`-I -c`): check its version, note its facts, rename into place."""
TOO_OLD = 3
"""`_FINISH`'s exit status when the host's python3 is older than MIN_PYTHON."""


class KitError(EngineError):
    """The host cannot run the session tools (no python3, one too old, nowhere to write)."""


def kit_files() -> dict[str, bytes]:
    """Every file of a kit by its path in it: the TOOLS from this checkout, and empty
    `__init__.py`s that make their folders packages (the checkout's may import more one day)."""
    files = {rel: Path(LOCAL_KIT.root, rel).read_bytes() for rel in TOOLS}
    packages = {str(PurePosixPath(rel).parent) for rel in TOOLS} | {"engine"}
    files |= {f"{package}/__init__.py": b"" for package in sorted(packages)}
    return dict(sorted(files.items()))


def digest(files: dict[str, bytes]) -> str:
    """The kit's folder name: a hash of its paths, contents and the finishing script."""
    sha = hashlib.sha256(_FINISH.encode())
    for rel, data in sorted(files.items()):
        sha.update(f"\0{rel}\0{len(data)}\0".encode())
        sha.update(data)
    return sha.hexdigest()[:16]


def ship_kit(host: Host, folder: str | PurePosixPath) -> Kit:
    """The kit on `host` under `<folder>/kit/<hash>` (copied there unless it is already);
    `folder` is an absolute path on the host (the work root). KitError when the host cannot
    run it; OSError when the host cannot be reached."""
    base = PurePosixPath(folder)
    if not base.is_absolute():
        raise ValueError(f"the kit's folder must be an absolute path on the host, not {str(folder)!r}")
    files = kit_files()
    root = base / "kit" / digest(files)
    try:
        kit = _kit(root, host.read_bytes(Path(root / FACTS)))
    except FileNotFoundError:
        kit = None
    return kit or _copy(host, root, files)


def _kit(root: PurePosixPath, facts: bytes) -> Kit | None:
    """The kit its `kit.json` describes; None when that is not one (damaged: shipped again)."""
    try:
        found = json.loads(facts)
        places = Places(home=str(found["home"]), temp_dir=str(found["temp_dir"]), uid=int(found["uid"]))
        return Kit(python=str(found["python"]), root=str(root), facts=places)
    except (ValueError, TypeError, KeyError):
        return None


def _copy(host: Host, root: PurePosixPath, files: dict[str, bytes]) -> Kit:
    python = host.which("python3")
    if python is None:
        raise KitError(f"host {host.name} has no python3 on its PATH, which the session tools need",
                       hint=f"install python3 ({_version(MIN_PYTHON)} or newer) there")
    partial = root.with_name(f"{root.name}.partial-{uuid.uuid4().hex[:8]}")
    writable = "check that the work root is writable there and has room"
    try:
        for rel, data in files.items():
            host.write_bytes(Path(partial / rel), data)
    except OSError as exc:
        raise KitError(f"host {host.name}: cannot write the session tools into {partial.parent} ({exc})",
                       hint=writable) from exc
    done = host.run([python, "-I", "-c", _FINISH, str(partial), str(root), _version(MIN_PYTHON),
                     str(STALE_PARTIAL_S)], timeout=SHIP_TIMEOUT_S)
    lines = done.stderr.decode("utf-8", "replace").strip().splitlines()
    why = lines[-1] if lines else f"{python} exited {done.returncode}"
    if done.returncode == TOO_OLD:
        raise KitError(f"host {host.name}: {why}",
                       hint=f"install python3 {_version(MIN_PYTHON)} or newer there, first on its PATH")
    kit = _kit(root, done.stdout) if done.returncode == 0 else None
    if kit is None:
        raise KitError(f"host {host.name}: the session tools could not be put in {root} ({why})",
                       hint=writable)
    return kit


def _version(numbers: tuple[int, ...]) -> str:
    return ".".join(str(n) for n in numbers)

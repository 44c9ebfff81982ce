"""One run at a time per project: runs share ``data/`` and the MLflow store, and two at once
would each overwrite what the other wrote.

The lock is ``flock`` on ``data/.run.lock``: the kernel drops it when its process ends, however
it ends (``kill -9`` included), so a lock is never stale. The file also holds who took it, for
the message that refuses a second run.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

LOCK_FILE = Path("data") / ".run.lock"
"""The lock, relative to the project."""


class ProjectBusyError(RuntimeError):
    """Another process is running in this project."""


@dataclass
class ProjectLock:
    """A held project lock: its file and the descriptor that holds it (-1 once released)."""

    path: Path
    descriptor: int

    def release(self) -> None:
        """Clear the holder's details and unlock; a second call does nothing."""
        if self.descriptor < 0:
            return
        os.ftruncate(self.descriptor, 0)
        os.close(self.descriptor)  # the last descriptor of the lock: the kernel unlocks
        self.descriptor = -1


def lock_path(project: Path) -> Path:
    """The lock file of ``project``."""
    return Path(project) / LOCK_FILE


def acquire(project: Path, command: str) -> ProjectLock:
    """Lock ``project`` for a run of ``command``, or raise :class:`ProjectBusyError` at once,
    naming the holder, when another process has it."""
    path = lock_path(project)
    path.parent.mkdir(parents=True, exist_ok=True)
    # Opened without truncating: until the lock is ours, the file holds the holder's details.
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = _read_holder(descriptor)
        os.close(descriptor)
        raise ProjectBusyError(busy_message(path, holder)) from None
    holder = {"pid": os.getpid(), "host": socket.gethostname(),
              "started": datetime.now().astimezone().isoformat(timespec="seconds"),
              "command": command}
    os.ftruncate(descriptor, 0)
    os.pwrite(descriptor, json.dumps(holder).encode(), 0)
    return ProjectLock(path, descriptor)


def busy_message(path: Path, holder: dict[str, Any]) -> str:
    """Why a run is refused: who holds ``path``, and what to do."""
    if holder:
        who = (f"pid {holder.get('pid')} on {holder.get('host')}, started "
               f"{holder.get('started')}, running: {holder.get('command')}")
    else:
        who = "a process that has not yet recorded itself"
    return (
        f"Another run holds this project's lock {path} ({who}). Runs of one project share "
        f"data/ and the MLflow store, so they run one at a time: wait until it ends, or stop "
        f"it. The lock goes with its process however it ends: never delete the file, that "
        f"would let a second run in beside the first. Nothing was run."
    )


def _read_holder(descriptor: int) -> dict[str, Any]:
    """The holder's details in the lock file; {} while it is still writing them."""
    try:
        found = json.loads(os.pread(descriptor, 65536, 0) or b"{}")
    except ValueError:
        return {}
    return found if isinstance(found, dict) else {}

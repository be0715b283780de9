"""Who holds a claim on a queued row (an outbox item, a spooled mail), and whether it is gone.

A claim names its holder as ``host:pid:token``. A holder on this host whose process is gone (a
SIGKILL, an OOM kill) is known dead at once, so its rows are taken again without waiting; a holder
on another host is presumed dead only once its claim is older than the caller's stale limit.
"""

from __future__ import annotations

import os
import secrets
import socket
from datetime import datetime, timedelta

_PROCESS_TOKEN = secrets.token_hex(4)  # tells this process's claims from an earlier one with our pid


def worker_name(limit: int = 64) -> str:
    host = socket.gethostname()[: max(8, limit - 20)]
    return f"{host}:{os.getpid()}:{_PROCESS_TOKEN}"[:limit]


def holder_gone(claimed_by: str | None, claimed_at: datetime | None, now: datetime, stale: timedelta) -> bool:
    if claimed_at is None or claimed_at < now - stale:
        return True
    host, _, rest = (claimed_by or "").partition(":")
    pid_text, _, token = rest.partition(":")
    if not pid_text.isdigit() or not socket.gethostname().startswith(host):
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return token != _PROCESS_TOKEN  # our pid, but an earlier life of it (a container restart)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, under another user
        return False
    return False

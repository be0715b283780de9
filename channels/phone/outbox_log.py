"""The local SMS/call outbox: where outbound phone traffic goes when no Twilio account is set.

One JSON object per line in <data_dir>/outbox/sms.jsonl (and calls.jsonl for click-to-call), so
the embedded system works without Twilio and an agent can read in the console what would have
been sent. It holds phone numbers and message text, like the database does; it is data, not a log
of the application, and lives with the data.
"""

from __future__ import annotations

import json
import threading
from collections import deque
from datetime import datetime
from pathlib import Path
from typing import Any

_lock = threading.Lock()


def outbox_path(data_dir: Path, kind: str = "sms") -> Path:
    return data_dir / "outbox" / f"{kind}.jsonl"


def append(data_dir: Path, kind: str, record: dict[str, Any], at: datetime) -> None:
    path = outbox_path(data_dir, kind)
    line = json.dumps({"at": at.isoformat(), **record}, ensure_ascii=False)
    with _lock:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as handle:
            handle.write(line + "\n")


def read_latest(data_dir: Path, kind: str = "sms", limit: int = 100) -> list[dict[str, Any]]:
    """The newest `limit` records, newest first; a damaged line is skipped, not fatal."""
    path = outbox_path(data_dir, kind)
    if not path.exists():
        return []
    last: deque[str] = deque(maxlen=limit)
    with path.open(encoding="utf-8", errors="replace") as handle:
        for line in handle:
            last.append(line)
    records = []
    for line in reversed(last):
        try:
            value = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(value, dict):
            records.append(value)
    return records

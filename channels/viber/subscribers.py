"""What Viber tells us about each user that is not a ticket: unsubscribed, and the language chosen.

Kept in one small JSON file in the data directory (`viber/users.json`) rather than in the core's
tables, so the channel stays a plug-in without a schema change (issue 17). Writers take an
exclusive `flock` on a side file, so two app processes on one host never lose each other's
update; the file is replaced atomically, so a reader never sees half of it. Keys are Viber's
opaque user ids, not names or numbers.
"""

from __future__ import annotations

import fcntl
import json
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

LANGUAGES = {"sr-Latn": ("sr", "latn"), "sr-Cyrl": ("sr", "cyrl"), "en": ("en", "latn")}


class UserStore:
    def __init__(self, data_dir: Path) -> None:
        self.dir = data_dir / "viber"
        self.path = self.dir / "users.json"
        self._lock = threading.Lock()

    def _read(self) -> dict[str, dict[str, Any]]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        return data if isinstance(data, dict) else {}

    @contextmanager
    def _locked(self) -> Iterator[dict[str, dict[str, Any]]]:
        self.dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        with self._lock, open(self.dir / "users.lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                data = self._read()
                yield data
                tmp = self.path.with_suffix(".tmp")
                fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
                with os.fdopen(fd, "w", encoding="utf-8") as out:
                    json.dump(data, out, ensure_ascii=False)
                    out.flush()
                    os.fsync(out.fileno())
                os.replace(tmp, self.path)
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _get(self, user_id: str) -> dict[str, Any]:
        return self._read().get(user_id) or {}

    def set_subscribed(self, user_id: str, subscribed: bool) -> None:
        with self._locked() as data:
            data.setdefault(user_id, {})["unsubscribed"] = not subscribed

    def is_unsubscribed(self, user_id: str) -> bool:
        return bool(self._get(user_id).get("unsubscribed"))

    def set_language(self, user_id: str, choice: str) -> None:
        if choice not in LANGUAGES:
            raise ValueError(choice)
        with self._locked() as data:
            data.setdefault(user_id, {})["language"] = choice

    def language(self, user_id: str) -> tuple[str, str] | None:
        """(language, script) the user chose with the welcome buttons, if they did."""
        choice = self._get(user_id).get("language")
        return LANGUAGES.get(choice) if isinstance(choice, str) else None

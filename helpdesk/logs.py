"""Logging for every process: text lines or one JSON object per line, never personal data.

``HELPDESK_LOG_FORMAT=json`` gives ``{"time", "level", "logger", "message", ...}`` per line for a
log collector (journald keeps it as is). Whatever the format, the handler masks email addresses,
phone numbers and national ID numbers (JMBG) in the message and in any exception text, because a
library may log what it received (aiosmtpd at DEBUG logs whole SMTP commands, a driver its query
parameters) and our own code must not be the only guard.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime
from typing import Any, TextIO

from helpdesk.privacy import jmbg
from helpdesk.settings import Settings

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# International (+381 64 123 4567, +38164...), Serbian national (064/123-4567, 011 123 4567).
# Not after a word character or a separator, so ticket references (HD-2026-012345) stay readable.
PHONE = re.compile(
    r"(?<![\w+./-])(?:\+\d{1,3}[ ./-]?\d{1,4}|0[1-9]\d{0,2})(?:[ ./-]?\d{2,4}){2,4}(?![\w/-])"
)
# Attributes every LogRecord has; anything else was passed with extra={...} and goes into the JSON.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


def mask(text: str) -> str:
    """The text with emails, phone numbers and JMBGs replaced by placeholders."""
    text = EMAIL.sub("<email>", text)
    # A valid JMBG is masked as everywhere else (helpdesk.privacy.jmbg, the one rule); a log has no
    # reader who needs a mistyped number either, so any other 13-digit run goes too.
    text = jmbg.RUN.sub("<jmbg>", jmbg.mask(text))
    return PHONE.sub("<phone>", text)


class PersonalDataFilter(logging.Filter):
    """Rewrites the record's message (arguments merged) and exception text, masked."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a bad format string must not lose the line
            message = str(record.msg)
        record.msg, record.args = mask(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask(record.exc_text)
            record.exc_info = None  # the masked text is what gets printed
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "process": record.process,
            "thread": record.threadName,
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value if isinstance(value, int | float | bool) else mask(str(value))
        if record.exc_text:
            entry["exception"] = record.exc_text
        return json.dumps(entry, ensure_ascii=False)


TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def make_handler(settings: Settings, stream: TextIO | None = None) -> logging.Handler:
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(
        JsonFormatter() if settings.log_format == "json" else logging.Formatter(TEXT_FORMAT)
    )
    handler.addFilter(PersonalDataFilter())
    handler._helpdesk = True  # type: ignore[attr-defined]
    return handler


def configure_logging(settings: Settings) -> None:
    """Like logging.basicConfig: only when nothing configured the root logger already (a test
    runner, gunicorn's logconfig), and once per process however many apps are built."""
    if settings.log_format not in ("text", "json"):
        raise ValueError(f"HELPDESK_LOG_FORMAT: {settings.log_format!r} is not text or json")
    root = logging.getLogger()
    ours = [h for h in root.handlers if getattr(h, "_helpdesk", False)]
    if root.handlers and not ours:
        return
    for handler in ours:
        root.removeHandler(handler)
    root.addHandler(make_handler(settings))
    root.setLevel(settings.log_level)
    # werkzeug sets its own logger to INFO at its first line unless a level is set: its access
    # line per request would then ignore HELPDESK_LOG_LEVEL=WARNING.
    logging.getLogger("werkzeug").setLevel(settings.log_level)

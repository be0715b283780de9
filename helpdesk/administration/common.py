"""What every administrative operation shares: its error, name validation and the audit line."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping

from helpdesk.administration.names import LANGUAGES, MAX_NAME

KEY = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,39}$")


class AdminError(ValueError):
    """A change refused; the message says why, in words the person who asked understands."""


def check_key(key: str, what: str, max_length: int = 40) -> str:
    """An internal key (queue or category): lower-case letters, digits, _ . -; never shown."""
    key = (key or "").strip()
    if not KEY.match(key) or len(key) > max_length:
        raise AdminError(
            f"{what} key {key!r} must be 1 to {max_length} lower-case letters, digits, _ . or -"
        )
    return key


def check_names(names: Mapping[str, str | None], *, require_latin: bool = True) -> dict[str, str]:
    """Names per language, trimmed; sr-Latn is required, sr-Cyrl and en may be left empty."""
    clean: dict[str, str] = {}
    for language, value in names.items():
        if language not in LANGUAGES:
            raise AdminError(f"unknown language {language!r} (use {', '.join(LANGUAGES)})")
        text = " ".join((value or "").split())
        if not text:
            continue
        if len(text) > MAX_NAME:
            raise AdminError(f"the {language} name is longer than {MAX_NAME} characters")
        if any(unicodedata.category(ch) == "Cc" for ch in text):
            raise AdminError(f"the {language} name contains control characters")
        clean[language] = text
    if require_latin and "sr-Latn" not in clean:
        raise AdminError("a name in Serbian (Latin script) is required")
    return clean

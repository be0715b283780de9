"""What every administrative operation shares: its error, name validation and the audit line."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping

from helpdesk.administration.names import LANGUAGES, MAX_NAME

KEY = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,39}$")


def N_(text: str) -> str:
    """Mark a message for the catalog; the admin pages translate it, the CLI prints it as is."""
    return text


class AdminError(ValueError):
    """A change refused; the message says why, in words the person who asked understands.

    `msgid` is an English catalog message with %(name)s placeholders; str() is the English text
    (the CLI's), `translated(gettext)` the interface language's (the pages').
    """

    def __init__(self, msgid: str, **params: object) -> None:
        self.msgid = msgid
        self.params = params
        super().__init__(msgid % params if params else msgid)

    def translated(self, gettext: Callable[..., str]) -> str:
        return gettext(self.msgid, **self.params)


def check_key(key: str, max_length: int = 40) -> str:
    """An internal key (queue or category): lower-case letters, digits, _ . -; never shown."""
    key = (key or "").strip()
    if not KEY.match(key) or len(key) > max_length:
        raise AdminError(
            N_("The key %(key)s must be 1 to %(max)d lower-case letters, digits, _ . or -."),
            key=repr(key), max=max_length,
        )
    return key


def check_names(names: Mapping[str, str | None], *, require_latin: bool = True) -> dict[str, str]:
    """Names per language, trimmed; sr-Latn is required, sr-Cyrl and en may be left empty."""
    clean: dict[str, str] = {}
    for language, value in names.items():
        if language not in LANGUAGES:
            raise AdminError(N_("Unknown language %(language)s."), language=repr(language))
        text = " ".join((value or "").split())
        if not text:
            continue
        if len(text) > MAX_NAME:
            raise AdminError(N_("The name in %(language)s is longer than %(max)d characters."),
                             language=language, max=MAX_NAME)
        if any(unicodedata.category(ch) == "Cc" for ch in text):
            raise AdminError(N_("The name in %(language)s contains control characters."),
                             language=language)
        clean[language] = text
    if require_latin and "sr-Latn" not in clean:
        raise AdminError(N_("A name in Serbian (Latin script) is required."))
    return clean

"""Display names of queues and ticket categories: the one place that turns a key into words.

Every template, console chip, chart and CSV asks `display_name(kind, key, language)`; no internal
key ("personal_documents") reaches a reader. Names come from the store (an administrator's
choice), then the standard names, then the key made readable. A missing sr-Cyrl name is the
sr-Latn one transliterated, so an administrator who writes only Latin still serves both scripts.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from helpdesk.administration.defaults import (
    DEFAULT_CATEGORY_NAMES,
    DEFAULT_QUEUE_NAMES,
    default_names,
)
from helpdesk.db import Database
from helpdesk.models import Category, Queue

KINDS = ("queue", "category")
LANGUAGES = ("sr-Latn", "sr-Cyrl", "en")
MAX_NAME = 200

Names = dict[str, dict[str, str]]  # key -> language -> name


def humanize(key: str) -> str:
    """The last resort for a key nobody named: "health_vaccination" -> "Health vaccination"."""
    words = key.replace("_", " ").replace("-", " ").strip()
    return words[:1].upper() + words[1:] if words else key


def pick_name(names: Mapping[str, Any] | None, language: str, fallback: str) -> str:
    """The name in `language`: its own, else (Cyrillic) the Latin one transliterated, else another."""
    names = names or {}
    own = str(names.get(language) or "").strip()
    if own:
        return own
    latin = str(names.get("sr-Latn") or "").strip()
    english = str(names.get("en") or "").strip()
    if language == "sr-Cyrl" and latin:
        from triage.text import to_cyrillic  # the one owner of Serbian script conversion

        return to_cyrillic(latin)
    return latin or english or fallback


def load_names(session: Session, kind: str) -> Names:
    """Every stored and standard name of one kind (queue or category)."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}")
    defaults = DEFAULT_QUEUE_NAMES if kind == "queue" else DEFAULT_CATEGORY_NAMES
    found: Names = {key: default_names(pair, key) for key, pair in defaults.items()}
    if kind == "queue":
        rows = session.execute(select(Queue.name, Queue.title, Queue.names)).all()
        # an install's own queue without names: its title is what its maker called it
        stored = [
            (n, names or ({} if n in defaults else {"sr-Latn": t, "en": t})) for n, t, names in rows
        ]
    else:
        stored = list(session.execute(select(Category.key, Category.names)).all())
    for key, names in stored:
        given = _clean(names)
        if not given:
            continue
        standard = found.get(key, {})
        # What was stored replaces the standard names (an empty language falls back to Latin),
        # except a standard Cyrillic spelling of an unchanged Latin name.
        cyrillic, latin = standard.get("sr-Cyrl"), standard.get("sr-Latn")
        if "sr-Cyrl" not in given and cyrillic and given.get("sr-Latn") == latin:
            given["sr-Cyrl"] = cyrillic
        found[key] = given
    return found


def _clean(names: Mapping[str, Any] | None) -> dict[str, str]:
    return {lang: str(v).strip() for lang, v in (names or {}).items() if lang in LANGUAGES and v}


def name_from(all_names: Names, key: str | None, language: str) -> str:
    if not key:
        return ""
    return pick_name(all_names.get(key), language, humanize(key))


# --- in a request ----------------------------------------------------------------------------


def _request_names(kind: str, db: Database | None) -> Names:
    """The names of a kind, read once per request (a page may name hundreds of tickets)."""
    from flask import g, has_app_context

    if db is None:
        from helpdesk.services import current_services

        db = current_services().db
    cache: dict[str, Names] | None = None
    if has_app_context():
        cache = g.setdefault("_display_names", {})
        if kind in cache:
            return cache[kind]
    with db.session() as s:
        names = load_names(s, kind)
    if cache is not None:
        cache[kind] = names
    return names


def display_name(
    kind: str, key: str | None, language: str | None = None, db: Database | None = None
) -> str:
    """The words a reader sees for a queue or category key, in `language` (default: the page's)."""
    if not key:
        return ""
    if language is None:
        from helpdesk.i18n import current_language

        language = current_language()
    return name_from(_request_names(kind, db), key, language)


def display_names(
    kind: str, keys: list[str] | None = None, language: str | None = None
) -> list[tuple[str, str]]:
    """(key, name) pairs for a select box: the given keys, or every known one, sorted by name."""
    if language is None:
        from helpdesk.i18n import current_language

        language = current_language()
    names = _request_names(kind, None)
    chosen = keys if keys is not None else list(names)
    pairs = [(k, name_from(names, k, language)) for k in chosen]
    return sorted(pairs, key=lambda kv: kv[1].casefold())


def forget_names() -> None:
    """Drop this request's cache after a rename, so the page that follows shows the new name."""
    from flask import g, has_app_context

    if has_app_context():
        g.pop("_display_names", None)

"""What the admin pages share: the blueprint, who acts, and reading names from a form."""

from __future__ import annotations

from collections.abc import Mapping

from flask import Blueprint
from flask_babel import gettext
from flask_login import current_user

from helpdesk.administration import AdminError
from helpdesk.administration.names import LANGUAGES
from helpdesk.tickets import Actor

bp = Blueprint("admin", __name__, url_prefix="/admin")

LANGUAGE_FIELDS = {"sr-Latn": "name_sr_latn", "sr-Cyrl": "name_sr_cyrl", "en": "name_en"}


def actor() -> Actor:
    return Actor.agent(int(current_user.id))


def message(exc: AdminError) -> str:
    return exc.translated(gettext)


def names_from(form: Mapping[str, str]) -> dict[str, str | None]:
    return {lang: form.get(LANGUAGE_FIELDS[lang], "") for lang in LANGUAGES}


def language_labels() -> list[tuple[str, str, str]]:
    """(language, form field, label) for the three name inputs."""
    return [
        ("sr-Latn", LANGUAGE_FIELDS["sr-Latn"], gettext("Name in Serbian (Latin)")),
        ("sr-Cyrl", LANGUAGE_FIELDS["sr-Cyrl"], gettext("Name in Serbian (Cyrillic)")),
        ("en", LANGUAGE_FIELDS["en"], gettext("Name in English")),
    ]

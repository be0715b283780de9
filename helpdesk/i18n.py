"""Interface languages: Serbian Latin, Serbian Cyrillic and English.

Translators keep one Serbian catalog, in Latin script (translations/sr). Cyrillic is derived from it
by transliteration when a page is rendered, so the two scripts can never drift apart.
"""

from __future__ import annotations

import re
from functools import cached_property
from typing import Any

from babel import Locale, support
from flask import current_app, g, request, session
from flask_babel import Babel, Domain, get_locale
from flask_login import current_user

LANGUAGES = {"sr-Latn": "sr_Latn", "sr-Cyrl": "sr_Cyrl", "en": "en"}
LANGUAGE_NAMES = {"sr-Latn": "Srpski (latinica)", "sr-Cyrl": "Српски (ћирилица)", "en": "English"}


def select_locale() -> str:
    """?lang= wins (and is remembered), then the agent's or session's choice, then the browser."""
    chosen = request.args.get("lang")
    if chosen in LANGUAGES:
        if not current_app.session_interface.is_null_session(session):  # an API call has none
            session["lang"] = chosen
        if getattr(current_user, "is_authenticated", False):
            g.remember_agent_language = chosen
    else:
        chosen = session.get("lang")
        if chosen not in LANGUAGES and getattr(current_user, "is_authenticated", False):
            chosen = current_user.language
        if chosen not in LANGUAGES:
            best = request.accept_languages.best_match(["sr", "en"])
            chosen = "sr-Latn" if best == "sr" else ("en" if best == "en" else None)
    return LANGUAGES.get(chosen or "", LANGUAGES["sr-Latn"])


def current_language() -> str:
    """The interface language as a BCP 47 tag for `<html lang>`: sr-Latn, sr-Cyrl or en."""
    locale = get_locale()
    if locale is None or locale.language != "sr":
        return "en"
    return "sr-Cyrl" if locale.script == "Cyrl" else "sr-Latn"


# Words a reader must see (or type) exactly as written, so they stay Latin in Cyrillic text: key
# names, protocol/format names, SMS keywords, identifiers (HELPDESK_AGENT_PHONE, client_id) and
# quoted protocol words ('hello'). to_cyrillic already keeps URLs, emails and placeholders.
_KEEP_LATIN = re.compile(
    r"\b(?:Enter|Shift|Ctrl|Alt|Esc|JavaScript|HTTPS?|HTML|SMTP|CSV|ISO|SLA|STOP|START"
    r"|[A-Za-z]+_\w+)\b|'[a-z_]+'"
)


class CyrillicTranslations(support.NullTranslations):
    """The Latin Serbian catalog, transliterated to Cyrillic on the way out."""

    def __init__(self, latin: support.NullTranslations) -> None:
        super().__init__()
        self.latin = latin

    def _cyr(self, text: str, key: object) -> str:
        """Transliterate a Serbian translation; an untranslated (English) string stays as it is.

        Asking the catalog (not comparing with the msgid) keeps "Status" or "SMS", whose Serbian
        equals the English, transliterated too.
        """
        from triage.text import to_cyrillic  # the one owner of Serbian script conversion

        if key not in getattr(self.latin, "_catalog", {}):
            return text
        out: list[str] = []
        pos = 0
        for m in _KEEP_LATIN.finditer(text):
            out += [to_cyrillic(text[pos : m.start()]), m.group(0)]
            pos = m.end()
        out.append(to_cyrillic(text[pos:]))
        return "".join(out)

    def gettext(self, message: str) -> str:
        return self._cyr(self.latin.gettext(message), message)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return self._cyr(self.latin.ngettext(singular, plural, n), (singular, 0))

    def pgettext(self, context: str, message: str) -> str:
        return self._cyr(str(self.latin.pgettext(context, message)), f"{context}\x04{message}")

    def npgettext(self, context: str, singular: str, plural: str, n: int) -> str:
        text = str(self.latin.npgettext(context, singular, plural, n))
        return self._cyr(text, (f"{context}\x04{singular}", 0))

    ugettext = gettext
    # Flask-Babel calls these u-names; babel's stubs name the parameters differently.
    ungettext = ngettext  # type: ignore[assignment]
    upgettext = pgettext
    unpgettext = npgettext  # type: ignore[assignment]


class SerbianDomain(Domain):
    def get_translations(self) -> Any:
        translations = super().get_translations()
        locale = get_locale()
        if (
            isinstance(locale, Locale)
            and locale.script == "Cyrl"
            and not isinstance(translations, CyrillicTranslations)
        ):
            translations = CyrillicTranslations(translations)
            self.cache[str(locale), self.domain[0]] = translations
        return translations


class SerbianBabel(Babel):
    @cached_property
    def domain_instance(self) -> Domain:
        return SerbianDomain(domain=self.domain)

"""An incident's words: its notice in the reader's language and script, and keyword matching.

Serbian text rules stay in ``triage.text`` (the one owner): keywords and inquiries are compared
in their normalized form, so "eUprava", "еУправа" and "euprava" are the same word.
"""

from __future__ import annotations

from triage.text import to_cyrillic, tokenize

MAX_KEYWORDS = 30
MAX_KEYWORD = 60


def parse_keywords(raw: str) -> list[str]:
    """Comma- or newline-separated phrases, trimmed, without duplicates (in their written form)."""
    seen: set[str] = set()
    found: list[str] = []
    for part in raw.replace("\n", ",").split(","):
        phrase = " ".join(part.split())[:MAX_KEYWORD]
        key = " ".join(tokenize(phrase))
        if key and key not in seen:
            seen.add(key)
            found.append(phrase)
    return found[:MAX_KEYWORDS]


def matching_keyword(keywords: str, text: str) -> str | None:
    """The first keyword phrase found as whole words in ``text``, compared normalized."""
    words = f" {' '.join(tokenize(text))} "
    for phrase in parse_keywords(keywords):
        key = " ".join(tokenize(phrase))
        if key and f" {key} " in words:
            return phrase
    return None


def notice_language(language: str | None, script: str | None) -> str:
    """sr-Latn, sr-Cyrl or en, from a ticket's (or page's) language and script."""
    lang = (language or "sr").lower().replace("_", "-")
    if lang.startswith("en"):
        return "en"
    if lang.endswith("cyrl") or (script or "").lower().startswith("cyr"):
        return "sr-Cyrl"
    return "sr-Latn"


def notice_text(latn: str, cyrl: str, en: str, language: str) -> str:
    """The notice for a reader: an empty Cyrillic text is the Latin one transliterated, an empty
    English one falls back to Serbian Latin (a citizen gets a notice they can read, not none)."""
    if language == "en":
        return en.strip() or latn.strip()
    if language == "sr-Cyrl":
        return cyrl.strip() or to_cyrillic(latn.strip())
    return latn.strip()

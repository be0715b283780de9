"""A help article as one reader sees it: a Serbian article in the reader's script (one article,
not a Latin and a Cyrillic copy), and articles in the reader's language first."""

from __future__ import annotations

from triage.text import to_cyrillic, to_latin


def reader_language(interface: str) -> str:
    """The article language that serves an interface language (sr-Latn, sr-Cyrl -> sr)."""
    return "en" if interface == "en" else "sr"


def in_reader_script(text: str, language: str, script: str, interface: str) -> str:
    """Serbian text in the reader's script; HTML tags and URLs are kept (triage.text keeps them)."""
    if language != "sr" or interface == "en":
        return text
    if interface == "sr-Cyrl" and script != "cyrl":
        return to_cyrillic(text)
    if interface == "sr-Latn" and script == "cyrl":
        return to_latin(text)
    return text


def lang_tag(language: str, script: str, interface: str) -> str:
    """BCP 47 tag of the text as shown (after any change of script)."""
    if language == "en":
        return "en"
    if interface in ("sr-Latn", "sr-Cyrl"):
        return interface
    return "sr-Cyrl" if script == "cyrl" else "sr-Latn"


def readers_first(language: str, items: list, key: str = "language") -> list:  # type: ignore[type-arg]
    """Stable: the reader's language first, the others after, each in the order given."""
    return sorted(items, key=lambda item: getattr(item, key) != language)

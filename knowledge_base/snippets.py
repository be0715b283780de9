"""Snippets: up to two fragments of an article around the words a query matched.

Whoosh's highlighter runs the whole analyzer chain over the text of every hit, token
object by token object (most of a search's time at 10,000 articles). Here each distinct
word of the text is analyzed once (and cached across searches), the words whose index
terms the query holds are found with one regex pass, and fragments are cut around them
the way Whoosh's ContextFragmenter does: some context before the first match, matches
while the fragment stays under ``maxchars``, some context after; fragments with more
distinct matched words win, and are shown in text order.
"""

from __future__ import annotations

import re
from functools import lru_cache
from html import escape

from knowledge_base.analysis import _WORD_PATTERN, analyzer_for, language_key

__all__ = ["SNIPPET_SOURCE_CHARS", "snippet", "word_terms"]

# Snippets come from the start of long articles.
SNIPPET_SOURCE_CHARS = 6000
_WORD_RE = re.compile(_WORD_PATTERN)
_SPACE = re.compile(r"\s")


def _matches(text: str, terms: frozenset[str], language: str) -> list[tuple[int, int, str]]:
    """(start, end, word) of every word of text whose index terms include one of terms."""
    where: dict[str, list[int]] = {}
    for m in _WORD_RE.finditer(text):
        where.setdefault(m.group(), []).append(m.start())
    spans = [
        (start, start + len(word), word)
        for word, starts in where.items()
        if not word_terms(word, language).isdisjoint(terms)
        for start in starts
    ]
    spans.sort()
    return spans


@lru_cache(maxsize=200_000)
def word_terms(word: str, language: str) -> frozenset[str]:
    """The index terms of one word as the analyzer makes them (stop words: none)."""
    return frozenset(t.text for t in analyzer_for(language)(word, mode="query") if not t.stopped)


def _fragments(
    text: str, spans: list[tuple[int, int, str]], maxchars: int, surround: int
) -> list[tuple[int, int, list[tuple[int, int, str]]]]:
    """Cut text around the matched spans: (start, end, spans inside) per fragment."""
    out = []
    i = 0
    while i < len(spans):
        first = spans[i][0]
        start = max(0, first - surround)
        if start > 0:  # begin at a word: after the first space past start, if any before first
            gap = _SPACE.search(text, start, first)
            start = gap.end() if gap else first
        inside = [spans[i]]
        i += 1
        while i < len(spans) and spans[i][1] - start <= maxchars - surround // 2:
            inside.append(spans[i])
            i += 1
        last = inside[-1][1]
        end = min(len(text), max(last + surround, start + 1), start + maxchars)
        end = max(end, last)
        if end < len(text):  # end at a word: before the last space after the last match
            cut = text.rfind(" ", last, end)
            end = cut if cut > last else end
        out.append((start, end, inside))
    return out


def snippet(
    text: str, terms: frozenset[str], language: str, length: int = 200, surround: int = 60, top: int = 2
) -> str:
    """Up to `top` fragments around matched words, HTML-escaped, matches in <mark>."""
    text = text[:SNIPPET_SOURCE_CHARS]
    lang = language_key(language)
    if terms and text:
        spans = _matches(text, terms, lang)
        if spans:
            frags = _fragments(text, spans, length, surround)
            # Whoosh's BasicFragmentScorer: matches times distinct matched words; earlier wins ties.
            ranked = sorted(
                range(len(frags)),
                key=lambda k: (-len(frags[k][2]) * len({s[2].lower() for s in frags[k][2]}), k),
            )
            chosen = sorted(ranked[:top])
            return " … ".join(_format(text, *frags[k]) for k in chosen)
    head = text[:length]
    if len(text) > length:
        head = head.rsplit(" ", 1)[0] + " …"
    return escape(head)


def _format(text: str, start: int, end: int, spans: list[tuple[int, int, str]]) -> str:
    # The markup Whoosh's HtmlFormatter made (class "match termN"), kept for the templates.
    seen: dict[str, int] = {}
    parts = []
    at = start
    for s, e, word in spans:
        parts.append(escape(text[at:s], quote=False))
        shown = escape(word, quote=False)
        n = seen.setdefault(shown, len(seen) % 5)
        parts.append(f'<mark class="match term{n}">{shown}</mark>')
        at = e
    parts.append(escape(text[at:end], quote=False))
    return "".join(parts)

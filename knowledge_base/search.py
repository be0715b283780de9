"""Query building, BM25F scoring with field boosts, typo tolerance and snippets."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from html import escape
from typing import Any

from whoosh import highlight, query, scoring
from whoosh.idsets import BitSet
from whoosh.searching import Searcher

from knowledge_base.analysis import LANGUAGES, analyzer_for, language_key, query_tokens

__all__ = ["SearchHit", "SearchOptions", "build_query", "run_search", "snippet_for"]


@dataclass(frozen=True)
class SearchOptions:
    """Tuned on StackFAQ (see tests/knowledge_base/test_stackfaq.py and bench/kb)."""

    title_boost: float = 1.5
    tags_boost: float = 1.2
    content_boost: float = 1.0
    bm25_b: float = 1.0  # long threads are long because they ramble: normalize fully
    bm25_k1: float = 2.0
    # Queries of at most this many words also match terms one edit away.
    fuzzy_max_words: int = 3
    fuzzy_min_length: int = 4
    fuzzy_boost: float = 0.6


DEFAULT_OPTIONS = SearchOptions()
# Snippets come from the start of long articles: highlighting re-analyzes the text.
SNIPPET_SOURCE_CHARS = 6000


@dataclass(frozen=True)
class SearchHit:
    id: str
    title: str
    snippet: str  # HTML: escaped text with <mark> around matched words
    score: float
    url: str
    language: str
    script: str
    category: str


def _or(subs: list[query.Query]) -> query.Query:
    # Preload matches into an array: faster in pure Python than Whoosh's union tree, which it
    # picks above 5,000 documents (measured in bench/kb: about 2-3x at 10,000 articles).
    q = query.Or(subs)
    q.matcher_type = query.Or.ARRAY_MATCHER
    return q


def _slot_query(
    field: str,
    variants: list[str],
    boost: float,
    fuzzy: bool,
    opts: SearchOptions,
    known: Callable[[str, str], bool],
) -> query.Query | None:
    # One word of the query: its spelling variants are alternatives, not extra evidence.
    # Terms absent from the index are left out: they would only cost matcher set-up.
    subs: list[query.Query] = [query.Term(field, v, boost=boost) for v in variants if known(field, v)]
    if fuzzy and len(variants[0]) >= opts.fuzzy_min_length:
        subs.append(
            query.FuzzyTerm(field, variants[0], boost=boost * opts.fuzzy_boost, maxdist=1, prefixlength=1)
        )
    if not subs:
        return None
    return subs[0] if len(subs) == 1 else query.DisjunctionMax(subs)


def build_query(
    text: str,
    language: str | None = None,
    options: SearchOptions | None = None,
    known: Callable[[str, str], bool] | None = None,
) -> tuple[query.Query | None, dict[str, frozenset[str]]]:
    """The query for text and, per language, the terms to highlight.

    known(field, term) tells whether the index holds a term (no fuzzy matching for those).
    """
    opts = options or DEFAULT_OPTIONS
    known = known or (lambda field, term: True)
    langs = [language_key(language)] if language else list(LANGUAGES)
    per_language: list[query.Query] = []
    terms: dict[str, frozenset[str]] = {}
    for lang in langs:
        slots = query_tokens(text, lang)
        if not slots:
            continue
        terms[lang] = frozenset(t for slot in slots for t in slot)
        short = len(slots) <= opts.fuzzy_max_words
        fields = (
            (f"title_{lang}", opts.title_boost),
            (f"tags_{lang}", opts.tags_boost),
            (f"content_{lang}", opts.content_boost),
        )
        clauses: list[query.Query] = []
        for variants in slots:
            # A typo is only suspected when no spelling of the word is in the index at all.
            unknown = not any(known(f, v) for f, _ in fields for v in variants)
            for field, boost in fields:
                clause = _slot_query(field, variants, boost, short and unknown, opts, known)
                if clause is not None:
                    clauses.append(clause)
        if clauses:
            per_language.append(_or(clauses))
    if not per_language:
        return None, terms
    q = per_language[0] if len(per_language) == 1 else _or(per_language)
    return q, terms


def snippet_for(text: str, terms: frozenset[str], language: str, length: int = 200) -> str:
    """Up to two fragments around matched words, HTML-escaped, matches in <mark>."""
    text = text[:SNIPPET_SOURCE_CHARS]
    if terms and text:
        fragmenter = highlight.ContextFragmenter(maxchars=length, surround=60)
        formatter = highlight.HtmlFormatter(tagname="mark", between=" … ")
        found = highlight.highlight(text, terms, analyzer_for(language), fragmenter, formatter, top=2)
        if found:
            return str(found)
    head = text[:length]
    if len(text) > length:
        head = head.rsplit(" ", 1)[0] + " …"
    return escape(head)


def _view(searcher: Searcher, opts: SearchOptions) -> tuple[Searcher, Any]:
    """A view over the searcher's reader with these scoring parameters, and the published
    documents as a ready set: both kept on the searcher, which lives until the index changes
    (building them per query cost about a tenth of a search)."""
    cache: dict[SearchOptions, tuple[Searcher, Any]] = searcher.__dict__.setdefault("_kb_views", {})
    found = cache.get(opts)
    if found is None:
        weighting = scoring.BM25F(B=opts.bm25_b, K1=opts.bm25_k1)
        scored = Searcher(searcher.reader(), weighting=weighting, closereader=False)
        published = BitSet(scored.docs_for_query(query.Term("published", True)), size=scored.doc_count_all())
        found = cache[opts] = (scored, published)
    return found


def run_search(
    searcher: Searcher,
    text: str,
    language: str | None = None,
    limit: int = 5,
    published_only: bool = True,
    options: SearchOptions | None = None,
    snippets: bool = True,
) -> list[SearchHit]:
    opts = options or DEFAULT_OPTIONS
    reader = searcher.reader()

    def known(field: str, term: str) -> bool:
        return bool(reader.doc_frequency(field, term))

    q, terms = build_query(text, language, opts, known)
    if q is None or limit <= 0:
        return []
    scored, published = _view(searcher, opts)
    if published_only and not published:
        return []  # Whoosh takes an empty filter set for no filter at all
    results = scored.search(q, limit=limit, filter=published if published_only else None)
    hits: list[SearchHit] = []
    for hit in results:
        lang = hit.get("language") or "sr"
        body = hit.get("text") or ""
        hits.append(
            SearchHit(
                id=hit["id"],
                title=hit.get("title") or "",
                snippet=snippet_for(body, terms.get(lang, frozenset()), lang) if snippets else "",
                score=round(float(hit.score or 0.0), 4),
                url=hit.get("url") or "",
                language=lang,
                script=hit.get("script") or "",
                category=hit.get("category") or "",
            )
        )
    return hits

"""Query building, BM25F scoring with field boosts, typo tolerance and snippets."""

from __future__ import annotations

from dataclasses import dataclass

from whoosh.searching import Searcher

from knowledge_base.analysis import LANGUAGES, language_key, query_tokens
from knowledge_base.engine import Clause, TableCache, TermTable, top_documents
from knowledge_base.snippets import SNIPPET_SOURCE_CHARS, snippet

__all__ = ["SNIPPET_SOURCE_CHARS", "SearchHit", "SearchOptions", "build_clauses", "run_search", "snippet_for"]


@dataclass(frozen=True)
class SearchOptions:
    """Tuned on StackFAQ (see tests/knowledge_base/test_kblib_stackfaq.py and bench/kb)."""

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


def build_clauses(
    table: TermTable,
    searcher: Searcher,
    text: str,
    language: str | None = None,
    options: SearchOptions | None = None,
) -> tuple[list[Clause], dict[str, frozenset[str]]]:
    """The clauses for text (one per query word and field) and, per language, the terms
    to highlight.

    A word's spellings (script, diacritics, stems) are alternatives, not extra evidence:
    the best one counts. A typo is only suspected, and terms one edit away searched, when
    no spelling of the word is in the index at all and the query is short.
    """
    opts = options or DEFAULT_OPTIONS
    langs = [language_key(language)] if language else list(LANGUAGES)
    clauses: list[Clause] = []
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
        for variants in slots:
            present = {
                (f, v): table.postings(searcher, f, v) is not None for f, _ in fields for v in variants
            }
            typo = short and not any(present.values()) and len(variants[0]) >= opts.fuzzy_min_length
            for field, boost in fields:
                known = tuple(v for v in variants if present[(field, v)])
                if known or typo:
                    clauses.append(
                        Clause(field, known, boost, variants[0] if typo else None, opts.fuzzy_boost)
                    )
    return clauses, terms


def snippet_for(text: str, terms: frozenset[str], language: str, length: int = 200) -> str:
    """Up to two fragments around matched words, HTML-escaped, matches in <mark>."""
    return snippet(text, terms, language, length)


def _table(searcher: Searcher, opts: SearchOptions, tables: TableCache | None) -> TermTable:
    if tables is None:
        # No shared cache given: keep one on the searcher, which lives until the index changes.
        tables = searcher.__dict__.setdefault("_kb_tables", TableCache())
    return tables.get(searcher, opts.bm25_b, opts.bm25_k1)


def run_search(
    searcher: Searcher,
    text: str,
    language: str | None = None,
    limit: int = 5,
    published_only: bool = True,
    options: SearchOptions | None = None,
    snippets: bool = True,
    tables: TableCache | None = None,
) -> list[SearchHit]:
    opts = options or DEFAULT_OPTIONS
    if limit <= 0:
        return []
    table = _table(searcher, opts, tables)
    clauses, terms = build_clauses(table, searcher, text, language, opts)
    if not clauses:
        return []
    hits: list[SearchHit] = []
    # Stored fields and snippets only for the hits shown.
    for docnum, score in top_documents(table, searcher, clauses, limit, published_only):
        stored = searcher.stored_fields(docnum)
        lang = stored.get("language") or "sr"
        body = stored.get("text") or ""
        hits.append(
            SearchHit(
                id=stored["id"],
                title=stored.get("title") or "",
                snippet=snippet_for(body, terms.get(lang, frozenset()), lang) if snippets else "",
                score=round(score, 4),
                url=stored.get("url") or "",
                language=lang,
                script=stored.get("script") or "",
                category=stored.get("category") or "",
            )
        )
    return hits

"""Top-k BM25F over postings read once per index version into arrays.

Whoosh scores one posting at a time in Python: a tree of union matchers, or an array matcher
that reads and scores every posting of every query term on every search. Help-center queries
reuse a small vocabulary, so here each (field, term) is read once per index version into
two arrays (document numbers, BM25F scores) and a search adds those arrays up with numpy.

* The table belongs to one index version (Whoosh generation): a commit makes a new one, so
  scores always use the current document counts and lengths. It is shared by every thread,
  but postings are always read through the calling thread's own reader (a Whoosh reader
  seeks in its files and must not be shared).
* The cache is bounded by the number of postings it holds (least recently used go first).
* Scoring is Whoosh's BM25F (``whoosh.scoring.bm25``: the same idf, average field length
  and quantized field lengths), so the ranking is the one Whoosh would compute; one word's
  spellings count as alternatives (the best of them), fields and words add up.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from whoosh import query
from whoosh.codec.whoosh3 import LENGTHS_COLUMN, W3LeafMatcher
from whoosh.matching import Matcher
from whoosh.matching.wrappers import FilterMatcher
from whoosh.reading import IndexReader
from whoosh.searching import Searcher
from whoosh.util.numeric import byte_to_length

__all__ = ["Clause", "TermTable", "TableCache", "top_documents"]

# About 12 bytes each (int32 id + float64 score): 3,000,000 postings are ~36 MB.
MAX_CACHED_POSTINGS = 3_000_000
_BYTE_TO_LENGTH = np.array([byte_to_length(i) for i in range(256)], dtype=np.float64)

Postings = tuple[NDArray[np.int32], NDArray[np.float64]]


@dataclass(frozen=True)
class Clause:
    """One query word in one field: the best of its spellings counts.

    ``near`` is set when the word may be a typo: index terms one edit away from it (same
    first letter) count too, at ``boost * near_boost``.
    """

    field: str
    terms: tuple[str, ...]
    boost: float
    near: str | None = None
    near_boost: float = 0.0


def table_key(reader: IndexReader) -> Hashable:
    # The generation changes with every commit; counts guard indexes without one.
    return (reader.generation(), reader.doc_count_all(), reader.doc_count())


def _read_postings(matcher: Matcher) -> tuple[NDArray[np.int32], NDArray[np.float32]]:
    """All (document number, weight) pairs of one segment's posting list."""
    if isinstance(matcher, FilterMatcher):  # deletions: the table's live mask applies them
        matcher = matcher.child
    ids: list[Any] = []
    weights: list[Any] = []
    if isinstance(matcher, W3LeafMatcher):
        # Block by block: the codec decodes a whole block into arrays anyway.
        while matcher.is_active():
            if matcher._ids is None:
                matcher._read_ids()
            if matcher._weights is None:
                matcher._read_weights()
            ids.append(np.asarray(matcher._ids, dtype=np.int32))
            weights.append(np.asarray(matcher._weights, dtype=np.float32))
            matcher._next_block()
        if not ids:
            return np.zeros(0, np.int32), np.zeros(0, np.float32)
        return np.concatenate(ids), np.concatenate(weights)
    while matcher.is_active():  # inlined (single-posting) terms and other matchers
        ids.append(matcher.id())
        weights.append(matcher.weight())
        matcher.next()
    return np.array(ids, dtype=np.int32), np.array(weights, dtype=np.float32)


def _leaf_lengths(leaf: IndexReader, field: str) -> NDArray[np.float64]:
    """Whoosh's quantized length of field in every document of one segment."""
    count = leaf.doc_count_all()
    try:
        # The lengths column is one byte per document: read it whole.
        column = leaf._perdoc._cached_reader(f"_{field}_len", LENGTHS_COLUMN)  # type: ignore[attr-defined]
        codes = np.zeros(count, dtype=np.uint8)
        if column is not None and column._count:
            raw = column._dbfile.get(column._basepos, column._count)
            codes[: len(raw)] = np.frombuffer(raw, dtype=np.uint8)[:count]
        return _BYTE_TO_LENGTH[codes]
    except AttributeError:  # another codec: ask document by document
        return np.array([leaf.doc_field_length(d, field, 0) or 0 for d in range(count)], dtype=np.float64)


class TermTable:
    """One index version: live and published documents, and scored postings per term."""

    def __init__(self, searcher: Searcher, b: float, k1: float, budget: int = MAX_CACHED_POSTINGS) -> None:
        reader = searcher.reader()
        self.key = table_key(reader)
        self.b, self.k1, self.budget = b, k1, budget
        self.n = int(reader.doc_count_all())
        live = np.ones(self.n, dtype=bool)
        for leaf, offset in reader.leaf_readers():
            if leaf.has_deletions():
                live[offset : offset + leaf.doc_count_all()] = False
                kept = np.fromiter(leaf.all_doc_ids(), dtype=np.int64)
                live[kept + offset] = True
        self.live = live
        published = np.zeros(self.n, dtype=bool)
        found = np.fromiter(searcher.docs_for_query(query.Term("published", True)), dtype=np.int64)
        published[found] = True
        self.published = published & live
        self._avg: dict[str, float] = {}
        self._lengths: dict[str, NDArray[np.float64]] = {}
        self._near: dict[tuple[str, str], tuple[str, ...]] = {}
        self._postings: OrderedDict[tuple[str, str], Postings | None] = OrderedDict()
        self._held = 0
        self._lock = threading.Lock()

    def _field_stats(self, searcher: Searcher, field: str) -> tuple[float, NDArray[np.float64]]:
        lengths = self._lengths.get(field)
        if lengths is None:
            parts = [_leaf_lengths(leaf, field) for leaf, _ in searcher.reader().leaf_readers()]
            lengths = np.concatenate(parts) if parts else np.zeros(0)
            self._avg[field] = float(searcher.avg_field_length(field) or 1)
            self._lengths[field] = lengths
        return self._avg[field], lengths

    def postings(self, searcher: Searcher, field: str, term: str) -> Postings | None:
        """Document numbers and BM25F scores of term in field; None when it is absent."""
        key = (field, term)
        with self._lock:
            if key in self._postings:
                self._postings.move_to_end(key)
                return self._postings[key]
        found = self._load(searcher, field, term)
        size = 1 if found is None else len(found[0]) + 1
        with self._lock:
            if key not in self._postings:
                self._postings[key] = found
                self._held += size
                while self._held > self.budget and len(self._postings) > 1:
                    _, old = self._postings.popitem(last=False)
                    self._held -= 1 if old is None else len(old[0]) + 1
        return found

    def _load(self, searcher: Searcher, field: str, term: str) -> Postings | None:
        reader = searcher.reader()
        df = reader.doc_frequency(field, term)
        if not df:
            return None
        id_parts, tf_parts = [], []
        for leaf, offset in reader.leaf_readers():
            if (field, term) in leaf:
                ids, tf = _read_postings(leaf.postings(field, term))
                id_parts.append(ids + offset)
                tf_parts.append(tf)
        if not id_parts:
            return None
        ids = np.concatenate(id_parts).astype(np.int32, copy=False)
        tf = np.concatenate(tf_parts).astype(np.float64)
        avg, lengths = self._field_stats(searcher, field)
        # whoosh.scoring.bm25 with Weighting.idf, vectorized.
        idf = math.log(self.n / (df + 1)) + 1
        k1, b = self.k1, self.b
        scores = idf * ((tf * (k1 + 1)) / (tf + k1 * ((1 - b) + b * lengths[ids] / avg)))
        return ids, scores

    def near(self, searcher: Searcher, field: str, word: str) -> tuple[str, ...]:
        """Index terms one edit away from word that share its first letter."""
        key = (field, word)
        found = self._near.get(key)
        if found is None:
            found = tuple(sorted(searcher.reader().terms_within(field, word, 1, prefix=1)))
            if len(self._near) >= 20_000:  # typos are unbounded: keep the memory bounded
                self._near.clear()
            self._near[key] = found
        return found


class TableCache:
    """The current TermTable of an index, shared by the threads that search it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tables: dict[tuple[float, float], TermTable] = {}

    def get(self, searcher: Searcher, b: float, k1: float) -> TermTable:
        key = table_key(searcher.reader())
        table = self._tables.get((b, k1))
        if table is None or table.key != key:
            with self._lock:
                table = self._tables.get((b, k1))
                if table is None or table.key != key:
                    table = self._tables[(b, k1)] = TermTable(searcher, b, k1)
        return table

    def clear(self) -> None:
        with self._lock:
            self._tables.clear()


def top_documents(
    table: TermTable,
    searcher: Searcher,
    clauses: Sequence[Clause],
    limit: int,
    published_only: bool = True,
) -> list[tuple[int, float]]:
    """The best `limit` (document number, score) pairs: score down, then document number."""
    n = table.n
    total = np.zeros(n, dtype=np.float64)
    for clause in clauses:
        found: list[tuple[Postings, float]] = []
        for term in clause.terms:
            p = table.postings(searcher, clause.field, term)
            if p is not None:
                found.append((p, clause.boost))
        if clause.near is not None:
            for term in table.near(searcher, clause.field, clause.near):
                p = table.postings(searcher, clause.field, term)
                if p is not None:
                    found.append((p, clause.boost * clause.near_boost))
        if len(found) == 1:
            (ids, scores), boost = found[0]
            total[ids] += boost * scores  # a term's document numbers are distinct
        elif found:
            best = np.zeros(n, dtype=np.float64)
            for (ids, scores), boost in found:
                best[ids] = np.maximum(best[ids], boost * scores)
            total += best
    total *= table.published if published_only else table.live
    matched = np.flatnonzero(total > 0)
    if matched.size == 0 or limit <= 0:
        return []
    values = total[matched]
    if matched.size > limit:
        kth = np.partition(values, matched.size - limit)[matched.size - limit]
        keep = values >= kth
        matched, values = matched[keep], values[keep]
    order = np.lexsort((matched, -values))[:limit]
    return [(int(matched[i]), float(values[i])) for i in order]

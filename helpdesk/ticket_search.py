"""Ticket search for agents with the database's own full-text search.

SQLite: an FTS5 table ``ticket_fts``; PostgreSQL: ``ticket_search_docs`` with a ``tsvector``
column and a GIN index (migrations ``0008_ticket_fts``, ``0011_ticket_fts_keys``; FTS5 prefix
indexes of 3-6 letters since ``0027_wordsearch_fts_prefix``; PostgreSQL's distinct words in
``ticket_search_words`` since ``0031_pgwords_search_words``). One row per ticket subject and
one per message, keyed ``ticket_id * 2**20 + seq`` (0 for the subject): the ticket is read off
the key, so SQLite never looks into the FTS content table to find it
(measured: ten times faster on a common word at a million tickets). The text is normalized by
``triage.text`` (Cyrillic -> Latin, lower case, folded diacritics) before it is stored, and
so is the query, so "порез", "porez" and "pórez" meet. Every query word is cut to its
Snowball stem and matched as a prefix, so Serbian case endings meet too ("poreza" finds
"porezu").

The rows are written by ``helpdesk.ticket_index``; this module normalizes texts and queries and
searches.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from sqlalchemy import Connection, Integer, Select, false, or_, select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from helpdesk.db import table_present
from helpdesk.models import Ticket
from knowledge_base.analysis import serbian_stem
from triage.text import tokenize

__all__ = [
    "apply_text_search",
    "search_ticket_ids",
    "search_document",
    "subject_document",
    "match_expression",
    "tsquery_expression",
    "index_available",
    "SEARCH_INCOMPLETE",
]

FTS_TABLE = "ticket_fts"  # SQLite FTS5
PG_TABLE = "ticket_search_docs"  # PostgreSQL
KEY_FACTOR = 1 << 20  # row key = ticket_id * KEY_FACTOR + seq; messages per ticket stay far below it
MAX_QUERY_WORDS = 8
# Ranked search scores the newest this-many matching rows (subjects and messages), not every
# match: bounded cost whatever the store's size, and agents look for recent tickets first. It is
# also what PostgreSQL reads row by row for a common word (newest first, until it has them).
RANK_WINDOW = 400
MIN_PREFIX = 3
K1, B = 1.2, 0.75  # bm25's usual constants
_REFERENCE = re.compile(r"^[A-Za-z]{2,5}-\d{4}-\d{1,9}$")
log = logging.getLogger(__name__)


def search_document(value: str | None) -> str:
    """The stored form of a text: normalized tokens separated by spaces."""
    return " ".join(tokenize(value or ""))


def _prefix(word: str) -> str:
    """The part of a normalized word every case form shares: its stem, if a prefix."""
    if len(word) <= MIN_PREFIX or word.isdigit():
        return word
    stem = serbian_stem(word)
    common = 0
    for a, b in zip(word, stem, strict=False):
        if a != b:
            break
        common += 1
    return word[: max(common, MIN_PREFIX)]


def subject_document(reference: str | None, subject: str | None) -> str:
    """The subject row also holds the reference and its bare number ("HD-2026-000123" -> 123),
    so an agent can type either."""
    number = (reference or "").rsplit("-", 1)[-1]
    bare = str(int(number)) if number.isdigit() else ""
    return search_document(f"{reference or ''} {bare} {subject or ''}")


def _query_words(q: str) -> list[str]:
    return [_prefix(w) for w in tokenize(q)[:MAX_QUERY_WORDS]]


def match_expression(q: str) -> str | None:
    """An FTS5 MATCH string: every word a quoted prefix, all required."""
    words = _query_words(q)
    return " ".join(f'"{w}"*' for w in words) if words else None


def tsquery_expression(q: str) -> str | None:
    """A to_tsquery('simple', ...) string: every word a prefix, all required."""
    words = _query_words(q)
    return " & ".join(f"{w}:*" for w in words) if words else None


# -- is the index there? ----------------------------------------------------------------


def index_available(conn: Connection) -> bool:
    """True when the migration made the table (a create_all() database has none)."""
    return table_present(conn, FTS_TABLE, PG_TABLE)


# -- searching ----------------------------------------------------------------------------


def _like(stmt: Select[Any], q: str) -> Select[Any]:
    pattern = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    return stmt.where(
        or_(
            Ticket.reference.ilike(pattern, escape="\\"),
            Ticket.subject.ilike(pattern, escape="\\"),
        )
    )


def _matching_ids(conn: Connection, q: str) -> Any | None:
    """A SELECT of ticket ids whose subject or one message holds every query word."""
    if conn.dialect.name == "postgresql":
        tsq = tsquery_expression(q)
        if tsq is None:
            return None
        return (
            text(f"SELECT ticket_id FROM {PG_TABLE} WHERE doc @@ to_tsquery('simple', :tsq)")  # noqa: S608
            .bindparams(tsq=tsq)
            .columns(ticket_id=Integer)
        )
    match = match_expression(q)
    if match is None:
        return None
    return (
        text(
            f"SELECT rowid / {KEY_FACTOR} AS ticket_id FROM {FTS_TABLE} "  # noqa: S608
            f"WHERE {FTS_TABLE} MATCH :m"
        )
        .bindparams(m=match)
        .columns(ticket_id=Integer)
    )


def apply_text_search(stmt: Select[Any], session: Session, q: str) -> Select[Any]:
    """Narrow a ticket SELECT to tickets matching q (a reference, or words in any message)."""
    q = q.strip()[:500]
    if not q:
        return stmt
    conn = session.connection()
    if not index_available(conn):
        return _like(stmt, q)
    ids = _matching_ids(conn, q)
    by_reference = Ticket.reference == q.upper() if _REFERENCE.match(q) else None
    if ids is None:
        return stmt.where(by_reference) if by_reference is not None else stmt.where(false())
    in_index = Ticket.id.in_(ids)
    return stmt.where(or_(by_reference, in_index) if by_reference is not None else in_index)


_NEWEST = text(
    f"SELECT rowid, doc FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH :m "  # noqa: S608 - constant name
    "ORDER BY rowid DESC LIMIT :n"
)


def _sqlite_ranked(conn: Connection, words: list[str]) -> list[int]:
    """SQLite: keys of the newest RANK_WINDOW rows holding every word as a prefix, best first.

    FTS5 walks a prefix's doclist newest first and stops at the LIMIT: a prefix of 3 to 6
    letters has its own index (migration 0027), a longer one merges the few terms it starts.
    Reading each row's stored text (a lookup each) is most of the cost."""
    match = " ".join(f'"{w}"*' for w in words)
    rows = [(int(k), str(d)) for k, d in conn.execute(_NEWEST, {"m": match, "n": RANK_WINDOW}).all()]
    return [key for key, _ in sorted(rows, key=_scorer(rows, words))]


def _scorer(rows: list[tuple[int, str]], words: list[str]) -> Any:
    """A sort key, best row first: bm25's term-frequency part (each word's occurrences against
    the row's length) without its IDF, newer first on a tie. Every row holds every word, so IDF
    would only weigh the words against each other, and FTS5's bm25() pays for it with a count
    of all matches of each word (tens of ms for a common word at a million tickets)."""
    patterns = [re.compile(r"(?<!\S)" + re.escape(w)) for w in words]
    lengths = {key: doc.count(" ") + 1 for key, doc in rows}
    average = sum(lengths.values()) / max(1, len(lengths))

    def key(row: tuple[int, str]) -> tuple[float, int]:
        norm = K1 * (1 - B + B * lengths[row[0]] / average)
        score = 0.0
        for pattern in patterns:
            tf = len(pattern.findall(row[1]))
            score += tf * (K1 + 1) / (tf + norm)
        return (-score, -row[0])

    return key


# PostgreSQL. The GIN index answers a prefix by collecting every row of every lexeme it starts
# into a bitmap before the first match (seconds for a common word at a million tickets, 150-300 ms
# for two common words that never meet), while whole words are intersected inside the index, the
# longer list skipped through. So the index is asked for the whole words a prefix stands for, read
# from WORDS_TABLE (migration 0031: every word of the rows, kept by triggers; not numbers, which
# stay prefixes), and for a prefix only when it stands for more than MAX_EXPANSION words. The
# newest rows first only come from the key index read backwards, testing each row (cheap for a
# common word, the whole table for a rare one). So: the rows of the newest RECENT_TICKETS tickets
# one by one, and the GIN index for a word rare there, keyed on that word alone. Several words (two
# names, or words that never meet, would read every recent row for nothing): a per-word count over
# the newest SAMPLE_ROWS rows first; a word in at most RARE_IN_SAMPLE of them sends the whole query
# to the index. When the recent rows hold fewer than FILL_TICKETS matching tickets (a rare word, or
# common words that seldom meet), the index is asked for the older rows too - under
# OLDER_TIMEOUT_MS, as a prefix of many words may still collect a lot: an old case must be
# findable, a search must stay bounded.
RECENT_TICKETS = 5000
SAMPLE_ROWS = 3000
RARE_IN_SAMPLE = 4
FILL_TICKETS = 50  # one console page
OLDER_TIMEOUT_MS = 2000
WORDS_TABLE = "ticket_search_words"  # PostgreSQL: the distinct words of PG_TABLE (migration 0031)
# A prefix of more words than this is left to the index as a prefix: never cut, so nothing is
# missed (if that pass runs past OLDER_TIMEOUT_MS the console says so). Measured at a million
# tickets with 200,000 more words (bench/README, pgwordsrace): 16, 64 and 256 cost the same (the
# 3-letter prefixes, ~900 words each, go as prefixes under all three), 1024 ran 15 of 42
# searches into the timeout (GIN tests every candidate row against the whole OR).
MAX_EXPANSION = 64
# A prefix left as such collects its rows into a bitmap of work_mem; past it the bitmap keeps
# whole pages instead of rows and every row of those pages is read and tested again (at a million
# tickets, 4MB: 22,000 pages read, 500-800 ms for `zahtev:* & vozack:*`; 64MB: 110-170 ms).
OLDER_WORK_MEM = "64MB"
_QUERY_CANCELED = "57014"  # PostgreSQL's SQLSTATE for a statement_timeout
# Session.info key: True after a search whose older matches were cut off by OLDER_TIMEOUT_MS, so
# the console can say that older tickets may be missing.
SEARCH_INCOMPLETE = "ticket_search_incomplete"
_RECENT = text(
    "SELECT key, ticket_id, ts_rank(doc, to_tsquery('simple', :q)) FROM ("  # noqa: S608 - constant
    f"SELECT key, ticket_id, doc FROM {PG_TABLE} WHERE key >= :floor ORDER BY key DESC OFFSET 0"
    ") AS recent WHERE doc @@ to_tsquery('simple', :q) LIMIT :w"  # OFFSET 0: tested row by row
)
_BY_RARE_WORD = text(
    "SELECT key, ticket_id, ts_rank(doc, to_tsquery('simple', :q)) "  # noqa: S608 - constant
    f"FROM {PG_TABLE} WHERE doc @@ CAST(:rare AS tsquery) "  # :rare from _index_query: no parsing
    "AND ts_match_vq(doc, to_tsquery('simple', :q)) AND key < :below "  # the rest: not from GIN
    "ORDER BY key + 0 DESC LIMIT :w"  # key + 0: no backward walk through every older row
)
_ALL_KEYS = 1 << 62
_OLDER_SETTINGS = text(  # SET LOCAL of both in one round trip
    "SELECT set_config('statement_timeout', :timeout, true), set_config('work_mem', :mem, true)"
)
_EXPANSIONS = text(
    "SELECT q.i, m.word FROM unnest(CAST(:p AS text[])) WITH ORDINALITY AS q(p, i) "  # noqa: S608
    "CROSS JOIN LATERAL (SELECT DISTINCT word FROM "
    f"{WORDS_TABLE} WHERE word >= q.p AND word < q.p || chr(1114111) LIMIT :n) AS m"
)  # a range, not ^@ or LIKE: the btree (COLLATE "C") is used for it with a parameter


def _lexeme(word: str) -> str:
    """A tsquery operand for one stored lexeme, quoted as tsquery input wants it."""
    return "'" + word.replace("\\", "\\\\").replace("'", "''") + "'"


def _index_query(conn: Connection, words: list[str]) -> str | None:
    """A tsquery (its text form) for the GIN index: every word, as the whole words it is the
    prefix of, or as a prefix (a number, or more than MAX_EXPANSION words). None when a word is
    the prefix of no stored word: no row can match."""
    expandable = [w for w in words if not w[:1].isdigit()]
    found: dict[int, list[str]] = {}
    if expandable:
        params = {"p": expandable, "n": MAX_EXPANSION + 1}
        for i, word in conn.execute(_EXPANSIONS, params).all():
            found.setdefault(int(i) - 1, []).append(str(word))
    parts: list[str] = []
    for i, prefix in enumerate(expandable):
        whole = found.get(i, [])
        if not whole:
            return None
        if len(whole) > MAX_EXPANSION:
            parts.append(f"{_lexeme(prefix)}:*")
        else:
            parts.append("(" + " | ".join(_lexeme(w) for w in whole) + ")")
    parts += [f"{_lexeme(w)}:*" for w in words if w[:1].isdigit()]
    return " & ".join(parts)


def _sample_counts(conn: Connection, words: list[str]) -> list[int]:
    """How many of the newest SAMPLE_ROWS rows hold each word, in one pass."""
    filters = ", ".join(
        f"count(*) FILTER (WHERE doc @@ to_tsquery('simple', :w{i}))" for i in range(len(words))
    )
    sql = f"SELECT {filters} FROM (SELECT doc FROM {PG_TABLE} ORDER BY key DESC LIMIT :n) AS newest"  # noqa: S608
    params: dict[str, Any] = {f"w{i}": f"{w}:*" for i, w in enumerate(words)}
    return [int(c) for c in conn.execute(text(sql), {**params, "n": SAMPLE_ROWS}).one()]


def _postgresql_ranked(conn: Connection, words: list[str]) -> tuple[list[int], bool]:
    """PostgreSQL: ticket ids of the newest RANK_WINDOW rows matching, best first (ts_rank needs
    no count of all matches), and whether the older rows were read in time."""
    tsq = " & ".join(f"{w}:*" for w in words)
    top = conn.execute(text(f"SELECT max(key) FROM {PG_TABLE}")).scalar() or 0  # noqa: S608
    floor = max(0, top // KEY_FACTOR - RECENT_TICKETS + 1) * KEY_FACTOR  # the newest RECENT_TICKETS
    rows: list[Any] = []
    if len(words) > 1 and floor > 0:
        counts = _sample_counts(conn, words)
        rarest = min(range(len(words)), key=lambda i: counts[i])
        if counts[rarest] <= RARE_IN_SAMPLE:
            rare = _index_query(conn, [words[rarest]])
            if rare is None:  # in no row at all
                return [], True
            params = {"q": tsq, "rare": rare, "below": _ALL_KEYS, "w": RANK_WINDOW}
            rows = list(conn.execute(_BY_RARE_WORD, params).all())
            return [ticket_id for _, ticket_id, _ in sorted(rows, key=lambda r: (-r[2], -r[0]))], True
    rows = list(conn.execute(_RECENT, {"q": tsq, "floor": floor, "w": RANK_WINDOW}).all())
    complete = True
    if floor > 0 and len({r[1] for r in rows}) < FILL_TICKETS:
        # Every recent row was read and few tickets match: older ones from the index. Keys below
        # the floor belong to older tickets only, so the two lists share no ticket.
        older = _older_rows(conn, words, tsq, floor, RANK_WINDOW - len(rows))
        complete = older is not None
        rows += older or []
    return [ticket_id for _, ticket_id, _ in sorted(rows, key=lambda r: (-r[2], -r[0]))], complete


def _older_rows(conn: Connection, words: list[str], tsq: str, floor: int, window: int) -> list[Any] | None:
    """The newest `window` rows below `floor` matching every word, by the GIN index, within
    OLDER_TIMEOUT_MS. On timeout: None (the caller keeps the recent ones). A savepoint holds the
    local settings and is always rolled back, so the session's own timeout is back afterwards and a
    cancelled statement leaves the transaction usable."""
    if window <= 0:
        return []
    rare = _index_query(conn, words)
    if rare is None:  # a word in no row at all
        return []
    savepoint = conn.begin_nested()
    try:
        conn.execute(_OLDER_SETTINGS, {"timeout": str(int(OLDER_TIMEOUT_MS)), "mem": OLDER_WORK_MEM})
        params = {"q": tsq, "rare": rare, "below": floor, "w": window}
        return list(conn.execute(_BY_RARE_WORD, params).all())
    except OperationalError as exc:
        if getattr(exc.orig, "sqlstate", None) != _QUERY_CANCELED:
            raise
        log.warning("ticket search: older matches not read within %d ms", OLDER_TIMEOUT_MS)
        return None
    finally:
        savepoint.rollback()


def search_ticket_ids(session: Session, q: str, limit: int = 50) -> list[int]:
    """Ticket ids matching q, best match first (bm25's term-frequency part / ts_rank) among the
    newest RANK_WINDOW matching rows. session.info[SEARCH_INCOMPLETE] says whether older
    matches may be missing (PostgreSQL's older rows cut off by OLDER_TIMEOUT_MS)."""
    q = q.strip()[:500]
    session.info[SEARCH_INCOMPLETE] = False
    conn = session.connection()
    if not q or not index_available(conn):
        return [] if not q else list(session.scalars(_like(select(Ticket.id), q).limit(limit)))
    found: list[int] = []
    if _REFERENCE.match(q):
        # A reference names one ticket: its words ("hd", "2026") are in every subject row, so a
        # full-text search for them would walk the whole index for nothing.
        return list(session.scalars(select(Ticket.id).where(Ticket.reference == q.upper())))
    if conn.dialect.name == "postgresql":
        words = _query_words(q)
        if words:
            ids, complete = _postgresql_ranked(conn, words)
            found += ids
            session.info[SEARCH_INCOMPLETE] = not complete
    else:
        words = _query_words(q)
        if words:
            found += [key // KEY_FACTOR for key in _sqlite_ranked(conn, words)]
    return list(dict.fromkeys(found))[:limit]

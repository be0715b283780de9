"""Ticket search cases for bench_metrics.py: the console's search box over a large store.

Five kinds of query an agent types (a word or two from a subject, a reference, a citizen's email,
a phone number as people write it, a citizen's name), each drawn from the store itself with a
fixed seed, and the console's whole first page (``list_page``: ranked ids, access and status
filters, count, first 50 rows) timed for each. Raw baselines in the same run: the bare full-text
match of the same word (first 50 rows, no ranking; FTS5 ``MATCH`` or a tsvector ``@@``) and an
index lookup of one reference.
"""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, text

from helpdesk.access import Viewer
from helpdesk.db import Database
from helpdesk.models import Contact, ContactIdentity, Ticket
from helpdesk.services import Services
from helpdesk.ticket_search import match_expression, tsquery_expression
from triage.text import fold, to_cyrillic


@dataclass
class Case:
    name: str
    queries: list[str]


def build_cases(db: Database, per_kind: int, seed: int = 14) -> list[Case]:
    rng = random.Random(seed)
    with db.session() as s:
        top = int(s.scalar(select(func.max(Ticket.id))) or 0)
        ids = [rng.randint(1, top) for _ in range(per_kind * 3)]
        tickets = s.execute(
            select(Ticket.reference, Ticket.subject, Ticket.contact_id).where(Ticket.id.in_(ids))
        ).all()
        contacts = [t.contact_id for t in tickets]
        identities = s.execute(
            select(ContactIdentity.kind, ContactIdentity.value).where(
                ContactIdentity.contact_id.in_(contacts)
            )
        ).all()
        names = [n for n in s.scalars(select(Contact.name).where(Contact.id.in_(contacts))) if n]
    words = [w for t in tickets for w in t.subject.split() if len(w) > 3 and w.isalpha()]
    word_queries = []
    for i in range(per_kind):
        q = " ".join(rng.choice(words) for _ in range(1 if i % 3 else 2))
        # a quarter in Cyrillic, a quarter without diacritics, as citizens and agents type
        word_queries.append(to_cyrillic(q) if i % 4 == 1 else fold(q) if i % 4 == 2 else q)
    emails = [v for k, v in identities if k == "email"]
    phones = [v for k, v in identities if k == "phone"]

    def local(number: str) -> str:  # "+381601234567" as people say it: "060 1234567"
        return "0" + number[4:6] + " " + number[6:] if number.startswith("+381") else number

    name_queries = [fold(n) if i % 2 else n for i, n in enumerate(names)]
    return [
        Case("a word or two", word_queries),
        Case("a reference", [t.reference for t in tickets][:per_kind]),
        Case("an email", emails[:per_kind]),
        Case("a phone number", [local(p) for p in phones][:per_kind]),
        Case("a name", name_queries[:per_kind]),
    ]


def percentiles(times: list[float]) -> tuple[float, float]:
    if len(times) < 2:
        return (times[0], times[0]) if times else (0.0, 0.0)
    q = statistics.quantiles(times, n=20, method="inclusive")
    return statistics.median(times), q[18]


def timed(fn: Callable[[str], object], queries: list[str]) -> list[float]:
    out = []
    for q in queries:
        started = time.perf_counter()
        fn(q)
        out.append((time.perf_counter() - started) * 1000)
    return out


def console_search(svc: Services, status: str) -> Callable[[str], object]:
    """The console list's first page for a search, as a supervisor (sees every queue)."""
    from helpdesk.console.filters import Filters
    from helpdesk.console.listing import list_page

    viewer = Viewer(1, "bench", "supervisor", frozenset())

    def run(q: str) -> object:
        return list_page(svc, viewer, Filters(q=q, status=status))

    return run


def raw_match(db: Database) -> Callable[[str], object]:
    """Baseline: the engine's bare match of the same words, first 50 rows, no rank, no page."""

    def run(q: str) -> Any:
        with db.engine.connect() as conn:
            if db.dialect == "postgresql":
                tsq = tsquery_expression(q)
                return conn.execute(
                    text(
                        "SELECT ticket_id FROM ticket_search_docs "
                        "WHERE doc @@ to_tsquery('simple', :q) LIMIT 50"
                    ),
                    {"q": tsq},
                ).all()
            return conn.execute(
                text("SELECT rowid FROM ticket_fts WHERE ticket_fts MATCH :m LIMIT 50"),
                {"m": match_expression(q)},
            ).all()

    return run


def raw_reference(db: Database) -> Callable[[str], object]:
    def run(q: str) -> Any:
        with db.engine.connect() as conn:
            return conn.execute(text("SELECT id FROM tickets WHERE reference = :r"), {"r": q}).all()

    return run


def search_rows(svc: Services, cases: list[Case]) -> list[tuple[str, list[float]]]:
    """(label, times) for each kind of query, the console page with active and any status."""
    rows: list[tuple[str, list[float]]] = []
    active, anything = console_search(svc, "active"), console_search(svc, "")
    for q in cases[0].queries[:3]:  # warm the caches: we measure queries, not the first disk read
        anything(q)
    rows.append(("raw: bare full-text match, 50 rows (words)", timed(raw_match(svc.db), cases[0].queries)))
    rows.append(("raw: reference = ? (index lookup)", timed(raw_reference(svc.db), cases[1].queries)))
    for case in cases:
        rows.append((f"console search, {case.name}, any status", timed(anything, case.queries)))
        rows.append((f"console search, {case.name}, active", timed(active, case.queries)))
    return rows

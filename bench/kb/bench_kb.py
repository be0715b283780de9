"""Knowledge-base and ticket search benchmark, each beside a raw baseline in the same run.

KB: index build time and search p50/p95 at 1,000 and 10,000 articles with the product's
analyzers, field boosts, typo tolerance and snippets, against plain Whoosh (StandardAnalyzer,
OR query over title and body, BM25F, the same top 5 with Whoosh's own snippets of the body:
ContextFragmenter(200, 60), two fragments) on the same articles and queries. "Cold" repeats
our search with the scored-postings cache emptied before every query (what the first
searches after an article edit pay). Both sides get one unmeasured pass over the queries first.

Tickets: p50/p95 at 1,000,000 tickets on SQLite for the API path (count + first page of
``apply_text_search``) and the ranked path (``search_ticket_ids``), against a plain LIKE scan
over subjects and message texts.

    .venv/bin/python -m bench.kb.bench_kb                      # everything (1M tickets: long)
    .venv/bin/python -m bench.kb.bench_kb --tickets 100000     # a smaller ticket store
    .venv/bin/python -m bench.kb.bench_kb --skip-tickets
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, text
from whoosh import fields, highlight, qparser, scoring
from whoosh.analysis import StandardAnalyzer
from whoosh.filedb.filestore import FileStorage

from knowledge_base import KbDocument, KbIndex
from knowledge_base.io import read_articles
from triage.text import fold, to_cyrillic

ROOT = Path(__file__).resolve().parents[2]
STARTER = ROOT / "knowledge_base" / "data" / "starter_articles.jsonl"


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def timed(fn: Callable[..., object], *args: Any, **kwargs: Any) -> float:
    start = time.perf_counter()
    fn(*args, **kwargs)
    return (time.perf_counter() - start) * 1000


def row(label: str, ours: list[float], base: list[float]) -> str:
    o50, o95, b50, b95 = pct(ours, 50), pct(ours, 95), pct(base, 50), pct(base, 95)
    return (
        f"| {label} | {o50:.2f} | {o95:.2f} | {b50:.2f} | {b95:.2f} | "
        f"{o50 / b50 if b50 else float('nan'):.2f}x |"
    )


# -- KB -----------------------------------------------------------------------------------


def vocabulary() -> list[str]:
    words: list[str] = []
    for record in read_articles(STARTER):
        for w in f"{record.title} {record.body}".split():
            w = w.strip(".,:;!?()*>\"'")
            if len(w) > 3 and w.isalpha():
                words.append(w)
    return words


def make_articles(n: int, rng: random.Random, words: list[str]) -> list[KbDocument]:
    docs = []
    for i in range(n):
        title = " ".join(rng.choice(words) for _ in range(rng.randint(3, 8)))
        body = " ".join(rng.choice(words) for _ in range(rng.randint(80, 400)))
        lang = "en" if rng.random() < 0.2 else "sr"
        docs.append(
            KbDocument(
                str(i), title.capitalize(), body, language=lang, tags=[rng.choice(words) for _ in range(3)]
            )
        )
    return docs


def make_queries(n: int, rng: random.Random, words: list[str]) -> list[str]:
    queries = []
    for i in range(n):
        q = " ".join(rng.choice(words) for _ in range(rng.randint(1, 3) if i % 2 else rng.randint(4, 9)))
        style = i % 4
        if style == 1:
            q = to_cyrillic(q)
        elif style == 2:
            q = fold(q)
        queries.append(q)
    return queries


def plain_whoosh(docs: list[KbDocument], folder: Path) -> tuple[Any, float]:
    schema = fields.Schema(
        id=fields.ID(stored=True),
        title=fields.TEXT(analyzer=StandardAnalyzer(), stored=True),
        body=fields.TEXT(analyzer=StandardAnalyzer(), stored=True),  # stored: snippets
    )
    start = time.perf_counter()
    ix = FileStorage(str(folder)).create().create_index(schema)
    w = ix.writer()
    for d in docs:
        w.add_document(id=d.id, title=d.title, body=d.body)
    w.commit()
    return ix, (time.perf_counter() - start)


def bench_kb(sizes: list[int], n_queries: int) -> list[str]:
    rng = random.Random(7)
    words = vocabulary()
    lines = [
        "| articles | build ours (s) | build plain Whoosh (s) | ratio |",
        "|---|---|---|---|",
    ]
    search_lines = [
        "| search | ours p50 ms | ours p95 ms | plain p50 ms | plain p95 ms | p50 ratio |",
        "|---|---|---|---|---|---|",
    ]
    for n in sizes:
        docs = make_articles(n, rng, words)
        queries = make_queries(n_queries, rng, words)
        with tempfile.TemporaryDirectory() as tmp:
            start = time.perf_counter()
            ours = KbIndex(Path(tmp) / "ours")
            ours.rebuild(docs)
            build_ours = time.perf_counter() - start
            plain, build_plain = plain_whoosh(docs, Path(tmp) / "plain")
            lines.append(
                f"| {n:,} | {build_ours:.2f} | {build_plain:.2f} | {build_ours / build_plain:.2f}x |"
            )
            parser = qparser.MultifieldParser(["title", "body"], plain.schema, group=qparser.OrGroup)
            searcher = plain.searcher(weighting=scoring.BM25F())

            def plain_search(text: str, snippets: bool = True) -> list[tuple[str, str]]:
                results = searcher.search(parser.parse(text), limit=5)
                results.fragmenter = highlight.ContextFragmenter(maxchars=200, surround=60)
                results.formatter = highlight.HtmlFormatter(tagname="mark", between=" … ")
                return [(hit["id"], hit.highlights("body", top=2) if snippets else "") for hit in results]

            # One unmeasured pass each: both measured passes then run warm (the cold row below
            # shows what ours pays when its cache is empty).
            for q in queries:
                ours.search(q, limit=5)
                plain_search(q)
            with_snip, without_snip, cold, base, base_bare = [], [], [], [], []
            for q in queries:
                with_snip.append(timed(ours.search, q, limit=5))
                base.append(timed(plain_search, q))
            from knowledge_base.search import run_search

            s = ours.searcher()
            for q in queries:
                without_snip.append(timed(run_search, s, q, limit=5, snippets=False, tables=ours._tables))
                base_bare.append(timed(plain_search, q, snippets=False))
            for q in queries:
                ours._tables.clear()
                cold.append(timed(ours.search, q, limit=5))
            search_lines.append(row(f"{n:,} articles, top 5 + snippets", with_snip, base))
            search_lines.append(row(f"{n:,} articles, top 5, no snippets", without_snip, base_bare))
            search_lines.append(row(f"{n:,} articles, top 5 + snippets, cold cache", cold, base))
            searcher.close()
            ours.close()
    return lines + [""] + search_lines


# -- tickets ------------------------------------------------------------------------------


def bench_tickets(n_tickets: int, n_queries: int, n_baseline: int, reuse: Path | None = None) -> list[str]:
    from helpdesk.api.views import SEARCH_COUNT_CAP
    from helpdesk.db import Database
    from helpdesk.demo import ensure_base, generate
    from helpdesk.migrate import upgrade
    from helpdesk.models import Message, Ticket
    from helpdesk.services import Services
    from helpdesk.settings import Settings
    from helpdesk.ticket_search import apply_text_search, search_ticket_ids

    tmp = reuse or Path(tempfile.mkdtemp(prefix="bench-kb-"))
    settings = Settings(data_dir=tmp, secret_key="x" * 40).resolved()
    db = Database(settings.database_url)
    upgrade(db)
    svc = Services(settings=settings, db=db)
    start = time.perf_counter()
    last = [start]

    def progress(n: int) -> None:
        if time.perf_counter() - last[0] > 30:
            last[0] = time.perf_counter()
            print(f"  ... {time.perf_counter() - start:.0f}s", flush=True)

    if reuse is None:
        ensure_base(svc)
        generate(svc, n_tickets, weeks=52, seed=2026, progress=progress, batch=10_000)
    load = time.perf_counter() - start
    rng = random.Random(11)
    with db.session() as s:
        subjects = list(s.scalars(select(Ticket.subject).limit(2000)))
        count = s.scalar(select(func.count(Ticket.id)))
        n_messages = s.scalar(select(func.count(Message.id)))
    words = [w for subj in subjects for w in subj.split() if len(w) > 3 and w.isalpha()]
    queries = []
    for i in range(n_queries):
        q = " ".join(rng.choice(words) for _ in range(1 if i % 3 else 2))
        queries.append(to_cyrillic(q) if i % 4 == 1 else fold(q) if i % 4 == 2 else q)

    def api_path(q: str) -> None:
        with db.session() as s:
            stmt = apply_text_search(select(Ticket), s, q)
            # as GET /api/v1/tickets?q= counts: at most SEARCH_COUNT_CAP + 1 matches
            capped = stmt.with_only_columns(Ticket.id).limit(SEARCH_COUNT_CAP + 1)
            s.scalar(select(func.count()).select_from(capped.subquery()))
            list(s.scalars(stmt.order_by(Ticket.id.desc()).limit(25)))

    def ranked(q: str) -> None:
        with db.session() as s:
            search_ticket_ids(s, q, limit=50)

    like_where = (
        "t.subject LIKE :p OR EXISTS (SELECT 1 FROM messages m WHERE m.ticket_id = t.id AND m.text LIKE :p)"
    )

    def like_scan(q: str) -> None:
        # The same request as the API path, done with LIKE: count + first page.
        with db.session() as s:
            s.execute(text(f"SELECT count(*) FROM tickets t WHERE {like_where}"), {"p": f"%{q}%"}).all()
            like_page(q, s)

    def like_page(q: str, s: object | None = None) -> None:
        sql = text(f"SELECT t.id FROM tickets t WHERE {like_where} ORDER BY t.id DESC LIMIT 25")
        if s is None:
            with db.session() as s2:
                s2.execute(sql, {"p": f"%{q}%"}).all()
        else:
            s.execute(sql, {"p": f"%{q}%"}).all()  # type: ignore[attr-defined]

    api_path(queries[0])
    api = [timed(api_path, q) for q in queries]
    rank = [timed(ranked, q) for q in queries]
    base = [timed(like_scan, q) for q in queries[:n_baseline]]
    page_only = [timed(like_page, q) for q in queries[:n_baseline]]
    size_mb = sum(f.stat().st_size for f in tmp.glob("helpdesk.db*")) / 1e6
    db.dispose()
    return [
        f"{count:,} tickets, {n_messages:,} messages; demo-data load incl. FTS indexing "
        f"{load:.0f} s; database {size_mb:,.0f} MB ({tmp})",
        "",
        "| ticket search | ours p50 ms | ours p95 ms | LIKE p50 ms | LIKE p95 ms | p50 ratio |",
        "|---|---|---|---|---|---|",
        row("API path: count + first 25 (FTS5) vs LIKE count + first 25", api, base),
        row("ranked ids, top 50 (FTS5 bm25) vs LIKE count + first 25", rank, base),
        row("API path vs LIKE first 25 only (no count)", api, page_only),
        f"(LIKE: {len(base)} of the {len(queries)} queries; it is script-sensitive and has no "
        "stemming, so it also finds less)",
    ]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--articles", default="1000,10000")
    ap.add_argument("--queries", type=int, default=300)
    ap.add_argument("--tickets", type=int, default=1_000_000)
    ap.add_argument("--ticket-queries", type=int, default=100)
    ap.add_argument("--like-queries", type=int, default=10)
    ap.add_argument("--skip-tickets", action="store_true")
    ap.add_argument("--skip-kb", action="store_true")
    ap.add_argument("--ticket-db", type=Path, default=None, help="reuse a data dir a previous run built")
    args = ap.parse_args()
    if not args.skip_kb:
        for line in bench_kb([int(x) for x in args.articles.split(",")], args.queries):
            print(line, flush=True)
        print()
    if not args.skip_tickets:
        for line in bench_tickets(args.tickets, args.ticket_queries, args.like_queries, args.ticket_db):
            print(line, flush=True)


if __name__ == "__main__":
    main()

"""`helpdesk kb ...` commands driven through Flask's CLI runner against a real app."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import func, select

from helpdesk.cli.kb import kb
from helpdesk.models import Article
from helpdesk.services import Services

STARTER = Path(__file__).resolve().parents[2] / "knowledge_base" / "data" / "starter_articles.jsonl"


def count(svc: Services) -> int:
    with svc.db.session() as s:
        return int(s.scalar(select(func.count(Article.id))) or 0)


def test_import_export_round_trip(kb_app, services: Services, tmp_path: Path) -> None:
    runner = kb_app.test_cli_runner()
    r = runner.invoke(kb, ["import", str(STARTER)])
    assert r.exit_code == 0 and "imported 18 articles" in r.output
    out = tmp_path / "md"
    r = runner.invoke(kb, ["export", "--to", str(out)])
    assert r.exit_code == 0, r.output
    files = sorted(out.glob("*.md"))
    assert len(files) == 18
    assert files[0].read_text(encoding="utf-8").startswith("---\ntitle: ")
    r = runner.invoke(kb, ["import", str(out)])
    assert "imported 18 articles" in r.output and count(services) == 36
    r = runner.invoke(kb, ["export"])
    rows = [json.loads(line) for line in r.output.splitlines() if line.startswith("{")]
    assert len(rows) == 36 and {"title", "body", "language", "tags", "category"} <= set(rows[0])


def test_a_bad_row_imports_nothing(kb_app, services: Services, tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text(
        json.dumps({"title": "Dobar", "body": "Tekst", "language": "sr"}) + "\n{oops\n",
        encoding="utf-8",
    )
    r = kb_app.test_cli_runner().invoke(kb, ["import", str(bad)])
    assert r.exit_code == 1 and "bad.jsonl:2: not valid JSON" in r.output
    assert count(services) == 0


def test_reindex_rebuilds_from_the_database(kb_app, services: Services) -> None:
    runner = kb_app.test_cli_runner()
    runner.invoke(kb, ["import", str(STARTER)])
    svc_kb = services.kb
    svc_kb.index.rebuild([])  # a lost index
    assert svc_kb.index.doc_count() == 0
    r = runner.invoke(kb, ["reindex"])
    assert r.exit_code == 0 and "indexed 18 articles" in r.output
    assert services.kb.search("zakazivanje termina pasos")[0].title.startswith("Zakazivanje")


def test_evaluate_prints_the_metrics(kb_app, tmp_path: Path) -> None:
    (tmp_path / "corpus.jsonl").write_text(
        "\n".join(
            json.dumps(d, ensure_ascii=False)
            for d in [
                {"_id": "d1", "title": "Лична карта", "text": "Захтев за личну карту."},
                {"_id": "d2", "title": "Porez", "text": "Prijava poreza na imovinu."},
            ]
        ),
        encoding="utf-8",
    )
    (tmp_path / "queries.jsonl").write_text(
        json.dumps({"_id": "q1", "text": "licna karta zahtev"})
        + "\n"
        + json.dumps({"_id": "q2", "text": "порез на имовину"})
        + "\n",
        encoding="utf-8",
    )
    (tmp_path / "qrels.tsv").write_text(
        "query-id\tcorpus-id\tscore\nq1\td1\t1\nq2\td2\t1\n", encoding="utf-8"
    )
    r = kb_app.test_cli_runner().invoke(
        kb,
        [
            "evaluate",
            "--corpus",
            str(tmp_path / "corpus.jsonl"),
            "--queries",
            str(tmp_path / "queries.jsonl"),
            "--qrels",
            str(tmp_path / "qrels.tsv"),
        ],
    )
    assert r.exit_code == 0, r.output
    result = json.loads(r.output)
    assert result["ndcg@10"] == 1.0 and result["p@1"] == 1.0 and result["recall@10"] == 1.0
    assert set(result) >= {"ndcg@10", "mrr@10", "p@1", "recall@10"}


def test_demo_data_brings_the_starter_articles_once(kb_app, services: Services) -> None:
    from helpdesk.demo import ensure_base, generate

    ensure_base(services)
    ensure_base(services)
    assert count(services) == 18
    assert services.kb.search("kako da se prijavim na portal")[0].title.startswith("Kako da se")
    # Bulk-generated demo tickets land in the full-text ticket index in the same transaction.
    generate(services, tickets=50, weeks=1, seed=1)
    from sqlalchemy import select as sel

    from helpdesk.models import Ticket
    from helpdesk.ticket_search import apply_text_search

    with services.db.session() as s:
        subject = s.scalar(sel(Ticket.subject).limit(1))
        word = max(subject.split(), key=len)
        found = s.scalars(apply_text_search(sel(Ticket.subject), s, word)).all()
    assert subject in found

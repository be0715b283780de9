"""helpdesk kb reindex | import FILE | export | evaluate | reindex-tickets | reindex-names."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from flask.cli import AppGroup, with_appcontext

from helpdesk.cli.common import services
from helpdesk.kb.common import kb_service
from helpdesk.kb.service import WhooshKnowledgeBase
from helpdesk.kb.store import InvalidArticle, export_records, import_records
from knowledge_base.evaluation import evaluate, load_corpus, load_qrels, load_queries
from knowledge_base.io import ImportError_, read_articles, slugify, to_jsonl_line, to_markdown

kb = AppGroup("kb", help="The knowledge base: index, import, export, evaluate.")


def register(cli: click.Group) -> None:
    cli.add_command(kb)


def _service() -> WhooshKnowledgeBase:
    found = kb_service(services())
    if found is None:
        raise click.ClickException("the knowledge base is not enabled in this app")
    return found


@kb.command("reindex")
@with_appcontext
def reindex() -> None:
    """Rebuild the search index from the database."""
    service = _service()
    total = service.count_articles()
    with click.progressbar(length=total, label="articles", show_pos=True) as bar:
        done = service.reindex(progress=lambda n: bar.update(1))
    click.echo(f"indexed {done} articles")


@kb.command("import")
@with_appcontext
@click.argument("source", type=click.Path(exists=True, path_type=Path))
def import_(source: Path) -> None:
    """Add articles from a JSON lines file or a folder of Markdown files with front matter."""
    try:
        records = read_articles(source)
        count = import_records(services(), records)
    except (ImportError_, InvalidArticle, UnicodeDecodeError) as exc:
        raise click.ClickException(f"nothing imported: {exc}") from exc
    click.echo(f"imported {count} articles")


@kb.command("export")
@with_appcontext
@click.option(
    "--to",
    "target",
    type=click.Path(path_type=Path),
    default=None,
    help="A .jsonl file, or a folder for Markdown files. Default: JSON lines on stdout.",
)
@click.option("--published-only", is_flag=True, help="Leave drafts out.")
def export(target: Path | None, published_only: bool) -> None:
    """Write every article in the format `kb import` reads."""
    records = export_records(services(), include_drafts=not published_only)
    if target is None:
        for record in records:
            sys.stdout.write(to_jsonl_line(record) + "\n")
        return
    if target.suffix == ".jsonl":
        with target.open("w", encoding="utf-8") as fh:
            count = sum(1 for r in records if fh.write(to_jsonl_line(r) + "\n"))
    else:
        target.mkdir(parents=True, exist_ok=True)
        count = 0
        for count, record in enumerate(records, 1):  # noqa: B007 - count is the total
            name = f"{count:04d}-{slugify(record.title)}.md"
            (target / name).write_text(to_markdown(record), encoding="utf-8")
    click.echo(f"exported {count} articles to {target}", err=True)


@kb.command("evaluate")
@click.option("--corpus", type=click.Path(exists=True, path_type=Path), required=True)
@click.option("--queries", type=click.Path(exists=True, path_type=Path), required=True)
@click.option("--qrels", type=click.Path(exists=True, path_type=Path), required=True)
@click.option(
    "--language",
    type=click.Choice(["sr", "en"]),
    default=None,
    help="Corpus language (default: guessed per document).",
)
def evaluate_(corpus: Path, queries: Path, qrels: Path, language: str | None) -> None:
    """Index a BEIR corpus afresh (same analyzers) and print ndcg@10, mrr@10, p@1, recall@10."""
    try:
        result = evaluate(load_corpus(corpus, language), load_queries(queries), load_qrels(qrels))
    except (ValueError, OSError) as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(json.dumps(result.as_dict(), indent=2))


@kb.command("reindex-tickets")
@with_appcontext
@click.option("--full", is_flag=True, help="Drop and rebuild instead of adding what is missing.")
def reindex_tickets(full: bool) -> None:
    """Bring the database full-text ticket index up to date (after bulk loads)."""
    from helpdesk.ticket_index import rebuild_index, sync_index

    svc = services()
    done = 0

    def progress(n: int) -> None:
        nonlocal done
        done += n
        click.echo(f"\rindexed {done} rows", nl=False)

    with svc.db.session() as s:
        count = (rebuild_index if full else sync_index)(s, progress=progress)
    # end the progress line, if there was one (nothing to index printed a blank line first)
    click.echo(f"{chr(10) if done else ''}indexed {count} rows")


@kb.command("reindex-names")
@with_appcontext
def reindex_names() -> None:
    """Rebuild the contact-name index from the contacts (after a restore or a manual SQL fix).

    One transaction: inbound writes wait for it (about 10 s at a million contacts)."""
    from helpdesk.name_index import rebuild_name_index

    with services().db.transaction() as s:
        count = rebuild_name_index(s.connection())
    click.echo(f"indexed {count} contact names")

"""`helpdesk queue create|list|rename`, `helpdesk category list|rename`, `helpdesk route`.

Each calls the same core operation (helpdesk.administration) as the admin pages, with the same
validation and an audit line whose actor is "cli".
"""

from __future__ import annotations

import click
from flask.cli import AppGroup, with_appcontext

from helpdesk.administration import (
    AdminError,
    change_route,
    create_queue,
    current_routes,
    list_categories,
    list_queues,
    rename_queue,
    set_category_names,
)
from helpdesk.administration.names import name_from
from helpdesk.cli.common import services
from helpdesk.routing import TRIAGE_QUEUE, existing_queues
from helpdesk.tickets import Actor

CLI = Actor.system("cli")


def register(cli: click.Group) -> None:
    cli.add_command(queue)
    cli.add_command(category)
    cli.add_command(route)


def _names(latin: str | None, cyrillic: str | None, english: str | None) -> dict[str, str | None]:
    return {"sr-Latn": latin, "sr-Cyrl": cyrillic, "en": english}


def _name_options(f):  # type: ignore[no-untyped-def]
    f = click.option("--en", "english", default=None, help="Name in English.")(f)
    f = click.option(
        "--sr-cyrl",
        "cyrillic",
        default=None,
        help="Name in Serbian Cyrillic (default: the Latin one transliterated).",
    )(f)
    return click.option("--sr-latn", "latin", required=True, help="Name in Serbian Latin.")(f)


def _fail(exc: AdminError) -> click.UsageError:
    return click.UsageError(str(exc))


@click.group(cls=AppGroup)
def queue() -> None:
    """Queues: where tickets wait for the agents who work them."""


@queue.command("create")
@click.argument("name")
@_name_options
def queue_create(name: str, latin: str, cyrillic: str | None, english: str | None) -> None:
    """Create queue NAME (an internal key like `elections`) with its display names."""
    try:
        create_queue(services(), CLI, name, _names(latin, cyrillic, english))
    except AdminError as exc:
        raise _fail(exc) from exc
    click.echo(f"created queue {name}")


@queue.command("rename")
@click.argument("name")
@_name_options
def queue_rename(name: str, latin: str, cyrillic: str | None, english: str | None) -> None:
    """Change the display names of queue NAME (its key stays)."""
    try:
        rename_queue(services(), CLI, name, _names(latin, cyrillic, english))
    except AdminError as exc:
        raise _fail(exc) from exc
    click.echo(f"renamed queue {name}")


@queue.command("list")
def queue_list() -> None:
    """Queues with their names, members and open tickets."""
    rows = list_queues(services())
    if not rows:
        click.echo("no queues yet (run: helpdesk db upgrade, or helpdesk queue create)")
        return
    for info in rows:
        shown = {
            lang: name_from({info.name: info.names}, info.name, lang) for lang in ("sr-Latn", "sr-Cyrl", "en")
        }
        click.echo(
            f"{info.name:16} {info.members:3} agents {info.open_tickets:6} open  "
            f"{shown['sr-Latn']} | {shown['sr-Cyrl']} | {shown['en']}"
        )


@click.group(cls=AppGroup)
def category() -> None:
    """Ticket categories and their display names."""


@category.command("list")
def category_list() -> None:
    for key, names in list_categories(services()):
        shown = [name_from({key: names}, key, lang) for lang in ("sr-Latn", "sr-Cyrl", "en")]
        click.echo(f"{key:24} {' | '.join(shown)}")


@category.command("rename")
@click.argument("key")
@_name_options
def category_rename(key: str, latin: str, cyrillic: str | None, english: str | None) -> None:
    """Set the display names of category KEY (a new key is added to the managed list)."""
    try:
        created = set_category_names(services(), CLI, key, _names(latin, cyrillic, english))
    except AdminError as exc:
        raise _fail(exc) from exc
    click.echo(f"{'added' if created else 'renamed'} category {key}")


@click.command()
@with_appcontext
@click.argument("category", required=False)
@click.argument("queue", required=False)
@click.option("--remove", is_flag=True, help="Drop the stored rule for CATEGORY.")
def route(category: str | None, queue: str | None, remove: bool) -> None:
    """Show the category -> queue map, or store a rule: `route taxes payments`."""
    show_routes(category, queue, remove)


def show_routes(category: str | None, queue: str | None, remove: bool) -> None:
    svc = services()
    if category is not None:
        if (queue is None) != remove:
            raise click.UsageError("give CATEGORY QUEUE, or CATEGORY --remove")
        try:
            change_route(svc, CLI, category, None if remove else queue)
        except AdminError as exc:
            raise _fail(exc) from exc
    routes = current_routes(svc)
    with svc.db.session() as s:
        queues = existing_queues(s)
    for name in sorted(routes):
        target, stored = routes[name]
        # a fresh install has only triage: say where such tickets really go until the queue exists
        missing = "" if target in queues else f"  (no such queue yet: goes to {TRIAGE_QUEUE})"
        click.echo(f"{name:24} -> {target}{'  (stored)' if stored else ''}{missing}")
    click.echo(f"anything unsure, out of scope or unknown -> {TRIAGE_QUEUE}")

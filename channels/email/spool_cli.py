"""`helpdesk mail spool` and `helpdesk mail retry`: what an administrator sees of the mail spool.

Mail the worker could not process is kept (status ``failed``, raw mail included) and listed here,
without addresses (they stay in the store); after a fix, ``retry`` puts it back in the queue.
"""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import func, select

from channels.email.spool import retry_failed
from helpdesk.models import MailSpoolItem
from helpdesk.services import Services


@click.group("mail")
def mail_group() -> None:
    """The inbound mail spool: mail accepted over SMTP and not yet a ticket."""


@mail_group.command("spool")
@with_appcontext
def spool_status() -> None:
    """How much mail waits, and every mail kept as failed (id, received, size, attempts, error)."""
    svc: Services = current_app.extensions["helpdesk"]
    with svc.db.session() as s:
        counts = dict(
            s.execute(select(MailSpoolItem.status, func.count()).group_by(MailSpoolItem.status)).all()
        )
        failed = s.execute(
            select(
                MailSpoolItem.id,
                MailSpoolItem.received_at,
                func.length(MailSpoolItem.raw),
                MailSpoolItem.attempts,
                MailSpoolItem.last_error,
            )
            .where(MailSpoolItem.status == "failed")
            .order_by(MailSpoolItem.id)
        ).all()
    click.echo(" ".join(f"{state}={counts.get(state, 0)}" for state in ("pending", "working", "failed")))
    for item_id, received, size, attempts, error in failed:
        click.echo(f"{item_id}\t{received:%Y-%m-%d %H:%M:%S}\t{size} bytes\t{attempts} attempts\t{error}")


@mail_group.command("retry")
@click.argument("item_id", required=False, type=int)
@with_appcontext
def retry(item_id: int | None) -> None:
    """Put failed mail (all, or the one ITEM_ID) back in the queue, after the cause is fixed."""
    svc: Services = current_app.extensions["helpdesk"]
    count = retry_failed(svc, item_id)
    click.echo(f"{count} mail(s) queued again")
    if item_id is not None and count == 0:
        raise click.ClickException(f"no failed mail with id {item_id}")

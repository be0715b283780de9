"""The outbox dispatcher: sends queued messages through each channel's sender, with retries.

Exactly once as far as the protocol allows: one item is claimed at a time, just before it is sent,
and the stop flag is read between items, so a graceful stop (SIGTERM) finishes the item in hand,
marks it sent if the relay took it, and claims nothing more. What remains is the window between
the relay's 250 and our commit of "sent": a crash (SIGKILL) there resends the item after restart,
under the same Message-ID (fixed on the item before its first attempt), so the receiving side can
drop the copy.
"""

from __future__ import annotations

import logging
import signal
import threading
from dataclasses import replace

import click
from flask import Flask
from flask.cli import with_appcontext

from channels.polling import PollingWorker
from helpdesk.claims import worker_name
from helpdesk.models import OutboxItem
from helpdesk.outbound import PermanentFailure, TemporaryFailure
from helpdesk.outbox import (
    build_envelope,
    claim_due,
    fix_external_id,
    mark_failed,
    mark_sent,
    release_abandoned,
)
from helpdesk.services import Services

log = logging.getLogger(__name__)


class OutboxDispatcher(PollingWorker):
    name = "outbox"

    def __init__(self, svc: Services) -> None:
        # The web process and the core wake it through ``svc.wake_outbox()`` after their commit.
        super().__init__(svc.settings.outbox_poll_seconds, svc.outbox_wakeup)
        self.svc = svc
        self.worker = worker_name()

    def run_once(self) -> int:
        """Send every item due now, one claim at a time; return how many were handled."""
        release_abandoned(self.svc)
        handled = 0
        while not self._stop.is_set() and (item_ids := claim_due(self.svc, self.worker)):
            for item_id in item_ids:
                self._send(item_id)
                handled += 1
        return handled

    def _send(self, item_id: int) -> None:
        with self.svc.db.session() as s:
            item = s.get_one(OutboxItem, item_id)
            channel = item.channel
            sender = self.svc.senders.get(channel)
            envelope = build_envelope(self.svc, s, item) if sender else None
        if sender is None or envelope is None:
            mark_failed(self.svc, item_id, f"no sender for channel {channel}", retry=False)
            return
        propose = getattr(sender, "new_external_id", None)
        if envelope.external_id is None and propose is not None:
            # Committed before the first attempt: every resend goes under the same id.
            envelope = replace(envelope, external_id=fix_external_id(self.svc, item_id, propose(envelope)))
        try:
            result = sender.send(envelope)
        except PermanentFailure as exc:
            mark_failed(self.svc, item_id, str(exc) or "rejected", retry=False)
        except TemporaryFailure as exc:
            mark_failed(self.svc, item_id, str(exc) or "temporary failure", retry=True)
        except Exception as exc:  # a sender bug must not stop the dispatcher; retry with backoff
            log.exception("sender for %s failed on outbox item %s", channel, item_id)
            mark_failed(self.svc, item_id, f"{type(exc).__name__}", retry=True)
        else:
            mark_sent(self.svc, item_id, result)


def init_app(app: Flask, svc: Services) -> None:
    """Add the dispatcher as a background service and the `helpdesk worker` command, once.

    Every channel calls this from its own init_app, so any set of enabled channels gets delivery.
    """
    if any(isinstance(service, OutboxDispatcher) for service in svc.background):
        return
    svc.background.append(OutboxDispatcher(svc))
    app.cli.add_command(worker)


@click.command()
@with_appcontext
def worker() -> None:
    """Run the background services except the SMTP server: the outbox dispatcher, SLA checks."""
    from flask import current_app

    from helpdesk.cli.common import start_background, stop_all

    svc: Services = current_app.extensions["helpdesk"]
    started = start_background(svc, exclude={"smtp"})
    click.echo(f"worker running: {', '.join(s.name for s in started)} (Ctrl+C stops)")
    if svc.settings.metrics_port:
        from helpdesk.monitoring import serve_process_metrics

        settings = svc.settings
        serve_process_metrics("127.0.0.1", settings.metrics_port, settings.metrics_token)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    try:
        while not stop.wait(0.2):  # short waits: the signal handler runs between them
            pass
    finally:
        stop_all(started)  # together: each finishes what it has in hand, within seconds

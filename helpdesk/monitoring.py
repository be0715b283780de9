"""Prometheus metrics: counts read from the store at scrape time, plus this process's counters.

Store figures (tickets, outbox backlog and age, SLA breaches) are the same whichever process is
scraped. Per-process figures (requests, Socket.IO connections, triage latency, SMTP replies) are
this process's own: scrape every web process (and the SMTP process's own endpoint when it runs
apart) and let Prometheus sum them.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from flask import Flask, request
from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from werkzeug.wrappers import Response

from helpdesk.models import OutboxItem, Ticket
from helpdesk.models.tickets import OPEN_STATUSES
from helpdesk.services import Services, TriageDecision

# Process-wide: the SMTP server and triage live in whichever process runs them, not in an app.
SMTP_REPLIES = Counter(
    "helpdesk_smtp_messages",
    "Mail transactions answered by our SMTP server: accepted (250), deferred (4xx), refused (5xx)",
    ["outcome"],
    registry=None,
)
TRIAGE_SECONDS = Histogram(
    "helpdesk_triage_seconds",
    "Time to classify and route one inquiry",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
    registry=None,
)


def record_smtp_reply(reply: str) -> None:
    """Count the final answer to one mail transaction (DATA, or a refused RCPT/MAIL)."""
    code = reply[:1]
    outcome = "accepted" if code == "2" else "deferred" if code == "4" else "refused"
    SMTP_REPLIES.labels(outcome).inc()


def serve_process_metrics(host: str, port: int, token: str | None) -> Any:
    """For `helpdesk smtp` and `helpdesk worker` run apart: this process's counters on their own
    port (HELPDESK_METRICS_PORT), with the same bearer token as /metrics; a daemon thread."""
    import hmac
    import threading
    from wsgiref.simple_server import WSGIRequestHandler, make_server

    from prometheus_client import make_wsgi_app

    registry = CollectorRegistry()
    registry.register(SMTP_REPLIES)
    registry.register(TRIAGE_SECONDS)
    metrics_app = make_wsgi_app(registry)

    def app(environ: dict[str, Any], start_response: Any) -> Any:
        given = environ.get("HTTP_AUTHORIZATION", "").removeprefix("Bearer ")
        if token and not hmac.compare_digest(given, token):
            start_response("401 Unauthorized", [("Content-Type", "text/plain")])
            return [b"401 Unauthorized\n"]
        return metrics_app(environ, start_response)

    class Quiet(WSGIRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # scrapes are not news
            pass

    server = make_server(host, port, app, handler_class=Quiet)
    threading.Thread(target=server.serve_forever, name="metrics", daemon=True).start()
    return server


def time_triage(svc: Services) -> None:
    """Every triage decision's latency lands in TRIAGE_SECONDS (the service keeps its own type)."""
    inner = svc.triage.triage
    if getattr(inner, "_timed", False):
        return

    def timed(subject: str, text: str) -> TriageDecision:
        start = time.perf_counter()
        try:
            return inner(subject, text)
        finally:
            TRIAGE_SECONDS.observe(time.perf_counter() - start)

    timed._timed = True  # type: ignore[attr-defined]
    try:
        svc.triage.triage = timed  # type: ignore[method-assign]
    except AttributeError:  # a service that forbids it (slots, frozen) is simply not timed
        pass


class StoreCollector(Collector):
    def __init__(self, svc: Services) -> None:
        self.svc = svc

    def collect(self) -> Iterator[GaugeMetricFamily]:
        tickets = GaugeMetricFamily(
            "helpdesk_tickets",
            "Tickets by status, channel and queue",
            labels=["status", "channel", "queue"],
        )
        outbox = GaugeMetricFamily("helpdesk_outbox_items", "Outbox items by status", labels=["status"])
        backlog = GaugeMetricFamily(
            "helpdesk_outbox_backlog", "Outbox items waiting to be sent (pending or sending)"
        )
        oldest = GaugeMetricFamily(
            "helpdesk_outbox_oldest_age_seconds",
            "Age of the oldest outbox item still waiting to be sent (0 when none waits)",
        )
        breached = GaugeMetricFamily(
            "helpdesk_sla_breached_tickets",
            "Tickets that missed an SLA target: still open, and all ever recorded",
            labels=["state"],
        )
        waiting = OutboxItem.status.in_(("pending", "sending"))
        with self.svc.db.session() as s:
            rows = s.execute(
                select(Ticket.status, Ticket.channel, Ticket.queue, func.count()).group_by(
                    Ticket.status, Ticket.channel, Ticket.queue
                )
            )
            for status, channel, queue, count in rows:
                tickets.add_metric([status, channel, queue], count)
            for status, count in s.execute(
                select(OutboxItem.status, func.count()).group_by(OutboxItem.status)
            ):
                outbox.add_metric([status], count)
            count, first = s.execute(
                select(func.count(), func.min(OutboxItem.created_at)).where(waiting)
            ).one()
            backlog.add_metric([], count)
            age = (self.svc.clock.now() - _aware(first)).total_seconds() if first else 0.0
            oldest.add_metric([], max(age, 0.0))
            was_breached = Ticket.sla_breached_at.is_not(None)
            open_count = s.scalar(select(func.count()).where(was_breached, Ticket.status.in_(OPEN_STATUSES)))
            breached.add_metric(["open"], open_count or 0)
            breached.add_metric(["all"], s.scalar(select(func.count()).where(was_breached)) or 0)
        yield from (tickets, outbox, backlog, oldest, breached)


def _aware(value: Any) -> Any:
    from datetime import UTC

    return value if value.tzinfo else value.replace(tzinfo=UTC)


class SocketCollector(Collector):
    """Open Socket.IO connections of this process, per namespace (/chat citizens, /console)."""

    def __init__(self, app: Flask) -> None:
        self.app = app

    def collect(self) -> Iterator[GaugeMetricFamily]:
        gauge = GaugeMetricFamily(
            "helpdesk_socketio_connections",
            "Open Socket.IO connections in this process",
            labels=["namespace"],
        )
        socketio = self.app.extensions.get("socketio")
        rooms = socketio.server.manager.rooms if socketio is not None else {}
        for namespace in ("/chat", "/console"):
            # The room None of a namespace holds every connected client of it.
            gauge.add_metric([namespace], len(rooms.get(namespace, {}).get(None, {})))
        yield gauge


def init_metrics(app: Flask, svc: Services) -> None:
    registry = CollectorRegistry()
    registry.register(StoreCollector(svc))
    registry.register(SocketCollector(app))
    registry.register(SMTP_REPLIES)
    registry.register(TRIAGE_SECONDS)
    time_triage(svc)
    requests_total = Counter(
        "helpdesk_http_requests",
        "HTTP requests by blueprint and status",
        ["blueprint", "status"],
        registry=registry,
    )

    # Each (blueprint, status) counter looked up once: labels() validates and locks on every call
    # (~1/40 of the app's part of an API create). Both sets are small and fixed, as before.
    counters: dict[tuple[str | None, int], Any] = {}

    @app.after_request
    def _count(response: Response) -> Response:
        key = (request.blueprint, response.status_code)
        counter = counters.get(key)
        if counter is None:
            counter = counters[key] = requests_total.labels(key[0] or "-", str(key[1]))
        counter.inc()
        return response

    app.extensions["metrics_registry"] = registry

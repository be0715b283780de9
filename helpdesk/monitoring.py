"""Prometheus metrics: counts read from the store at scrape time, plus request counters."""

from __future__ import annotations

from collections.abc import Iterator

from flask import Flask, request
from prometheus_client import CollectorRegistry, Counter
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from werkzeug.wrappers import Response

from helpdesk.models import OutboxItem, Ticket
from helpdesk.services import Services


class StoreCollector(Collector):
    def __init__(self, svc: Services) -> None:
        self.svc = svc

    def collect(self) -> Iterator[GaugeMetricFamily]:
        tickets = GaugeMetricFamily(
            "helpdesk_tickets",
            "Tickets by status, channel and queue",
            labels=["status", "channel", "queue"],
        )
        outbox = GaugeMetricFamily(
            "helpdesk_outbox_items", "Outbox items by status", labels=["status"]
        )
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
        yield tickets
        yield outbox


def init_metrics(app: Flask, svc: Services) -> None:
    registry = CollectorRegistry()
    registry.register(StoreCollector(svc))
    requests_total = Counter(
        "helpdesk_http_requests",
        "HTTP requests by blueprint and status",
        ["blueprint", "status"],
        registry=registry,
    )

    @app.after_request
    def _count(response: Response) -> Response:
        requests_total.labels(request.blueprint or "-", str(response.status_code)).inc()
        return response

    app.extensions["metrics_registry"] = registry

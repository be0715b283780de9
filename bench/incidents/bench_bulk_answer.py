"""An incident's bulk answer: N linked tickets answered in one transaction, beside a baseline.

    .venv/bin/python bench/incidents/bench_bulk_answer.py [--count 1000] [--database-url URL]

Prints how long it takes to link N new tickets (receive_inbound with an open incident, against
the same inquiries with none), the preview (count, channels, opt-outs) and the answer (one
message and one outbox item per ticket, one commit), against N single reply_to_ticket calls.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from helpdesk.db import Database
from helpdesk.incidents.answers import answer_incident, preview_answer
from helpdesk.incidents.core import IncidentDraft, close_incident, open_incident
from helpdesk.migrate import upgrade
from helpdesk.models import Queue
from helpdesk.services import Services
from helpdesk.settings import Settings
from helpdesk.tickets import Actor, Identity, InboundMessage, receive_inbound, reply_to_ticket


def services(database_url: str | None, tmp: Path) -> Services:
    settings = Settings(
        data_dir=tmp / "var",
        database_url=database_url or f"sqlite:///{tmp / 'b.db'}",
        secret_key="bench-" + "x" * 32,
        channels=(),
        triage="local",
    ).resolved()
    db = Database(settings.database_url)
    upgrade(db)
    with db.transaction() as s:
        s.add(Queue(name="triage", title="Triage"))
    return Services(settings=settings, db=db)


def inquiries(svc: Services, tag: str, count: int) -> tuple[float, list[str]]:
    refs, start = [], time.perf_counter()
    for i in range(count):
        refs.append(
            receive_inbound(
                svc,
                InboundMessage(
                    channel="email",
                    sender=Identity("email", f"{tag}{i}@example.rs"),
                    subject="eUprava",
                    text="Ne radi eUprava, javlja grešku.",
                    wants_acknowledgement=True,
                ),
            ).ticket_reference
        )
    return time.perf_counter() - start, refs


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        svc = services(args.database_url, Path(tmp))
        plain, plain_refs = inquiries(svc, "plain", args.count)
        incident = open_incident(
            svc,
            Actor.system("bench"),
            IncidentDraft(title="eUprava", notice_sr_latn="eUprava ne radi.", keywords="eUprava"),
        )
        linked, _ = inquiries(svc, "linked", args.count)
        t = time.perf_counter()
        preview = preview_answer(svc, incident, None)
        preview_s = time.perf_counter() - t
        t = time.perf_counter()
        result = answer_incident(svc, incident, Actor.system("bench"), "Portal radi ponovo.", "b-1", None)
        answer_s = time.perf_counter() - t
        close_incident(svc, incident, Actor.system("bench"))
        t = time.perf_counter()
        for ref in plain_refs:
            reply_to_ticket(svc, ref, Actor.system("bench"), "Portal radi ponovo.")
        single_s = time.perf_counter() - t
        assert preview.total == result.queued == args.count
        n = args.count
        print(f"| what ({svc.db.dialect}, {n} tickets) | seconds | per ticket (ms) | baseline |")
        print("|---|---:|---:|---|")
        print(
            f"| new tickets, incident open (linked + notice) | {linked:.2f} | {linked / n * 1000:.2f} "
            f"| {plain:.2f} s without incident ({linked / plain:.2f}x) |"
        )
        print(f"| preview of the bulk answer | {preview_s:.2f} | {preview_s / n * 1000:.2f} | |")
        print(
            f"| bulk answer, one transaction | {answer_s:.2f} | {answer_s / n * 1000:.2f} "
            f"| {single_s:.2f} s as {n} reply_to_ticket calls ({single_s / answer_s:.1f}x faster) |"
        )
        svc.db.dispose()


if __name__ == "__main__":
    main()

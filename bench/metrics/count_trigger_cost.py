"""What the open-count triggers (migration 0034) add to a ticket write: one ticket INSERT + COMMIT,
and one status change (open -> resolved, UPDATE + COMMIT), with the triggers and without them
(dropped and made again from the migration's SQL), in alternating rounds on the same store.
With --toggle index, the same for the covering index ix_tickets_open_counts (dropped and made
again as migration 0017 made it): best on a copy of a large store, whose index is deep.
On SQLite also the VM instructions of one (a progress handler every 10, median), which the
machine's load does not change.

    .venv/bin/python bench/metrics/count_trigger_cost.py                 # SQLite in a tmp dir
    .venv/bin/python bench/metrics/count_trigger_cost.py --database-url postgresql+psycopg://.../scratch
    .venv/bin/python bench/metrics/count_trigger_cost.py --toggle index --database-url sqlite:////tmp/copy.db

The PostgreSQL database must be a scratch one: it is migrated and tickets are added to it.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from sqlalchemy import Engine, bindparam, event, insert, update  # noqa: E402

from helpdesk.db import Database  # noqa: E402
from helpdesk.migrate import upgrade  # noqa: E402
from helpdesk.models import Contact, Queue, Ticket  # noqa: E402
from helpdesk.services import Services  # noqa: E402
from helpdesk.settings import Settings  # noqa: E402
from helpdesk.tickets import Identity, InboundMessage, receive_inbound  # noqa: E402

_spec = importlib.util.spec_from_file_location(
    "m0034", ROOT / "migrations/versions/0034_metricsq_open_counts.py"
)
assert _spec and _spec.loader
m0034: Any = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(m0034)

# Column defaults (Python side) filled in by SQLAlchemy Core, as for any ticket written.
INSERT = insert(Ticket).values(
    reference=bindparam("ref"), reply_token=bindparam("ref"), subject="Trigger cost", channel="web",
    contact_id=bindparam("contact"),
)
RESOLVE = update(Ticket).where(Ticket.reference == bindparam("ref")).values(status="resolved")


VM_STEP = 10
_vm = [0]  # SQLite VM instructions / VM_STEP, every connection of the process


def _count_vm(dbapi_conn: Any, record: Any) -> None:
    if hasattr(dbapi_conn, "set_progress_handler"):  # sqlite3
        dbapi_conn.set_progress_handler(lambda: _vm.__setitem__(0, _vm[0] + 1) or 0, VM_STEP)


event.listen(Engine, "connect", _count_vm)


def set_triggers(db: Database, present: bool) -> None:
    with db.engine.begin() as conn:
        postgres = db.dialect == "postgresql"
        for event, spec in (m0034.PG_TRIGGERS if postgres else m0034.SQLITE_TRIGGERS).items():
            on = " ON tickets" if postgres else ""
            conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS open_ticket_counts_{event}{on}")
            if present:
                tail = " EXECUTE FUNCTION open_ticket_counts_move()" if postgres else ""
                conn.exec_driver_sql(f"CREATE TRIGGER open_ticket_counts_{event} {spec}{tail}")


OPEN_COUNTS_INDEX = "ix_tickets_open_counts"


def set_index(db: Database, present: bool) -> None:
    """The covering index of migration 0017 (dropped by 0035), as 0017 made it."""
    with db.engine.begin() as conn:
        conn.exec_driver_sql(f"DROP INDEX IF EXISTS {OPEN_COUNTS_INDEX}")
        if present:
            conn.exec_driver_sql(
                f"CREATE INDEX {OPEN_COUNTS_INDEX} ON tickets (status, merged_into_id, queue, assignee_id)"
            )


def timed(db: Database, statement: Any, refs: list[str], contact: int) -> tuple[float, float]:
    """Median ms of one statement + COMMIT, and (SQLite) VM instructions of the statement.
    PostgreSQL: without waiting for the WAL flush (synchronous_commit off, this connection),
    whose 1-5 ms on this machine's disk hides the statement's own work."""
    times, steps = [], []
    with db.engine.connect() as conn:
        if db.dialect == "postgresql":
            conn.exec_driver_sql("SET synchronous_commit = off")
            conn.commit()
        for ref in refs:
            before = _vm[0]
            started = time.perf_counter()
            conn.execute(statement, {"ref": ref, "contact": contact} if statement is INSERT else {"ref": ref})
            conn.commit()
            times.append((time.perf_counter() - started) * 1000)
            steps.append((_vm[0] - before) * VM_STEP)
    return statistics.median(times), statistics.median(steps)


def core_creates(svc: Services, first: int, count: int) -> tuple[float, float]:
    """Median ms of one `receive_inbound` opening a ticket (bench/tickets' core row)."""
    times, steps = [], []
    for i in range(first, first + count):
        msg = InboundMessage(
            channel="web", sender=Identity("email", f"gradjanin{i}@example.rs"), sender_name="Građanin",
            subject="Ne mogu da se prijavim", text="Lozinka ne radi posle resetovanja.",
        )
        before = _vm[0]
        started = time.perf_counter()
        receive_inbound(svc, msg)
        times.append((time.perf_counter() - started) * 1000)
        steps.append((_vm[0] - before) * VM_STEP)
    return statistics.median(times), statistics.median(steps)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", default="")
    parser.add_argument("--count", type=int, default=500, help="tickets per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--toggle", choices=("triggers", "index"), default="triggers",
                        help="what is dropped and made again: the 0034 triggers or ix_tickets_open_counts")
    args = parser.parse_args()
    toggle = set_triggers if args.toggle == "triggers" else set_index
    url = args.database_url or f"sqlite:///{tempfile.mkdtemp(prefix='trigger-cost-')}/helpdesk.db"
    db = Database(url)
    upgrade(db)
    with db.transaction() as session:
        person = Contact(name="Cost")
        session.add(person)
        if session.query(Queue).count() == 0:
            session.add(Queue(name="triage", title="Triage"))
        session.flush()
        contact: int = person.id
    settings = Settings(
        data_dir=Path(tempfile.mkdtemp(prefix="trigger-cost-data-")), database_url=url, channels=(),
        triage="local", log_level="WARNING",
    ).resolved()
    svc = Services(settings=settings, db=db)
    results: dict[tuple[str, bool], list[tuple[float, float]]] = {}
    n = 0
    for round_no in range(args.rounds):
        for present in (True, False) if round_no % 2 == 0 else (False, True):
            toggle(db, present)
            refs = [f"TC-{os.getpid()}-{n + i}" for i in range(args.count)]
            n += args.count
            results.setdefault(("insert", present), []).append(timed(db, INSERT, refs, contact))
            results.setdefault(("resolve", present), []).append(timed(db, RESOLVE, refs, contact))
            creates = core_creates(svc, n, args.count)
            results.setdefault(("core receive_inbound, new ticket", present), []).append(creates)
    toggle(db, True)  # as the schema has them
    with db.session() as session:
        tickets = session.query(Ticket).count()
    load = os.getloadavg()[0]
    print(f"\n{db.dialect}, {args.rounds} alternating rounds of {args.count}, {args.toggle} toggled, "
          f"{tickets} tickets at the end; load average {load:.1f}")
    print(
        f"| statement + COMMIT (PostgreSQL: no flush wait) | {args.toggle} | median ms, per round | VM |"
    )
    print("|---|---|---|---|")
    for (kind, present), rows in results.items():
        ms = " / ".join(f"{t:.3f}" for t, _ in rows)
        print(f"| {kind} | {'with' if present else 'without'} | {ms} | {rows[0][1]:.0f} |")
    db.dispose()


if __name__ == "__main__":
    main()

"""Covering indexes for the supervisor's weekly figures and the SLA watch (migration 0010).

Each weekly figure reads one time column by range; the index holds that column first and then the
columns the figure and its filters need, so neither SQLite nor PostgreSQL visits the table rows.
Declared here, on the tickets table, so the models and the migrations describe the same schema.
"""

from __future__ import annotations

from sqlalchemy import Index

from helpdesk.models.tickets import Ticket

_t = Ticket.__table__.c
_FILTERS = (_t.merged_into_id, _t.channel, _t.queue, _t.category)

REPORT_INDEXES = (
    Index("ix_tickets_report_created", _t.created_at, *_FILTERS, _t.deflected),
    # assignee_id last: the per-agent weekly parts (agent_rollup.py) read it with these times
    # (migration 0034); before, each of a week's ~19,000 tickets was fetched from the table.
    Index(
        "ix_tickets_report_first_response", _t.first_response_at, _t.created_at, *_FILTERS,
        _t.assignee_id,
    ),
    Index(
        "ix_tickets_report_resolved", _t.resolved_at, _t.created_at, _t.resolution_due_at,
        _t.first_response_at, _t.first_response_due_at, _t.csat_score, *_FILTERS, _t.assignee_id,
    ),
    Index(
        "ix_tickets_report_resolution_due", _t.resolution_due_at, _t.resolved_at,
        _t.sla_paused_at, *_FILTERS,
    ),
    # The SLA watch's running tickets by due time; the columns after the first three make it cover
    # the supervisor's live count of open tickets past a target (migration 0036, metrics/live.py).
    Index(
        "ix_tickets_sla_watch", _t.status, _t.sla_breached_at, _t.resolution_due_at,
        _t.merged_into_id, _t.first_response_due_at, _t.first_response_at, _t.queue,
    ),
    # Not for the console's queue counts any more (summed from open_ticket_counts, migration
    # 0034, as are the admin queue list and the console list's open-ticket totals), but kept:
    # a count of tickets by status reads it alone, without the table rows: the console list's
    # total for a status view (closed, resolved, pending; SQLite, which counts its rowid) and
    # the API list's total with ?status= (both databases). Without it, at 100,000 tickets on
    # SQLite the "closed" view took 360 ms instead of 165; at a million on PostgreSQL the API's
    # ?status=closed total 105 ms instead of 40. It costs a new ticket ~10,000 of its ~2.8 M
    # instructions on SQLite, nothing measurable on PostgreSQL (bench/README.md, helper
    # dropindex). Known: SQLite walks it for the "any status" view, 180 ms vs 48 by the table.
    # The channel after them: the console's open views by channel count their total from it
    # alone (50-65 ms reading rows at a million, 1-2 ms so; migration 0037, helper consolepg; the
    # category as well cost a new ticket ~2% more instructions on SQLite, so not).
    Index("ix_tickets_open_counts", _t.status, _t.merged_into_id, _t.queue, _t.assignee_id, _t.channel),
)

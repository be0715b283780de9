"""Weekly figures from rollups: closed weeks read back from ``report_weeks``, the rest computed.

Exactness (see ``helpdesk.models.reports``): a stored week is used only if no ticket change its
snapshot did not see overlaps the week. Weeks missing or overlapped are recomputed from the
tickets and stored with the snapshot they were read in. Backlog is never stored: it depends on
all earlier history, so it is the open count before the first week plus, week by week, tickets
created minus tickets resolved (both figures of every week, stored or not).

The read runs in one transaction (REPEATABLE READ on PostgreSQL, a WAL snapshot on SQLite), so
the snapshot recorded is the one the figures were computed in. The write (new rollups, valid
ones moved forward to this snapshot, old change rows pruned) is a short transaction after it.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Integer, and_, cast, delete, func, literal_column, not_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session
from sqlalchemy.types import Text, UserDefinedType

from helpdesk.db import Database
from helpdesk.metrics.weekly import (
    Filters,
    WeekFigures,
    backlog_before,
    backlog_before_from_end,
    weekly_figures,
)
from helpdesk.metrics.weeks import Week
from helpdesk.models import ReportChange, ReportWeek, Ticket

# Rollups older than this many changes are dropped, so the change log stays short.
KEEP_CHANGES = 100_000
# The newest changes are never pruned, and a read older than this many changes does not store
# its weeks: a slow reader can never save figures that miss a change already pruned.
KEEP_RECENT = 10_000
_PG_SEEN: Any = literal_column("report_weeks.seen::txid_snapshot")


def week_key(week: Week, filters: Filters) -> str:
    return f"{week.start.isoformat()}|{filters.channel or ''}|{filters.queue or ''}|{filters.category or ''}"


def snapshot(session: Session, dialect: str) -> str:
    """What a read saw of the change log (stored with what it computed; see `_unseen`)."""
    if dialect == "postgresql":
        return str(session.scalar(select(cast(func.txid_current_snapshot(), Text))))
    return str(session.scalar(select(func.coalesce(func.max(ReportChange.id), 0))))


def _unseen(dialect: str) -> Any:
    """A change the stored week's snapshot did not see."""
    c, w = ReportChange.__table__.c, ReportWeek.__table__.c
    if dialect == "postgresql":
        # Below the snapshot's xmin every transaction had ended: seen (the index range bound).
        xmin = func.txid_snapshot_xmin(_PG_SEEN)
        return and_(c.txid >= xmin, not_(func.txid_visible_in_snapshot(c.txid, _PG_SEEN)))
    return c.id > cast(w.seen, Integer)


def _valid(dialect: str, keys: list[str]) -> Any:
    """Stored rollups of `keys` that no change unseen by their snapshot overlaps."""
    c, w = ReportChange.__table__.c, ReportWeek.__table__.c
    overlapped = select(c.id).where(c.low < w.week_end, c.high >= w.week_start, _unseen(dialect)).exists()
    return and_(w.key.in_(keys), not_(overlapped))


def stored(session: Session, dialect: str, keys: list[str]) -> dict[str, dict[str, Any]]:
    """The stored rollups of `keys` that no change unseen by their snapshot overlaps."""
    w = ReportWeek.__table__.c
    rows = session.execute(select(w.key, w.figures).where(_valid(dialect, keys)))
    return {key: figures for key, figures in rows}


def valid_keys(session: Session, dialect: str, keys: list[str]) -> set[str]:
    """The keys `stored` would return, without reading their figures (the warm-up's check)."""
    return set(session.scalars(select(ReportWeek.__table__.c.key).where(_valid(dialect, keys))))


def repeatable_read(session: Session, dialect: str) -> None:
    """One snapshot for the whole read (PostgreSQL; SQLite's WAL read transaction is one)."""
    if dialect == "postgresql":
        session.connection(execution_options={"isolation_level": "REPEATABLE READ"})


def _runs(indexes: list[int]) -> list[list[int]]:
    runs: list[list[int]] = []
    for i in indexes:
        if runs and runs[-1][-1] == i - 1:
            runs[-1].append(i)
        else:
            runs.append([i])
    return runs


def rollup_figures(db: Database, weeks: Sequence[Week], now: datetime, filters: Filters) -> list[WeekFigures]:
    """The same figures as `weekly_figures` over `weeks`, closed weeks from the rollups."""
    if not weeks:
        return []
    keys = [week_key(week, filters) for week in weeks]
    closed = [week.end <= now for week in weeks]
    with db.session() as session:
        repeatable_read(session, db.dialect)
        seen = snapshot(session, db.dialect)
        found = stored(session, db.dialect, [k for k, done in zip(keys, closed, strict=True) if done])
        found = {key: data for key, data in found.items() if WeekFigures.storable(data)}
        kept = {key: WeekFigures.from_store(data) for key, data in found.items()}
        missing = [i for i, key in enumerate(keys) if key not in kept]
        computed: dict[int, WeekFigures] = {}
        for run in _runs(missing):
            run_figures = weekly_figures(
                session, db.dialect, [weeks[i] for i in run], now, filters, with_backlog=False
            )
            computed.update(zip(run, run_figures, strict=True))
        figures = [kept.get(key) or computed[i] for i, key in enumerate(keys)]
        if _recent(session, weeks, now, filters):
            open_count = backlog_before_from_end(session, weeks[0], weeks[-1], figures, filters)
        else:
            open_count = backlog_before(session, weeks[0], filters)
    for fig in figures:
        open_count += fig.total - fig.resolution.count
        fig.backlog = open_count
    fresh = [(weeks[i], keys[i], computed[i].to_store()) for i in computed if closed[i]]
    save(db, fresh, [k for k in keys if k in kept], seen)
    return figures


def store_missing(
    db: Database,
    weeks: Sequence[Week],
    now: datetime,
    key: Callable[[Week], str],
    valid: Callable[[Session, list[str]], Collection[str]],
    compute: Callable[[Session, list[Week]], list[dict[str, Any]]],
    limit: int | None = None,
) -> tuple[int, int]:
    """Compute and store the closed weeks of `weeks` whose key (`key`) is not among the `valid`
    stored ones, the first `limit` of them in the order given (`compute` gives what each stores),
    in one read and one short write (the warm-up, ``helpdesk.metrics.warm``). The valid ones
    move to this snapshot, as on a read. Returns (weeks computed, weeks still missing)."""
    closed = [week for week in weeks if week.end <= now]
    keys = [key(week) for week in closed]
    if not keys:
        return 0, 0
    with db.session() as session:
        repeatable_read(session, db.dialect)
        seen = snapshot(session, db.dialect)
        good = valid(session, keys)
        missing = [(week, k) for week, k in zip(closed, keys, strict=True) if k not in good]
        todo = missing[:limit]
        data = compute(session, [week for week, _ in todo])
    fresh = [(week, k, d) for (week, k), d in zip(todo, data, strict=True)]
    save(db, fresh, [k for k in keys if k in good], seen)
    return len(fresh), len(missing) - len(fresh)


def store_closed(
    db: Database, weeks: Sequence[Week], now: datetime, filters: Filters, limit: int | None = None
) -> tuple[int, int]:
    """`store_missing` for the weekly figures: (weeks computed, weeks still missing)."""

    def valid(session: Session, keys: list[str]) -> set[str]:
        found = stored(session, db.dialect, keys)
        return {k for k, data in found.items() if WeekFigures.storable(data)}

    def compute(session: Session, todo: list[Week]) -> list[dict[str, Any]]:
        figures = weekly_figures(session, db.dialect, todo, now, filters, with_backlog=False)
        return [f.to_store() for f in figures]

    return store_missing(db, weeks, now, lambda w: week_key(w, filters), valid, compute, limit)


def _recent(session: Session, weeks: Sequence[Week], now: datetime, filters: Filters) -> bool:
    """Is there less history after the weeks than before them? Then the backlog base is counted
    from now backwards (see `backlog_before_from_end`), else from the beginning forwards."""
    t = Ticket.__table__.c
    earliest = session.scalar(select(func.min(t.created_at)).where(*filters.conditions()))
    if earliest is None:
        return False
    return now - weeks[-1].end < weeks[0].start - earliest


def save(db: Database, fresh: list[tuple[Week, str, dict[str, Any]]], valid: list[str], seen: str) -> None:
    """Store the closed weeks computed in snapshot `seen`, and move the valid ones to it."""
    if valid and not fresh:
        # A read first: the warm-up finds every week valid on each pass of an idle desk, and
        # those already at this snapshot need no write (nor SQLite's write lock, which a
        # citizen's message would wait for).
        with db.session() as session:
            valid = behind(session, valid, seen)
    if not fresh and not valid:
        return
    w = ReportWeek.__table__.c
    rows = [
        {"key": key, "week_start": week.start, "week_end": week.end, "seen": seen, "figures": data}
        for week, key, data in fresh
    ]
    with db.transaction() as session:
        if _too_old(session, db.dialect, seen):
            return
        if rows:
            insert = pg_insert(ReportWeek) if db.dialect == "postgresql" else sqlite_insert(ReportWeek)
            stmt = insert.values(rows)
            session.execute(
                stmt.on_conflict_do_update(
                    index_elements=[w.key],
                    set_={"seen": stmt.excluded.seen, "figures": stmt.excluded.figures},
                )
            )
        if valid:
            # Valid in this snapshot: as good as computed in it, so its snapshot moves forward
            # (and stops holding back the pruning of the change log).
            session.execute(
                update(ReportWeek).where(w.key.in_(valid)).values(seen=seen),
                execution_options={"synchronize_session": False},
            )
        _prune(session, db.dialect)


def behind(session: Session, keys: list[str], seen: str) -> list[str]:
    """Of the stored weeks `keys`, those whose snapshot is not `seen` (the ones a save moves)."""
    w = ReportWeek.__table__.c
    return list(session.scalars(select(w.key).where(w.key.in_(keys), w.seen != seen)))


def _too_old(session: Session, dialect: str, seen: str) -> bool:
    if dialect == "postgresql":
        horizon = func.txid_snapshot_xmin(cast(seen, _TxidSnapshot()))
        return bool(session.scalar(select(horizon < func.txid_current() - KEEP_RECENT)))
    newest = session.scalar(select(func.coalesce(func.max(ReportChange.id), 0)))
    return int(seen) < int(newest or 0) - KEEP_RECENT


def _prune(session: Session, dialect: str) -> None:
    c, w = ReportChange.__table__.c, ReportWeek.__table__.c
    if dialect == "postgresql":
        horizon: Any = func.txid_snapshot_xmin(_PG_SEEN)
        newest: Any = select(func.txid_current()).scalar_subquery()
        session.execute(
            delete(ReportWeek).where(horizon < newest - KEEP_CHANGES),
            execution_options={"synchronize_session": False},
        )
        oldest = select(func.min(horizon)).select_from(ReportWeek).scalar_subquery()
        session.execute(
            delete(ReportChange).where(c.txid < oldest, c.txid < newest - KEEP_RECENT),
            execution_options={"synchronize_session": False},
        )
    else:
        seen = cast(w.seen, BigInteger)
        newest = select(func.max(c.id)).scalar_subquery()
        session.execute(
            delete(ReportWeek).where(seen < newest - KEEP_CHANGES),
            execution_options={"synchronize_session": False},
        )
        oldest = select(func.min(seen)).scalar_subquery()
        session.execute(
            delete(ReportChange).where(c.id <= oldest, c.id <= newest - KEEP_RECENT),
            execution_options={"synchronize_session": False},
        )


class _TxidSnapshot(UserDefinedType[str]):
    cache_ok = True

    def get_col_spec(self, **kw: Any) -> str:
        return "txid_snapshot"

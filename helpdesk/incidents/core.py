"""Opening, editing and closing incidents: core operations with audit, one commit each.

The views and the CLI call these; nothing else writes the incidents table. Closing with a message
sends it to every linked citizen through ``answers`` (the same path as a bulk answer).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from helpdesk.incidents.models import Incident, IncidentTicket
from helpdesk.incidents.texts import notice_text, parse_keywords
from helpdesk.services import Services
from helpdesk.tickets.types import Actor, InvalidChange
from helpdesk.tickets.uow import UnitOfWork, unit_of_work

MAX_TITLE = 200
MAX_NOTICE = 1000  # it goes out by SMS too (one concatenated SMS holds 1600)


class IncidentNotFound(LookupError):
    pass


@dataclass(frozen=True)
class IncidentDraft:
    """What a supervisor fills in (the form and the CLI build one)."""

    title: str
    notice_sr_latn: str
    notice_sr_cyrl: str = ""
    notice_en: str = ""
    category: str | None = None
    keywords: str = ""
    starts_at: datetime | None = None  # None: now
    expected_end_at: datetime | None = None


@dataclass(frozen=True)
class IncidentView:
    """An incident as pages and the CLI show it (detached from the session)."""

    id: int
    title: str
    category: str | None
    keywords: list[str]
    notices: dict[str, str]  # sr-Latn, sr-Cyrl, en: what a reader of each gets
    written: dict[str, str]  # the three texts as the supervisor wrote them (for the edit form)
    status: str
    starts_at: datetime
    expected_end_at: datetime | None
    closed_at: datetime | None
    linked: int


def _fields(draft: IncidentDraft, now: datetime) -> dict[str, Any]:
    title = " ".join(draft.title.split())
    if not title or len(title) > MAX_TITLE:
        raise InvalidChange(f"the title must be 1 to {MAX_TITLE} characters")
    latn = draft.notice_sr_latn.strip()
    if not latn:
        raise InvalidChange("the notice in Serbian (Latin) is required")
    texts = {
        "notice_sr_latn": latn,
        "notice_sr_cyrl": draft.notice_sr_cyrl.strip(),
        "notice_en": draft.notice_en.strip(),
    }
    if any(len(t) > MAX_NOTICE for t in texts.values()):
        raise InvalidChange(f"a notice must be at most {MAX_NOTICE} characters")
    category = (draft.category or "").strip() or None
    if category is not None and len(category) > 40:
        raise InvalidChange("the category must be at most 40 characters")
    keywords = ", ".join(parse_keywords(draft.keywords))
    if category is None and not keywords:
        raise InvalidChange("name a category or at least one keyword, so inquiries can match it")
    starts = draft.starts_at or now
    if draft.expected_end_at is not None and draft.expected_end_at <= starts:
        raise InvalidChange("the expected end must come after the start")
    return {
        "title": title,
        "category": category,
        "keywords": keywords,
        "starts_at": starts,
        "expected_end_at": draft.expected_end_at,
        **texts,
    }


def _snapshot(incident: Incident) -> dict[str, Any]:
    """What the audit trail records of an incident (times as ISO text: JSON)."""
    return {
        "title": incident.title,
        "category": incident.category,
        "keywords": incident.keywords,
        "status": incident.status,
        "starts_at": incident.starts_at.isoformat() if incident.starts_at else None,
        "expected_end_at": incident.expected_end_at.isoformat() if incident.expected_end_at else None,
        "notice_sr_latn": incident.notice_sr_latn,
        "notice_sr_cyrl": incident.notice_sr_cyrl,
        "notice_en": incident.notice_en,
    }


def open_incident(svc: Services, actor: Actor, draft: IncidentDraft) -> int:
    with unit_of_work(svc) as uow:
        incident = Incident(
            **_fields(draft, uow.now),
            status="open",
            created_at=uow.now,
            updated_at=uow.now,
            opened_by_id=actor.id if actor.kind == "agent" else None,
        )
        uow.session.add(incident)
        uow.session.flush()
        uow.audit(actor, "incident.opened", None, None, _snapshot(incident), subject_id=incident.id)
        return incident.id


def update_incident(svc: Services, incident_id: int, actor: Actor, draft: IncidentDraft) -> None:
    """Edit an open incident; its links and the notices already sent stay as they were."""
    with unit_of_work(svc) as uow:
        incident = lock_open_incident(uow, incident_id)
        before = _snapshot(incident)
        for name, value in _fields(draft, incident.starts_at).items():
            setattr(incident, name, value)
        after = _snapshot(incident)
        if after == before:
            return
        incident.updated_at = uow.now
        changed = [k for k in after if after[k] != before[k]]
        uow.audit(
            actor,
            "incident.updated",
            None,
            {k: before[k] for k in changed},
            {k: after[k] for k in changed},
            subject_id=incident.id,
        )


def close_incident(
    svc: Services, incident_id: int, actor: Actor, message: str = "", nonce: str | None = None
) -> int:
    """Close it (the banner goes, no new links). With a message, every linked citizen gets it on
    their ticket's channel; returns on how many tickets it was queued."""
    from helpdesk.incidents.answers import queue_answer  # the one way to write to linked tickets

    text = message.strip()
    with unit_of_work(svc) as uow:
        incident = lock_open_incident(uow, incident_id)
        incident.status = "closed"
        incident.closed_at = uow.now
        incident.updated_at = uow.now
        incident.closed_by_id = actor.id if actor.kind == "agent" else None
        uow.audit(
            actor,
            "incident.closed",
            None,
            {"status": "open"},
            {"status": "closed", "message": bool(text)},
            subject_id=incident.id,
        )
        if not text:
            return 0
        return queue_answer(uow, incident, actor, text, nonce, "closing", None).queued


def lock_open_incident(uow: UnitOfWork, incident_id: int) -> Incident:
    stmt = select(Incident).where(Incident.id == incident_id)
    if uow.session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update()  # two supervisors closing at once: one wins, one is told
    incident = uow.session.scalar(stmt)
    if incident is None:
        raise IncidentNotFound(incident_id)
    if incident.status != "open":
        raise InvalidChange("that incident is closed")
    return incident


# -- reading ------------------------------------------------------------------------------------


def _view(incident: Incident, linked: int) -> IncidentView:
    latn, cyrl, en = incident.notice_sr_latn, incident.notice_sr_cyrl, incident.notice_en
    return IncidentView(
        id=incident.id,
        title=incident.title,
        category=incident.category,
        keywords=parse_keywords(incident.keywords),
        notices={lang: notice_text(latn, cyrl, en, lang) for lang in ("sr-Latn", "sr-Cyrl", "en")},
        written={"sr-Latn": latn, "sr-Cyrl": cyrl, "en": en},
        status=incident.status,
        starts_at=incident.starts_at,
        expected_end_at=incident.expected_end_at,
        closed_at=incident.closed_at,
        linked=linked,
    )


def _linked_counts(s: Session, ids: list[int]) -> dict[int, int]:
    if not ids:
        return {}
    rows = s.execute(
        select(IncidentTicket.incident_id, func.count())
        .where(IncidentTicket.incident_id.in_(ids))
        .group_by(IncidentTicket.incident_id)
    ).all()
    return {incident_id: int(n) for incident_id, n in rows}


def list_incidents(svc: Services, status: str | None = None, limit: int = 200) -> list[IncidentView]:
    """Open ones first, then the most recent."""
    with svc.db.session() as s:
        stmt = select(Incident)
        if status:
            stmt = stmt.where(Incident.status == status)
        found = s.scalars(
            stmt.order_by((Incident.status == "open").desc(), Incident.id.desc()).limit(limit)
        ).all()
        counts = _linked_counts(s, [i.id for i in found])
        return [_view(i, counts.get(i.id, 0)) for i in found]


def get_incident(svc: Services, incident_id: int) -> IncidentView:
    with svc.db.session() as s:
        incident = s.get(Incident, incident_id)
        if incident is None:
            raise IncidentNotFound(incident_id)
        return _view(incident, _linked_counts(s, [incident.id]).get(incident.id, 0))


def active_incidents(svc: Services) -> list[IncidentView]:
    """Open and started: what the citizen pages announce (a scheduled one waits for its start)."""
    now = svc.clock.now()
    with svc.db.session() as s:
        found = s.scalars(
            select(Incident)
            .where(Incident.status == "open", Incident.starts_at <= now)
            .order_by(Incident.starts_at.desc())
            .limit(5)
        ).all()
        return [_view(i, 0) for i in found]

"""The console ticket panel: the articles that best match a ticket, ready to insert."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from helpdesk.kb.service import WhooshKnowledgeBase
from helpdesk.models import Message, Ticket
from helpdesk.services import Services, TicketPanel
from knowledge_base import markdown_to_text

PANEL_TEMPLATE = "kb/_ticket_panel.html"
QUERY_CHARS = 400


def ticket_query(svc: Services, ticket: Ticket) -> str:
    """The ticket's subject and the citizen's latest words: what the agent must answer."""
    with svc.db.session() as s:
        latest = s.scalar(
            select(Message.text)
            .where(Message.ticket_id == ticket.id, Message.direction == "inbound")
            .order_by(Message.seq.desc())
            .limit(1)
        )
    return f"{ticket.subject or ''}\n{latest or ''}"[:QUERY_CHARS]


def make_panel(svc: Services, kb: WhooshKnowledgeBase, limit: int = 3) -> TicketPanel:
    def context(ticket: Ticket) -> dict[str, Any]:
        language = ticket.language if ticket.language in ("sr", "en") else None
        hits = kb.search_hits(ticket_query(svc, ticket), language=language, limit=limit)
        if not hits and language is not None:
            hits = kb.search_hits(ticket_query(svc, ticket), limit=limit)
        texts = {}
        if hits:
            from helpdesk.models import Article

            with svc.db.session() as s:
                for a in s.scalars(select(Article).where(Article.id.in_([int(h.id) for h in hits]))):
                    texts[str(a.id)] = markdown_to_text(a.body)
        return {
            "kb_hits": [{"hit": h, "text": texts.get(h.id, ""), "link": f"{h.title}: {h.url}"} for h in hits]
        }

    return TicketPanel(PANEL_TEMPLATE, context)

"""The TriageService the core calls: the active signed model, hot-reloaded, with a safe fallback.

No model yet, or a model file that fails its signature check: every inquiry still gets a
decision (language, script, priority cues) and goes to the triage queue, where a person
decides. A new active version is picked up on the next call after its `active` pointer
changes (one stat() a second at most), without a restart.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from helpdesk.db import Database
from helpdesk.models import AuditEvent, Message, Ticket
from helpdesk.routing import TRIAGE_QUEUE, choose_queue, existing_queues, parse_routes, stored_routes
from helpdesk.services import LocalTriage, Services, TriageDecision
from helpdesk.settings import Settings
from triage.datasets import Example
from triage.priority import assess
from triage.store import LoadedModel, ModelError, ModelStore
from triage.text import detect_language, detect_script, tokenize

if TYPE_CHECKING:
    from flask import Flask

log = logging.getLogger(__name__)
CHECK_INTERVAL = 1.0  # seconds between looks at the active pointer
QUEUES_TTL = 30.0  # seconds the queues and stored routes read from the database are trusted


class ModelTriage:
    def __init__(
        self,
        settings: Settings,
        db: Database | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        train_missing: Callable[[], object] | None = None,
    ) -> None:
        self.store = ModelStore(settings.data_dir, settings.secret_key)
        self.threshold = settings.triage_confidence_threshold
        self.routes = parse_routes(settings.triage_routes)
        self.db = db
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._loaded: LoadedModel | None = None
        self._mtime: float | None = None
        self._checked_at = -1e9
        self._queues: set[str] | None = None
        self._stored: dict[str, str] = {}
        self._queues_at = -1e9
        # Called once, on a thread, the first time an inquiry arrives with no model.
        self._train_missing = train_missing
        # The model loads on first use, so CLI commands that never classify stay quick.

    @property
    def version(self) -> str | None:
        self._maybe_reload()
        loaded = self._loaded
        return loaded.version if loaded else None

    def reload(self) -> None:
        """Load the active version if its pointer changed; keep the old model on any error."""
        with self._lock:
            self._checked_at = self._monotonic()
            mtime = self.store.active_mtime()
            if mtime == self._mtime and (self._loaded is not None or mtime is None):
                return
            self._mtime = mtime
            try:
                loaded = self.store.load_active()
            except ModelError as exc:
                log.error("triage model not loaded: %s", exc)
                return
            if loaded is not None:
                self._loaded = loaded
                log.info("triage model %s loaded", loaded.version)

    def _maybe_reload(self) -> None:
        if self._monotonic() - self._checked_at >= CHECK_INTERVAL:
            self.reload()

    def _routing(self) -> tuple[dict[str, str], set[str] | None]:
        """The category map (settings overlaid by stored rules) and the queues that exist."""
        if self.db is None:
            return self.routes, None
        now = self._monotonic()
        if self._queues is None or now - self._queues_at > QUEUES_TTL:
            with self.db.session() as s:
                self._queues = existing_queues(s)
                self._stored = stored_routes(s)
            self._queues_at = now
        return {**self.routes, **self._stored}, self._queues

    def triage(self, subject: str, text: str) -> TriageDecision:
        self._maybe_reload()
        body = f"{subject}\n{text}".strip()
        script = detect_script(body)
        language = detect_language(body)
        loaded = self._loaded
        if loaded is None and self._train_missing is not None:
            train, self._train_missing = self._train_missing, None
            threading.Thread(target=train, name="triage-train", daemon=True).start()
        if loaded is None or not carries_content(body):
            # No words, no evidence: a person decides (confidence 0 sends it to triage below).
            category, confidence, in_scope = "other", 0.0, False
        else:
            pred = loaded.model.predict([body])[0]
            category, confidence, in_scope = pred.label, pred.confidence, pred.in_scope
        cues = assess(body, category)
        threshold = max(self.threshold, loaded.model.threshold if loaded else 0.0)
        queue = TRIAGE_QUEUE
        if loaded is not None:
            routes, queues = self._routing()
            queue = choose_queue(category, confidence, in_scope, threshold, routes, queues)
        return TriageDecision(
            category=category,
            confidence=round(confidence, 4),
            priority=cues.priority,
            complaint=cues.complaint,
            language=language if language != "other" else "en",
            script=script if script != "none" else "latn",
            queue=queue,
        )


def carries_content(body: str) -> bool:
    """Whether a text has at least one word to classify (not empty, punctuation or digits)."""
    return any(any(ch.isalpha() for ch in token) and len(token) >= 2 for token in tokenize(body))


def agent_labels(db: Database) -> list[Example]:
    """Training labels from agents' category corrections (the audit trail), latest per ticket.

    The text is the ticket's subject and first inbound message: what the model saw.
    """
    with db.session() as s:
        rows = s.execute(
            select(AuditEvent.ticket_id, AuditEvent.after)
            .where(
                AuditEvent.action == "ticket.category_changed",
                AuditEvent.actor_kind == "agent",
                AuditEvent.ticket_id.is_not(None),
            )
            .order_by(AuditEvent.at, AuditEvent.id)
        ).all()
        latest: dict[int, str] = {}
        for ticket_id, after in rows:
            category = (after or {}).get("category")
            if isinstance(category, str) and category.strip():
                latest[int(ticket_id)] = category.strip()
        out: list[Example] = []
        for ticket_id, category in latest.items():
            ticket = s.get(Ticket, ticket_id)
            first = s.scalar(
                select(Message.text)
                .where(Message.ticket_id == ticket_id, Message.direction == "inbound")
                .order_by(Message.seq)
                .limit(1)
            )
            if ticket is None:
                continue
            text = _model_input(ticket.subject, first or "")
            if text:
                out.append(Example(text, category, "agent"))
        return out


def _model_input(subject: str, text: str) -> str:
    """Subject and text as receive_inbound passed them to triage; a subject the core made
    up from the text (no subject given) is not repeated."""
    flat = " ".join(text.split())
    derived = subject.removesuffix("...")
    if subject == "(no subject)" or (derived and flat.startswith(derived)):
        subject = ""
    return f"{subject}\n{text}".strip()


def init_app(app: Flask, svc: Services) -> None:
    """HELPDESK_TRIAGE=model (default) uses the trained model; =local sends all to triage.

    A classifier the caller put into Services (a test's fake) is left alone. With no model
    yet (`make run` trains one first with `helpdesk triage train --if-missing`), the first
    inquiry starts training the seed model on a thread (seconds), unless testing; until it
    is active, inquiries go to the triage queue.
    """
    mode = svc.settings.triage
    if mode not in {"model", "local"}:
        raise ValueError(f"HELPDESK_TRIAGE must be 'model' or 'local', not {mode!r}")
    if mode == "local" or not isinstance(svc.triage, LocalTriage):
        return
    auto = None if svc.settings.testing else (lambda: train_if_missing(svc))
    svc.triage = ModelTriage(svc.settings, svc.db, train_missing=auto)


def train_if_missing(svc: Services) -> str | None:
    """Train and activate the seed model when no model is active; returns the new version."""
    from triage.datasets import read_seed
    from triage.training import train_version

    store = ModelStore(svc.settings.data_dir, svc.settings.secret_key)
    if store.active_version() is not None:
        return None
    try:
        extra = agent_labels(svc.db)
    except SQLAlchemyError:  # no schema yet: the seed data alone is a fine first model
        extra = []
    try:
        result = train_version(store, read_seed(), extra)
    except Exception:  # a failed first training must not take the server down
        log.exception("training the first triage model failed")
        return None
    log.info("trained triage model %s (accuracy %.3f)", result.version, result.accuracy)
    return result.version if result.activated else None

"""The ticket store. Import models from here; each plug-in's models module is imported below."""

# Incidents are a core concept in a package of their own; its tables import only models.base.
from helpdesk.incidents.models import Incident, IncidentAnswer, IncidentTicket
from helpdesk.models.admin import Category, ServiceSetting
from helpdesk.models.agents import (
    ROLES,
    Agent,
    AgentSession,
    ApiToken,
    Queue,
    RecoveryCode,
    queue_members,
)
from helpdesk.models.audit import AuditEvent
from helpdesk.models.base import Base, UTCDateTime, utcnow
from helpdesk.models.callbacks import (
    CALLBACK_OUTCOMES,
    CALLBACK_STATES,
    Callback,
    CallbackAttempt,
    ContactAccommodation,
)
from helpdesk.models.chat import ChatVisitor
from helpdesk.models.console import CANNED_LANGUAGES, AgentSignature, CannedResponse, SavedView
from helpdesk.models.contacts import IDENTITY_KINDS, Contact, ContactIdentity
from helpdesk.models.kb import Article, ArticleFeedback, KbCategory
from helpdesk.models.list_indexes import CATEGORY_INDEX, LIST_INDEXES  # noqa: F401 - on the tickets table
from helpdesk.models.outbox import OUTBOX_STATES, OutboxItem
from helpdesk.models.privacy import AccessLogEntry, AnonymizedTicket, RetentionRule, SensitiveValue
from helpdesk.models.report_indexes import REPORT_INDEXES  # noqa: F401 - on the tickets table
from helpdesk.models.reports import OpenTicketCount, ReportChange, ReportWeek
from helpdesk.models.spool import SPOOL_STATES, MailSpoolItem
from helpdesk.models.tickets import (
    CHANNELS,
    DELIVERY_STATES,
    DIRECTIONS,
    OPEN_STATUSES,
    PRIORITIES,
    STATUSES,
    Attachment,
    Message,
    Ticket,
    TicketCounter,
)
from helpdesk.models.triage import TriageRoute

__all__ = [
    "CALLBACK_OUTCOMES",
    "CALLBACK_STATES",
    "Callback",
    "CallbackAttempt",
    "ContactAccommodation",
    "CHANNELS",
    "DELIVERY_STATES",
    "DIRECTIONS",
    "IDENTITY_KINDS",
    "OPEN_STATUSES",
    "OUTBOX_STATES",
    "PRIORITIES",
    "ROLES",
    "SPOOL_STATES",
    "STATUSES",
    "AccessLogEntry",
    "Agent",
    "AnonymizedTicket",
    "AgentSignature",
    "CANNED_LANGUAGES",
    "CannedResponse",
    "Article",
    "ArticleFeedback",
    "KbCategory",
    "AgentSession",
    "ApiToken",
    "Attachment",
    "MailSpoolItem",
    "AuditEvent",
    "Base",
    "Category",
    "ChatVisitor",
    "Contact",
    "Incident",
    "IncidentAnswer",
    "IncidentTicket",
    "ContactIdentity",
    "Message",
    "OutboxItem",
    "Queue",
    "RecoveryCode",
    "OpenTicketCount",
    "ReportChange",
    "ReportWeek",
    "RetentionRule",
    "SavedView",
    "ServiceSetting",
    "SensitiveValue",
    "Ticket",
    "TicketCounter",
    "TriageRoute",
    "UTCDateTime",
    "queue_members",
    "utcnow",
]

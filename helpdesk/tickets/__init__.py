"""The core operations: the only code that writes tickets (DESIGN §2)."""

from helpdesk.tickets.actions import (
    add_note,
    assign_ticket,
    close_by_citizen,
    get_ticket,
    merge_contacts,
    merge_tickets,
    note_kb_suggested,
    record_delivery,
    reply_to_ticket,
    set_category,
    set_priority,
    set_queue,
    set_status,
)
from helpdesk.tickets.contacts import find_contact, normalize_identity, normalize_phone
from helpdesk.tickets.inbound import receive_inbound
from helpdesk.tickets.merging import (
    ContactMergePreview,
    TicketMergePreview,
    link_tickets,
    preview_contact_merge,
    preview_ticket_merge,
)
from helpdesk.tickets.serialize import message_dict, ticket_dict
from helpdesk.tickets.types import (
    Actor,
    AttachmentIn,
    Identity,
    InboundMessage,
    InboundResult,
    InvalidChange,
    MessageRef,
    ThreadHints,
    TicketNotFound,
)

__all__ = [
    "Actor",
    "ContactMergePreview",
    "TicketMergePreview",
    "link_tickets",
    "preview_contact_merge",
    "preview_ticket_merge",
    "AttachmentIn",
    "Identity",
    "InboundMessage",
    "InboundResult",
    "InvalidChange",
    "MessageRef",
    "ThreadHints",
    "TicketNotFound",
    "add_note",
    "assign_ticket",
    "close_by_citizen",
    "find_contact",
    "get_ticket",
    "merge_contacts",
    "merge_tickets",
    "message_dict",
    "normalize_identity",
    "note_kb_suggested",
    "normalize_phone",
    "receive_inbound",
    "record_delivery",
    "reply_to_ticket",
    "set_category",
    "set_priority",
    "set_queue",
    "set_status",
    "ticket_dict",
]

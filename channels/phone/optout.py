"""SMS opt-out (STOP / START), kept on the contact so it holds for every number-based channel.

Carriers and Twilio know the English keywords; Serbian citizens also type them in Cyrillic or
in Serbian, so both are understood. The change is audited like any other change to a contact.
"""

from __future__ import annotations

from helpdesk.services import Services
from helpdesk.tickets import Actor, Identity, find_contact
from helpdesk.tickets.contacts import find_or_create_contact
from helpdesk.tickets.uow import unit_of_work
from triage.text import normalize

# Twilio's standard opt-out / opt-in keywords, plus Serbian ones (folded: lower-case, Latin, no
# diacritics), compared against the whole message body only.
STOP_WORDS = frozenset(
    {
        "stop",
        "stopall",
        "unsubscribe",
        "cancel",
        "end",
        "quit",
        "revoke",
        "optout",
        "odjava",
        "odjavi",
        "prekid",
        "stop sms",
    }
)
START_WORDS = frozenset({"start", "yes", "unstop", "subscribe", "optin", "prijava", "start sms"})

CONFIRM = {
    "stop": {
        "sr": "Odjavljeni ste i više nećete dobijati SMS poruke od nas. Za ponovnu prijavu pošaljite START.",
        "en": "You are unsubscribed and will receive no more SMS from us. Send START to resubscribe.",
    },
    "start": {
        "sr": "Ponovo ste prijavljeni na SMS poruke. Za odjavu pošaljite STOP.",
        "en": "You are subscribed to SMS again. Send STOP to unsubscribe.",
    },
}


def keyword(body: str) -> str | None:
    """'stop', 'start' or None for an ordinary message."""
    words = " ".join(normalize(body).strip(" .!").split())
    if words in STOP_WORDS:
        return "stop"
    if words in START_WORDS:
        return "start"
    return None


def is_opted_out(services: Services, e164: str) -> bool:
    with services.db.session() as session:
        contact = find_contact(session, Identity("phone", e164))
        return bool(contact is not None and contact.sms_opt_out)


def set_opted_out(services: Services, e164: str, opted_out: bool) -> str | None:
    """Record STOP (True) or START (False); returns the contact's language for the confirmation."""
    with unit_of_work(services) as uow:
        contact, _ = find_or_create_contact(uow.session, Identity("phone", e164))
        before = contact.sms_opt_out
        if before != opted_out:
            contact.sms_opt_out = opted_out
            uow.audit(
                Actor.contact(contact.id),
                "contact.sms_opt_out",
                before={"sms_opt_out": before},
                after={"sms_opt_out": opted_out},
                subject_id=contact.id,
            )
        return contact.language

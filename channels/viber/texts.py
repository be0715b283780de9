"""What the Viber bot says by itself: the welcome with its language buttons, confirmations,
acknowledgements and surveys, in Serbian (Latin, Cyrillic derived) and English."""

from __future__ import annotations

from typing import Any

from helpdesk.outbound import Envelope
from triage.text import to_cyrillic

MAX_TEXT = 7000  # Viber's limit for one text message
LANGUAGE_PREFIX = "lang:"  # the ActionBody of a language button, sent back as the user's message

# Before the choice we do not know the language: the welcome says it in both.
WELCOME = (
    "Dobro došli u kontakt centar. Izaberite jezik, pa nam napišite pitanje.\n"
    "Welcome to the contact centre. Choose your language, then write your question."
)
BUTTONS = (("sr-Latn", "Srpski (latinica)"), ("sr-Cyrl", "Српски (ћирилица)"), ("en", "English"))

TEXTS: dict[str, dict[str, str]] = {
    "chosen": {
        "sr": "Hvala. Napišite nam pitanje ovde i odgovorićemo vam u ovoj prepisci.",
        "en": "Thank you. Write your question here and we will answer in this conversation.",
    },
    "ack": {
        "sr": "Primili smo vaš zahtev {ref}. Odgovorićemo vam ovde što pre.",
        "en": "We received your request {ref} and will answer here as soon as we can.",
    },
    "survey": {
        "sr": "Vaš zahtev {ref} je rešen. Ocenite našu pomoć: {link}",
        "en": "Your request {ref} is resolved. Please rate our help: {link}",
    },
}


def keyboard() -> dict[str, Any]:
    """Three buttons in one row; Silent: the choice is not echoed as a chat bubble."""
    return {
        "Type": "keyboard",
        "DefaultHeight": False,
        "InputFieldState": "regular",
        "Buttons": [
            {
                "Columns": 2,
                "Rows": 1,
                "ActionType": "reply",
                "ActionBody": LANGUAGE_PREFIX + code,
                "Text": label,
                "Silent": True,
            }
            for code, label in BUTTONS
        ],
    }


def welcome(sender_name: str) -> dict[str, Any]:
    """The conversation_started answer: Viber shows it once, without a receiver."""
    return {
        "sender": {"name": sender_name},
        "type": "text",
        "text": WELCOME,
        "keyboard": keyboard(),
    }


def language_choice(text: str) -> str | None:
    """'sr-Latn', 'sr-Cyrl' or 'en' when the message is a language button, else None."""
    text = text.strip()
    if not text.startswith(LANGUAGE_PREFIX):
        return None
    code = text[len(LANGUAGE_PREFIX) :]
    return code if code in {c for c, _ in BUTTONS} else None


def localized(key: str, language: str, script: str, **values: str) -> str:
    template = TEXTS[key]["en" if language == "en" else "sr"]
    if language != "en" and script == "cyrl":
        # Transliterated before the values go in (to_cyrillic keeps {placeholders}): the
        # reference and the link stay Latin, the citizen types or taps them.
        template = to_cyrillic(template)
    return template.format(**values)


def body(envelope: Envelope) -> str:
    """The text for each outbox kind; a reply ends with the signature and the reference."""
    ref = envelope.ticket_reference
    if envelope.kind == "ack":
        return localized("ack", envelope.language, envelope.script, ref=ref)
    if envelope.kind == "survey" and envelope.links.get("survey"):
        return localized("survey", envelope.language, envelope.script, ref=ref, link=envelope.links["survey"])
    text = envelope.text.strip()
    if not text:
        return ""
    parts = [text]
    if envelope.signature.strip():
        parts.append(envelope.signature.strip())
    parts.append(f"[{ref}]")
    out = "\n\n".join(parts)
    if len(out) > MAX_TEXT:
        out = out[: MAX_TEXT - 2].rstrip() + " …"
    return out

"""The survey invitation in the citizen's language and script, for senders that write their own text.

Email and chat senders can call `survey_invitation(envelope)` for an envelope of kind "survey"
(the phone sender has its own short SMS wording).
"""

from __future__ import annotations

from helpdesk.outbound import Envelope
from triage.text import to_cyrillic

TEXT = {
    "sr": (
        "Poštovani,\n\nvaš zahtev {ref} je rešen. Koliko ste zadovoljni odgovorom? "
        "Jedno pitanje, ocena od 1 do 5:\n{link}\n\nHvala,\nCentar za podršku"
    ),
    "en": (
        "Hello,\n\nyour request {ref} has been resolved. How satisfied are you with the answer? "
        "One question, a score from 1 to 5:\n{link}\n\nThank you,\nSupport Center"
    ),
}


def survey_invitation(envelope: Envelope) -> str:
    language = "en" if envelope.language == "en" else "sr"
    text = TEXT[language]
    if language == "sr" and envelope.script == "cyrl":
        text = to_cyrillic(text)
    # Fill the placeholders after transliterating, so the reference and link stay Latin.
    return text.format(ref=envelope.ticket_reference, link=envelope.links.get("survey", ""))

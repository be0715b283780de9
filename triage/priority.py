"""Priority and complaint cues, read from normalized text (any script, with or without diacritics).

Rules, not a model: the cues are few, an office can read and change them, and a wrong
"urgent" is cheap to fix by hand while a missed legal deadline is not.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from triage.text import normalize

Priority = Literal["low", "normal", "high", "urgent"]


def _rx(*patterns: str) -> re.Pattern[str]:
    # Patterns are written in normalized form (Latin, lower case, folded: c s z dj).
    return re.compile(r"\b(?:" + "|".join(patterns) + r")", re.IGNORECASE)


# Explicit urgency: the citizen says it cannot wait.
_URGENT = _rx(
    r"hitn[oaie]", r"urgent", r"asap\b", r"odmah\b", r"sto pre\b", r"as soon as possible",
    r"immediately", r"emergenc", r"hitan\b", r"zivotno ugrozen", r"life.threatening",
)  # fmt: skip
# Legal terms: lawsuits, courts, deadlines set by law, the ombudsman, data-protection authority.
_LEGAL = _rx(
    r"advokat", r"lawyer", r"attorney", r"sud\b", r"suda\b", r"sudu\b", r"sudsk", r"court",
    r"tuzb", r"tuzi(?:cu|m|ti)", r"lawsuit", r"sue\b", r"legal action", r"pravn[aeiou] lek",
    r"zastitnik gradjana", r"ombudsman", r"povereni(?:k|ka|ku) za informacije",
    r"krivicn", r"prijav(?:u|a|iti) policiji", r"gdpr", r"zakon o zastiti podataka",
    r"inspekcij", r"zalb(?:a|u|e|om)", r"appeal",
)  # fmt: skip
# Deadlines and time pressure.
_DEADLINE = _rx(
    r"rok\w*", r"deadline", r"istic\w*", r"istek\w*", r"expir\w*", r"do sutra",
    r"due (?:date|today|tomorrow|by)", r"danas\b", r"sutra\b", r"today", r"tomorrow",
    r"tonight", r"veceras", r"penal\w*", r"kazn\w*", r"(?:a|the) fine\b", r"fined\b",
    r"late fee", r"zakasn\w*", r"putujem", r"travel(?:ling|ing)? ", r"flight",
    r"operacij\w*", r"surgery",
)  # fmt: skip
# Low priority: general questions, feedback, suggestions.
_LOW = _rx(
    r"sugestij", r"predlog", r"suggestion", r"feedback", r"just (?:wondering|curious)",
    r"samo (?:me )?zanima", r"pohval", r"compliment", r"radoznal",
)  # fmt: skip
# Complaints about service or staff (also when the model files them elsewhere).
_COMPLAINT = _rx(
    r"zalb", r"prigovor", r"nezadovolj", r"complain", r"complaint", r"unacceptable",
    r"neprihvatljiv", r"sramot", r"bruka", r"skandal", r"disgrace", r"outrage",
    r"nepristojn", r"bezobraz", r"rude\b", r"los(?:a|e|u)? uslug", r"poor service",
    r"terrible service", r"uzasn", r"horrible", r"ignori(?:su|se|sete|sali|ed|ng)",
    r"niko (?:mi )?ne odgovara", r"no one (?:answers|responds|replied)",
)  # fmt: skip


@dataclass(frozen=True)
class Cues:
    """What the rules saw; `priority` is the combined verdict."""

    priority: Priority
    complaint: bool
    urgent: bool
    legal: bool
    deadline: bool


def assess(text: str, category: str | None = None) -> Cues:
    """Priority from urgency, legal and deadline cues; a complaint flag.

    urgent: explicit urgency together with a legal term or a deadline.
    high: any one of explicit urgency, a legal term, a deadline.
    low: a suggestion or feedback with no pressure; normal otherwise.
    """
    norm = normalize(text)
    urgent = bool(_URGENT.search(norm))
    legal = bool(_LEGAL.search(norm))
    deadline = bool(_DEADLINE.search(norm))
    complaint = category == "complaints" or bool(_COMPLAINT.search(norm))
    priority: Priority
    if urgent and (legal or deadline):
        priority = "urgent"
    elif urgent or legal or deadline:
        priority = "high"
    elif _LOW.search(norm):
        priority = "low"
    else:
        priority = "normal"
    return Cues(priority=priority, complaint=complaint, urgent=urgent, legal=legal, deadline=deadline)

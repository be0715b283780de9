"""Phone numbers in one shape (E.164), so a caller is found whether they dial 064... or +381..."""

from __future__ import annotations

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberType

DEFAULT_REGION = "RS"
# What Twilio sends for callers who withhold their number.
_ANONYMOUS = {"", "anonymous", "restricted", "unknown", "private", "+266696687", "+7378742833"}


def to_e164(raw: str | None, region: str = DEFAULT_REGION) -> str | None:
    """'064 123 4567', '+381 64 1234567', '00381641234567' -> '+381641234567'; None if unusable.

    A possible (not necessarily allocated) number is accepted: numbering plans change faster than
    the library, and refusing a real citizen's number is worse than storing an odd one.
    """
    if raw is None:
        return None
    text = raw.strip()
    if text.lower() in _ANONYMOUS or text.startswith("client:"):
        return None
    if text.startswith("00"):
        text = "+" + text[2:]
    try:
        number = phonenumbers.parse(text, region)
    except NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def can_receive_sms(e164: str) -> bool:
    """False for numbers known to be fixed lines; unknown types get the benefit of the doubt."""
    try:
        number = phonenumbers.parse(e164, None)
    except NumberParseException:
        return False
    kind = phonenumbers.number_type(number)
    return kind not in (
        PhoneNumberType.FIXED_LINE,
        PhoneNumberType.TOLL_FREE,
        PhoneNumberType.PREMIUM_RATE,
        PhoneNumberType.SHARED_COST,
    )

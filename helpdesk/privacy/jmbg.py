"""JMBG (jedinstveni matični broj građana): recognition and masking, the one function for all.

A JMBG is 13 digits DDMMYYYRRBBBK: date of birth (YYY: the last three digits of the year),
region RR, serial BBB and a mod-11 check digit K. Only a number that passes the checksum, carries a
real calendar date and a region in use is treated as one, so an order number or a mistyped
number stays readable. Every renderer, index writer, exporter and logger masks through ``mask``
(or stores text already masked by it), so a rule changed here changes everywhere.
"""

from __future__ import annotations

import email
import re
from collections.abc import Iterator
from datetime import date
from email.header import decode_header

# 13 digits not inside a longer run of digits (a 16-digit card number holds no JMBG).
RUN = re.compile(r"(?<!\d)\d{13}(?!\d)")
# Digits as b"1", anything else as b"0": runs of digits are found with bytes.find, ten times
# faster than a regular expression over a large binary file (a 5 MiB scan: ~30 ms, not ~400).
_DIGIT_MASK = bytes(0x31 if 0x30 <= b <= 0x39 else 0x30 for b in range(256))
_THIRTEEN = b"1" * 13
# A mail (or a mail forwarded as a file): header lines, then a blank line.
_MAIL_START = re.compile(rb"\A(?:[!-9;-~]+:[^\n]*\n(?:[ \t][^\n]*\n)*)+\r?\n")
_ENCODED = re.compile(rb"base64|quoted-printable|=\?", re.IGNORECASE)
_WEIGHTS = (7, 6, 5, 4, 3, 2, 7, 6, 5, 4, 3, 2)
MASK_CHAR = "\u2022"  # •
KEEP = 7  # the date of birth stays readable: enough to tell two citizens' numbers apart

# Region codes (digits 8-9) of the federal regulation that introduced the JMBG (1976), as listed
# in its public descriptions: 00-09 foreigners and naturalized citizens without a republic's
# citizenship, 10-19 Bosnia and Herzegovina, 21-29 Montenegro (20 never used), 30-39 Croatia,
# 41-49 Macedonia (40 never used), 50-59 Slovenia, 60-69 temporary residence (issued by Serbia's
# police for temporary residence permits), 70-79 central Serbia, 80-89 Vojvodina, 90-99 Kosovo
# and Metohija. So only 20 and 40 are impossible.
_UNUSED_REGIONS = frozenset({20, 40})


def birth_date(number: str) -> date | None:
    """The date of birth a 13-digit number carries, or None when it is no calendar date."""
    day, month, year3 = int(number[0:2]), int(number[2:4]), int(number[4:7])
    # YYY is the year without its first digit: 990 is 1990, 005 is 2005 (800-999: 1800-1999).
    year = 1000 + year3 if year3 >= 800 else 2000 + year3
    try:
        born = date(year, month, day)
    except ValueError:
        return None
    return born if born <= date.today() else None  # nobody was born in the future


def check_digit(first12: str) -> int:
    """The control digit of the first 12 digits (official mod-11 rule: 10 and 11 give 0)."""
    m = 11 - sum(w * int(d) for w, d in zip(_WEIGHTS, first12, strict=True)) % 11
    return 0 if m > 9 else m


def is_valid(number: str) -> bool:
    """True for 13 digits with the right check digit, a real date of birth and a used region."""
    if len(number) != 13 or not number.isascii() or not number.isdigit():
        return False
    if check_digit(number[:12]) != int(number[12]):
        return False
    return birth_date(number) is not None and int(number[7:9]) not in _UNUSED_REGIONS


def find(text: str | None) -> list[str]:
    """Every valid JMBG in the text, in order of appearance, each once."""
    found: list[str] = []
    for match in RUN.finditer(text or ""):
        number = match.group()
        if number not in found and is_valid(number):
            found.append(number)
    return found


def masked(number: str) -> str:
    """0101990710008 -> 0101990••••••"""
    return number[:KEEP] + MASK_CHAR * (len(number) - KEEP)


def mask(text: str) -> str:
    """The text with every valid JMBG masked; anything else (a bad checksum too) left alone."""
    return RUN.sub(lambda m: masked(m.group()) if is_valid(m.group()) else m.group(), text)


def mask_optional(text: str | None) -> str | None:
    return None if text is None else mask(text)


def in_bytes(data: bytes) -> bool:
    """Whether a stored file (an attachment, a raw mail) holds a valid JMBG: in clear in any
    ASCII-compatible encoding, in UTF-16 text (Notepad's "Unicode"), or in a mail's headers and
    parts once their base64, quoted-printable or RFC 2047 encoding is undone. Compressed formats
    (ZIP, DOCX, most PDFs) and pictures are not read."""
    return any(is_valid(run) for text in _readings(data) for run in _runs_of_13(text))


def _runs_of_13(data: bytes) -> Iterator[str]:
    """Every run of exactly 13 digits (not part of a longer one)."""
    mask = data.translate(_DIGIT_MASK)
    start = mask.find(_THIRTEEN)
    while start != -1:  # the leftmost match after a non-digit: a run starts here
        end = start + 13
        while end < len(mask) and mask[end] == 0x31:
            end += 1
        if end - start == 13:
            yield data[start:end].decode()
        start = mask.find(_THIRTEEN, end)


def _readings(data: bytes) -> Iterator[bytes]:
    yield data
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        yield data.decode("utf-16", "replace").encode("utf-8", "replace")
    if _MAIL_START.match(data) and _ENCODED.search(data):
        yield from _mail_readings(data)


def _mail_readings(data: bytes) -> Iterator[bytes]:
    message = email.message_from_bytes(data)  # compat32: tolerant, and nothing is re-encoded
    for part in message.walk():
        for value in part.values():
            # Digits are ASCII in every charset a header is written in: the bytes will do.
            for chunk, _charset in decode_header(str(value)):
                if isinstance(chunk, bytes):
                    yield chunk
        payload = part.get_payload(decode=True)
        if isinstance(payload, bytes):
            yield from _readings(payload)

"""Strip quoted text and signatures from a plain-text reply.

The line-marking approach follows mailgun/talon (Apache-2.0): every line is marked e(mpty),
m(arker ``>``), s(plitter such as "On ... wrote:") or t(ext), and patterns over that string of
marks find the quotation, so a reply written above *or* below the quote is kept and an inline
reply (text between quote blocks) is left whole. Splitters cover English, Serbian (Latin and
Cyrillic), Russian and German clients. The agent can always open the full original.
"""

from __future__ import annotations

import re

_MAX_LINES = 1000
_WRAP = r"[^\n]{0,300}?(?:\n[^\n]{0,300}?)?"  # a splitter line may be wrapped once
_SPLITTERS = [
    # "On Mon, Apr 2, 2012 at 6:26 PM, Megan <x@y> wrote:"
    r"-*>?[ ]?(On|Le|W dniu|Op|Am|Em|El|Il|Dana|Дана|Dne|Den)\s"
    + _WRAP
    + r"(wrote|writes|a écrit|napisał|schreef|schrieb|escreveu|escribió|scrisse|"
    r"(je )?napisa(o|la|li|le)|(је )?написа(о|ла|ли|ле)|napsal|skrev)\s?:",
    # "02.04.2012 14:20 пользователь "bob" <bob@x> написал:" and Serbian/English variants
    r"\d{1,4}[./-]\d{1,2}[./-]\d{1,4},?\s"
    + _WRAP
    + r"(написал|написао|написала|napisao|napisala|je napisa(o|la)|wrote)\s?:",
    r"\S+@\S+\s(wrote|napisao|napisala|написао|написала|написал)\s?:",
    # Outlook and webmail headers of the quoted message
    r"-{2,}\s*(Original Message|Originalna poruka|Оригинална порука|Исходное сообщение|"
    r"Ursprüngliche Nachricht|Forwarded message|Prosleđena poruka)\s*-{2,}",
    r"_{20,}\s*$",
    r"\*?(From|Od|Од|Von|De|От)\s?:\*?[^\n]*\n\s*\*?(Sent|Poslato|Послато|Gesendet|Date|Datum|"
    r"Датум|Envoyé|Отправлено)\s?:",
    r"(From|Od|Од)\s?:[^\n]*\n\s*(To|Za|За)\s?:[^\n]*\n\s*(Sent|Date|Datum|Poslato)\s?:",
]
_SPLITTER = re.compile("|".join(rf"^[ \t]*(?:{p})" for p in _SPLITTERS), re.I | re.M)
_QUOT_MARK = re.compile(r"^\s?>")
_LINK_PAREN = re.compile(r"<(https?|mailto):[^>]*>")


def strip_quotes(text: str) -> str:
    """The newest part of a reply: quoted earlier messages removed (talon's extract_from_plain)."""
    text = text.replace("\r\n", "\n")
    lines = text.split("\n")
    if len(lines) > _MAX_LINES:
        return text.strip()
    markers = _mark_lines(lines)
    kept = _process_marked_lines(lines, markers)
    result = "\n".join(kept).strip()
    return result or text.strip()


def _mark_lines(lines: list[str]) -> str:
    marks = ["t"] * len(lines)
    for i, line in enumerate(lines):
        if not line.strip():
            marks[i] = "e"
        elif _QUOT_MARK.match(line):
            marks[i] = "m"
    # A splitter may wrap: search the joined text and mark every line it covers.
    joined = "\n".join(lines)
    starts = _line_starts(lines)
    for match in _SPLITTER.finditer(joined):
        first = _line_of(starts, match.start())
        last = _line_of(starts, max(match.start(), match.end() - 1))
        if _QUOT_MARK.match(lines[first]) and marks[first] == "m":
            continue  # a splitter inside a quote belongs to the quote
        for j in range(first, last + 1):
            marks[j] = "s"
    return "".join(marks)


def _line_starts(lines: list[str]) -> list[int]:
    starts, pos = [], 0
    for line in lines:
        starts.append(pos)
        pos += len(line) + 1
    return starts


def _line_of(starts: list[int], offset: int) -> int:
    lo, hi = 0, len(starts) - 1
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if starts[mid] <= offset:
            lo = mid
        else:
            hi = mid - 1
    return lo


def _process_marked_lines(lines: list[str], markers: str) -> list[str]:
    # Without a splitter, a couple of ">" lines may just be text (a quoted line of law, say).
    if "s" not in markers and not re.search(r"(me*){3}", markers):
        markers = markers.replace("m", "t")
    # Text between quote blocks is an inline reply: keep everything rather than cut answers.
    for inline in re.finditer(r"(?<=m)e*(t[te]*)m", markers):
        before = lines[inline.start() - 1] if inline.start() else ""
        if not (_LINK_PAREN.search(before) or _LINK_PAREN.match(lines[inline.start()].strip())):
            return lines
    # A quote that runs to the end, maybe followed by a list footer ("____\nriak-users ..."):
    # cut from its start.
    quotation = re.match(r"[te]*?((?:s|(?:me*){2,})[mse]*)(?:s[te]*)?$", markers)
    if quotation:
        return lines[: quotation.start(1)]
    # Splitter followed by unmarked text (Outlook style): cut from the splitter to the end.
    quotation = re.search(r"(se*)+(t+e*)+", markers)
    if quotation:
        return lines[: quotation.start()]
    quotation = re.search(r"((?:s|(?:me*){2,}).*me*)[te]*$", markers) or re.search(
        r"((?:(?:se*)+|(?:me*){2,}))e*$", markers
    )
    if quotation:
        return lines[: quotation.start(1)] + lines[quotation.end(1) :]
    return lines


_SIG_DELIMITER = re.compile(r"^(-- ?|--|\s*-{4,}|\s*_{4,}|\s*={4,})\s*$")
_MOBILE = re.compile(
    r"^\s*(sent (from|with|via) (my )?\S|poslato (sa|s|preko) (mog|moj)|послато (са|с) мог|"
    r"отправлено с |get outlook for|envoyé de mon|von meinem)",
    re.I,
)
_VALEDICTION = re.compile(
    r"^\s*(thanks?( you)?( very much| a lot)?|many thanks|regards|best( regards| wishes)?|"
    r"kind regards|sincerely|cheers|pozdrav|srda[cč]an pozdrav|lep pozdrav|s po[sš]tovanjem|"
    r"hvala( unapred)?|поздрав|срдачан поздрав|с поштовањем|хвала( унапред)?|с уважением)"
    r"[\s,.!]*$",
    re.I,
)
_CONTACT = re.compile(
    r"(@|https?://|www\.|\+?\(?\d[\d\s()./-]{6,}\d|^\s*(tel|phone|fax|mob|skype|t|f|m)[.:])", re.I
)
_SIG_WINDOW = 15


def strip_signature(text: str, sender_name: str | None = None) -> str:
    """Remove a trailing signature; returns ``text`` unchanged when unsure."""
    lines = text.rstrip().split("\n")
    window = _window_start(lines)
    cut = _find_signature(lines, window, sender_name)
    if cut is None or cut == 0:
        return text.strip()
    body = "\n".join(lines[:cut]).strip()
    return body or text.strip()


def _window_start(lines: list[str]) -> int:
    """Index where the last _SIG_WINDOW non-empty lines begin."""
    seen = 0
    for i in range(len(lines) - 1, -1, -1):
        if lines[i].strip():
            seen += 1
            if seen == _SIG_WINDOW:
                return i
    return 0


def _find_signature(lines: list[str], window: int, sender_name: str | None) -> int | None:
    for i in range(window, len(lines)):
        line = lines[i].strip()
        if _SIG_DELIMITER.match(lines[i]) or _MOBILE.match(line):
            return i
    names = _name_parts(sender_name)
    for i in range(window, len(lines)):
        line = lines[i].strip()
        rest = [x.strip() for x in lines[i + 1 :] if x.strip()]
        short_tail = len(rest) <= 6 and all(len(x) < 60 for x in rest)
        if _VALEDICTION.match(line) and short_tail:
            return i
        if names and line and len(line) < 60 and short_tail and _is_name_line(line, names):
            if all(_CONTACT.search(x) or len(x) < 40 for x in rest):
                return i
    return None


def _name_parts(sender_name: str | None) -> set[str]:
    if not sender_name:
        return set()
    name = sender_name.split("@", 1)[0] if "@" in sender_name else sender_name
    return {p.lower() for p in re.split(r"[\s,._-]+", name) if len(p) > 1}


def _is_name_line(line: str, names: set[str]) -> bool:
    words = [w.lower() for w in re.split(r"[\s,.]+", line.lstrip("-– ")) if w]
    return bool(words) and len(words) <= 5 and any(w in names for w in words)


def extract_reply(text: str, sender_name: str | None = None) -> str:
    """What the citizen wrote this time: quotes removed, then the signature."""
    return strip_signature(strip_quotes(text), sender_name)

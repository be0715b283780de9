"""Raw RFC 5322 bytes -> a ParsedEmail, for any charset and any amount of brokenness.

The standard library (``policy.default``) does the MIME work. Everything that can raise on real
mail (header parsing, unknown charsets, bad base64) is caught here and degraded to a best effort,
because a mail we cannot read perfectly must still become a ticket, not an SMTP error.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.header import decode_header, make_header
from email.message import EmailMessage, Message
from email.parser import BytesParser
from email.utils import getaddresses, parsedate_to_datetime

from channels.email.charsets import (
    _SURROGATES,
    LEGACY_HEADER_CODEC,
    codec_for,
    decode_8bit,
    decode_bytes,
)
from channels.email.html import html_to_text, sanitize_html
from channels.email.mail_policy import MAIL_POLICY

_MSGID = re.compile(r"<([^<>\s]+)>")
MAX_HEADER_CHARS = 16_384
MAX_PARTS = 200  # leaf parts read from one mail (text, HTML, attachments)
MAX_DEPTH = 20  # multipart nesting
# The stdlib parser recurses once per nesting level (RecursionError near 1,000) and slows down
# quadratically long before (500 levels take seconds). A mail declaring more multipart boundaries
# than any real one does is read for its headers only; its raw original is kept with the ticket.
MAX_BOUNDARIES = 64
_BOUNDARY = re.compile(rb"boundary\s*=", re.I)
_ANGLE_ADDR = re.compile(r"<\s*([^<>\s\"]+@[^<>\s\"]+)\s*>")


@dataclass(frozen=True)
class ParsedAttachment:
    filename: str
    content_type: str
    data: bytes
    inline: bool = False
    content_id: str | None = None

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


@dataclass
class ParsedEmail:
    message: EmailMessage
    message_id: str | None
    in_reply_to: tuple[str, ...]
    references: tuple[str, ...]
    subject: str
    from_name: str | None
    from_address: str | None
    to: tuple[str, ...]
    cc: tuple[str, ...]
    date: datetime | None
    text: str
    html: str | None  # sanitized
    attachments: list[ParsedAttachment] = field(default_factory=list)
    defects: int = 0
    structure_unread: bool = False  # too deeply nested to read: only the headers were

    @property
    def thread_ids(self) -> tuple[str, ...]:
        """Every Message-ID this mail says it answers, nearest first."""
        seen: dict[str, None] = {}
        for mid in (*self.in_reply_to, *reversed(self.references)):
            seen.setdefault(mid, None)
        return tuple(seen)


def parse_message(raw: bytes) -> ParsedEmail:
    msg, unread = _parse_structure(raw)
    _repair_8bit_headers(msg, _legacy_codec(msg))
    name, address = sender_of(msg)
    texts: list[str] = []
    htmls: list[str] = []
    attachments: list[ParsedAttachment] = []
    if unread:
        texts.append(_unread_body_text(msg))
    for count, part in enumerate(() if unread else _leaves(msg)):
        if count >= MAX_PARTS:  # a mail bomb of nested parts: the rest stays in the raw mail
            break
        _repair_8bit_headers(part, _legacy_codec(part))
        _collect(part, texts, htmls, attachments)
    raw_html = "\n".join(htmls) if htmls else None
    html = sanitize_html(raw_html) if raw_html else None
    text = "\n\n".join(t.strip("\n") for t in texts if t.strip())
    if not text and raw_html:
        text = html_to_text(raw_html)
    return ParsedEmail(
        message=msg,
        message_id=first_message_id(header(msg, "Message-ID")),
        in_reply_to=message_ids(header(msg, "In-Reply-To")),
        references=message_ids(header(msg, "References")),
        subject=_one_line(header(msg, "Subject")),
        from_name=name,
        from_address=address,
        to=_addresses(msg, "To"),
        cc=_addresses(msg, "Cc"),
        date=_date(msg),
        text=text.replace("\r\n", "\n"),
        html=html,
        attachments=attachments,
        defects=len(msg.defects) + (0 if unread else sum(len(p.defects) for p in msg.walk())),
        structure_unread=unread,
    )


def header_sender(raw: bytes) -> str | None:
    """The From (then Sender) address of a raw mail, reading only its header block (cheap)."""
    ends = [i for i in (raw.find(b"\r\n\r\n"), raw.find(b"\n\n")) if i >= 0]
    head = raw[: min(ends) + 2] if ends else raw
    msg = BytesParser(policy=MAIL_POLICY).parsebytes(head, headersonly=True)
    _repair_8bit_headers(msg, _legacy_codec(msg))
    return sender_of(msg)[1]


def _parse_structure(raw: bytes) -> tuple[EmailMessage, bool]:
    """The parsed mail, and whether its MIME structure was left unread (pathological nesting)."""
    if len(_BOUNDARY.findall(raw)) <= MAX_BOUNDARIES:
        try:
            msg = message_from_bytes(raw, policy=MAIL_POLICY)
            assert isinstance(msg, EmailMessage)  # MAIL_POLICY (policy.default) always builds EmailMessage
            return msg, False
        except RecursionError:
            pass  # deeper than the stdlib can go: read the headers alone below
    head = BytesParser(policy=MAIL_POLICY).parsebytes(raw, headersonly=True)
    assert isinstance(head, EmailMessage)
    return head, True


def _unread_body_text(msg: EmailMessage) -> str:
    """What a person can read of a mail whose structure we refused to walk: its first text lines."""
    body = msg.get_payload()
    lines = body.splitlines() if isinstance(body, str) else []
    readable = [ln for ln in lines if ln.strip() and not ln.startswith(("--", "Content-"))][:50]
    text = decode_bytes("\n".join(readable).encode("utf-8", "surrogateescape"), None)
    note = "[The MIME structure of this mail is nested too deeply to read; the original is attached.]"
    return f"{note}\n\n{text}".strip()


def _legacy_codec(part: Message) -> str:
    """The codec for raw 8-bit header bytes that are not UTF-8: the part's declared charset, if any."""
    charset = part.get_content_charset() if _safe_ctype(part) else None
    codec = codec_for(charset)
    return codec if codec and codec not in ("ascii", "utf-8") else LEGACY_HEADER_CODEC


def _safe_ctype(part: Message) -> bool:
    try:
        part.get_content_type()
        return True
    except Exception:  # noqa: BLE001 - a Content-Type the header parser chokes on
        return False


def _repair_8bit_headers(part: Message, legacy: str) -> None:
    """Decode every raw 8-bit header of the part in place, keeping the headers' order."""
    items = list(part.raw_items()) if isinstance(part, EmailMessage) else list(part.items())
    if not any(_SURROGATES.search(str(value)) for _, value in items):
        return
    for name in {key.lower() for key, _ in items}:
        del part[name]
    for key, value in items:
        part.set_raw(key, decode_8bit(str(value), legacy))


def header(msg: Message, name: str) -> str:
    """A header's decoded value, '' when absent; never raises on malformed encoded words."""
    raw = raw_header(msg, name)
    if len(raw) > MAX_HEADER_CHARS:
        # The stdlib header parser is superlinear on huge headers (200 KB of encoded words takes
        # seconds): such a header is spam or an attack, so only its start is read.
        return decode_words(raw[:MAX_HEADER_CHARS])
    try:
        value = msg.get(name)
        return "" if value is None else str(value)
    except Exception:  # noqa: BLE001, S110 - the header parser raises many types on broken input
        pass  # fall back to the raw value below
    for key, raw in msg.raw_items() if isinstance(msg, EmailMessage) else msg.items():
        if key.lower() == name.lower():
            return decode_words(str(raw))
    return ""


def decode_words(value: str) -> str:
    try:
        return str(make_header(decode_header(value)))
    except Exception:  # noqa: BLE001 - unknown charset or broken encoded word: keep the raw text
        return value


def message_ids(value: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(m.lower() for m in _MSGID.findall(value or "")))


def first_message_id(value: str) -> str | None:
    ids = message_ids(value)
    if ids:
        return ids[0]
    bare = (value or "").strip()
    return bare.lower() if bare and " " not in bare and "@" in bare else None


def _one_line(value: str) -> str:
    return re.sub(r"\s+", " ", value).strip()


def raw_header(msg: Message, name: str) -> str:
    """A header as it came, encoded words not decoded.

    Addresses are read from this: an encoded word may hide "CRLF Bcc: x@y" or a second address
    in a display name, and parsing the decoded text would take it for the sender.
    """
    pairs = msg.raw_items() if isinstance(msg, EmailMessage) else msg.items()
    for key, raw in pairs:
        if key.lower() == name.lower():
            return re.sub(r"\r?\n[ \t]*", " ", str(raw))
    return ""


def sender_of(msg: Message) -> tuple[str | None, str | None]:
    """The author's display name and address from From (then Sender), or (None, None).

    The standard library's header registry parses the mailbox, so the address is the addr-spec
    (``victim@gov.example <attacker@example.org>`` is attacker@example.org, never the display
    text). An address that no reply could reach (``xxxxx@xxxxx``, ``Big Bug bb@bug.com``) counts
    as none: the caller falls back to the envelope sender.
    """
    for name in ("From", "Sender"):
        found = _mailbox(msg, name)
        if found[1]:
            return found
    return None, None


def _mailbox(msg: Message, name: str) -> tuple[str | None, str | None]:
    raw = raw_header(msg, name)
    if not raw.strip() or len(raw) > MAX_HEADER_CHARS:
        return None, None
    try:
        value = msg.get(name)
        addresses = list(getattr(value, "addresses", ()))
        broken = any(type(d).__name__ == "InvalidHeaderDefect" for d in getattr(value, "defects", ()))
    except Exception:  # noqa: BLE001 - the header parser raises many types on broken input
        addresses, broken = [], True
    if not broken:
        for address in addresses:
            spec = usable_address(address.addr_spec)
            if spec:
                return _display(address.display_name), spec
    # A malformed header: trust only an unambiguous angle-addr, the part that names the mailbox.
    angles = _ANGLE_ADDR.findall(re.sub(r'"(?:[^"\\]|\\.)*"', '""', raw))
    spec = usable_address(angles[0]) if len(set(angles)) == 1 else None
    if spec:
        return _display(decode_words(raw.split("<", 1)[0]).strip().strip('"')), spec
    return None, None


def usable_address(value: str | None) -> str | None:
    """The lowercased addr-spec if a reply could be delivered to it, else None."""
    spec = (value or "").strip().strip("<>").strip()
    local, at, domain = spec.rpartition("@")
    # Checked by hand, not by headerregistry.Address: that refuses the non-ASCII local parts
    # which RFC 6531 (SMTPUTF8) mail may carry.
    if not at or not local or "." not in domain.strip(".") or domain.startswith("."):
        return None
    if any(c in spec for c in ' "\\()<>,;[]') or spec.count("@") != 1:
        return None
    if _SURROGATES.search(spec) or any(ord(c) < 33 for c in spec):
        return None
    return spec.lower()


def _display(name: str | None) -> str | None:
    """A display name to show, None when it is empty or poses as an address."""
    text = _one_line(name or "")
    return None if not text or "@" in text else text[:200]


def _addresses(msg: EmailMessage, name: str) -> tuple[str, ...]:
    value = raw_header(msg, name)
    return tuple(a.lower() for _, a in getaddresses([value]) if "@" in a)


def _date(msg: EmailMessage) -> datetime | None:
    try:
        value = parsedate_to_datetime(header(msg, "Date"))
    except (TypeError, ValueError, IndexError):
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _leaves(msg: Message, depth: int = 0) -> Iterator[Message]:
    """Leaf parts in order, without descending into attached mails (message/rfc822)."""
    if msg.is_multipart() and msg.get_content_maintype() != "message":
        payload = msg.get_payload()
        if isinstance(payload, list) and depth < MAX_DEPTH:
            for sub in payload:
                if isinstance(sub, Message):
                    yield from _leaves(sub, depth + 1)
        return
    yield msg


def _collect(part: Message, texts: list[str], htmls: list[str], attachments: list[ParsedAttachment]) -> None:
    ctype = part.get_content_type()
    disposition = (part.get_content_disposition() or "").lower()
    filename = _filename(part)
    if part.get_content_maintype() == "multipart":  # broken (no boundary): read it as text
        texts.append(decode_bytes(_payload_bytes(part), part.get_content_charset()))
        return
    if ctype in ("text/plain", "text/html") and disposition != "attachment" and not filename:
        (texts if ctype == "text/plain" else htmls).append(decoded_text(part))
        return
    if ctype == "message/rfc822" or part.get_content_maintype() == "message":
        data = _message_bytes(part)
    else:
        data = _payload_bytes(part)
    if not data and not filename:
        return
    content_id = _MSGID.findall(header(part, "Content-ID"))
    inline = disposition == "inline" or (bool(content_id) and disposition != "attachment")
    attachments.append(
        ParsedAttachment(
            filename=filename or _default_name(part),
            content_type=ctype,
            data=data,
            inline=inline and part.get_content_maintype() == "image",
            content_id=content_id[0] if content_id else None,
        )
    )


def _filename(part: Message) -> str | None:
    try:
        name = part.get_filename()
    except Exception:  # noqa: BLE001 - broken RFC 2231 parameters
        name = None
    if not name:
        return None
    name = decode_words(str(name)).replace("\\", "/").rsplit("/", 1)[-1]
    return re.sub(r"[\x00-\x1f]", "", name).strip()[:200] or None


def _default_name(part: Message) -> str:
    ext = {"message/rfc822": ".eml", "image/png": ".png", "image/jpeg": ".jpg", "image/gif": ".gif"}
    return "attachment" + ext.get(part.get_content_type(), ".bin")


def _payload_bytes(part: Message) -> bytes:
    try:
        data = part.get_payload(decode=True)
    except Exception:  # noqa: BLE001 - undecodable transfer encoding
        data = None
    if isinstance(data, bytes):
        return data
    raw = part.get_payload()
    return raw.encode("utf-8", "surrogateescape") if isinstance(raw, str) else b""


def _message_bytes(part: Message) -> bytes:
    payload = part.get_payload()
    if isinstance(payload, list) and payload and isinstance(payload[0], Message):
        try:
            return payload[0].as_bytes(policy=policy.SMTP.clone(max_line_length=None))
        except Exception:  # noqa: BLE001 - re-serializing a broken inner message
            return str(payload[0]).encode("utf-8", "replace")
    return _payload_bytes(part)


def decoded_text(part: Message) -> str:
    if isinstance(part, EmailMessage):
        try:
            content = part.get_content()
            if isinstance(content, str) and "\ufffd" not in content:
                return content
        except Exception:  # noqa: BLE001, S110 - unknown charset, bad base64 ...
            pass  # decode by hand below
    return decode_bytes(_payload_bytes(part), part.get_content_charset())

"""A reply's tail as mail clients expect it: the agent's signature after "-- ", then the citizen's
message it answers, quoted with "> " under a line that says who wrote it and when (in the
helpdesk's time zone, in the citizen's language and script)."""

from __future__ import annotations

from datetime import UTC, datetime
from html import escape
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from helpdesk.outbound import Envelope, QuotedMessage

MAX_QUOTED_CHARS = 4000  # a long thread is not re-sent whole with every answer
_WROTE = {
    ("sr", "latn"): "{when}, {name} piše:",
    ("sr", "cyrl"): "{when}, {name} пише:",
    ("en", "latn"): "On {when}, {name} wrote:",
}
_SOMEONE = {("sr", "latn"): "građanin", ("sr", "cyrl"): "грађанин", ("en", "latn"): "you"}


def _key(env: Envelope) -> tuple[str, str]:
    if (env.language or "sr").startswith("en"):
        return ("en", "latn")
    return ("sr", "cyrl" if (env.script or "").startswith("cyr") else "latn")


def _zone(timezone: str) -> ZoneInfo:
    try:
        return ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def local_stamp(at: str, timezone: str) -> str:
    """An ISO time (UTC) as the citizen reads it: '23.11.2026 10:00' in the helpdesk's zone."""
    try:
        moment = datetime.fromisoformat(at.replace("Z", "+00:00"))
    except ValueError:
        return at[:16].replace("T", " ")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(_zone(timezone)).strftime("%d.%m.%Y %H:%M")


def _header(quoted: QuotedMessage, env: Envelope, timezone: str) -> str:
    local = quoted.at.astimezone(_zone(timezone))
    key = _key(env)
    when = f"{local.strftime('%d.%m.%Y %H:%M')} {local.tzname()}"
    return _WROTE[key].format(when=when, name=quoted.author or _SOMEONE[key])


def _quoted_text(quoted: QuotedMessage) -> str:
    text = quoted.text.strip()
    if len(text) > MAX_QUOTED_CHARS:
        text = text[:MAX_QUOTED_CHARS].rstrip() + " …"
    return text


def text_tail(env: Envelope, timezone: str) -> str:
    parts = []
    if env.signature.strip():
        parts.append("-- \n" + env.signature.strip())  # RFC 3676 signature separator
    if env.quoted is not None:
        lines = "\n".join(f"> {line}" if line else ">" for line in _quoted_text(env.quoted).splitlines())
        parts.append(_header(env.quoted, env, timezone) + "\n" + lines)
    return ("\n\n" + "\n\n".join(parts)) if parts else ""


def html_tail(env: Envelope, timezone: str) -> str:
    parts = []
    if env.signature.strip():
        signature = "<br>".join(escape(line) for line in env.signature.strip().splitlines())
        parts.append(f'<p class="signature">-- <br>{signature}</p>')
    if env.quoted is not None:
        body = "<br>".join(escape(line) for line in _quoted_text(env.quoted).splitlines())
        parts.append(
            f'<p>{escape(_header(env.quoted, env, timezone))}</p><blockquote type="cite">{body}</blockquote>'
        )
    return "".join(parts)

"""Fetching what Twilio recorded or received (call recordings, MMS pictures) as attachments.

Only URLs on Twilio's hosts (moved to HELPDESK_TWILIO_API_BASE when set) are fetched: the URL
arrives in a signed webhook, but a fetcher that follows any URL is an SSRF waiting to happen.
The phone simulator's recordings never leave the process (see `demo_recording`).
"""

from __future__ import annotations

import io
import logging
import math
import struct
import wave
from urllib.parse import urlsplit

from channels.phone.twilio_http import TWILIO_HOST_SUFFIX, ApiBaseHttpClient
from helpdesk.settings import Settings
from helpdesk.tickets import AttachmentIn

log = logging.getLogger(__name__)

SIMULATOR_RECORDINGS = "/channels/twilio/simulator/recordings/"
_EXTENSIONS = {
    "audio/mpeg": "mp3",
    "audio/wav": "wav",
    "audio/x-wav": "wav",
    "image/jpeg": "jpg",
    "image/png": "png",
    "image/gif": "gif",
}


def is_twilio_url(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme == "https" and (parts.hostname or "").endswith(TWILIO_HOST_SUFFIX)


def is_simulator_url(url: str, public_url: str) -> bool:
    return url.startswith(public_url.rstrip("/") + SIMULATOR_RECORDINGS)


def demo_recording(seconds: float = 1.5) -> bytes:
    """A short 440 Hz tone as WAV: what the simulator 'records', so the console player has audio."""
    rate = 8000
    frames = b"".join(
        struct.pack("<h", int(8000 * math.sin(2 * math.pi * 440 * i / rate)))
        for i in range(int(rate * seconds))
    )
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(frames)
    return buffer.getvalue()


def fetch_recording(http: ApiBaseHttpClient, settings: Settings, url: str, sid: str) -> AttachmentIn | None:
    """The recording as MP3 (Twilio converts on request), or None when it cannot be had."""
    if is_simulator_url(url, settings.public_url) and settings.demo:
        return AttachmentIn(filename=f"{sid}.wav", content_type="audio/wav", data=demo_recording())
    if not is_twilio_url(url):
        log.warning("recording %s: URL not on Twilio's hosts, not fetched", sid)
        return None
    return _fetch(http, settings, url if url.endswith(".mp3") else url + ".mp3", sid)


def fetch_media(http: ApiBaseHttpClient, settings: Settings, url: str, sid: str) -> AttachmentIn | None:
    if not is_twilio_url(url):
        log.warning("media %s: URL not on Twilio's hosts, not fetched", sid)
        return None
    return _fetch(http, settings, url, sid)


def _fetch(http: ApiBaseHttpClient, settings: Settings, url: str, sid: str) -> AttachmentIn | None:
    auth = None
    if settings.twilio_account_sid and settings.twilio_auth_token:
        auth = (settings.twilio_account_sid, settings.twilio_auth_token)
    try:
        data, content_type = http.get_bytes(url, auth, settings.max_attachment_bytes)
    except (OSError, ValueError) as exc:  # requests' errors are OSErrors; ValueError: too large
        log.warning("could not fetch %s: %s", sid, type(exc).__name__)
        return None
    content_type = content_type.split(";")[0].strip().lower() or "application/octet-stream"
    extension = _EXTENSIONS.get(content_type, "bin")
    return AttachmentIn(filename=f"{sid}.{extension}", content_type=content_type, data=data)

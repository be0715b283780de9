"""Pictures, videos and files a user sends: fetched from Viber's media URL with a size limit.

The URL is Viber's (the request that named it was signed) and expires after a while, so the
bytes are kept with the ticket now; what cannot be fetched is kept as a link in the text.
"""

from __future__ import annotations

import logging
import mimetypes

import requests

from helpdesk.tickets import AttachmentIn

log = logging.getLogger(__name__)

MAX_MEDIA_BYTES = 10 * 1024 * 1024
TIMEOUT = (5, 30)
DEFAULT_TYPES = {"picture": "image/jpeg", "video": "video/mp4", "file": "application/octet-stream"}


def fetch(url: str, kind: str, file_name: str | None, limit: int) -> AttachmentIn | None:
    """The media as an attachment, or None when it is too big, gone or unreachable."""
    limit = min(limit, MAX_MEDIA_BYTES)
    try:
        with requests.get(url, stream=True, timeout=TIMEOUT) as response:
            if response.status_code != 200:
                log.warning("viber media not fetched: HTTP %s", response.status_code)
                return None
            declared = response.headers.get("Content-Length", "")
            if declared.isdigit() and int(declared) > limit:
                log.warning("viber media not fetched: %s bytes is over the limit", declared)
                return None
            chunks, size = [], 0
            for chunk in response.iter_content(64 * 1024):
                size += len(chunk)
                if size > limit:
                    log.warning("viber media not fetched: over the limit of %s bytes", limit)
                    return None
                chunks.append(chunk)
            content_type = (response.headers.get("Content-Type") or "").split(";")[0].strip()
    except requests.RequestException as exc:
        log.warning("viber media not fetched: %s", type(exc).__name__)
        return None
    if not content_type or content_type == "application/octet-stream":
        guessed = mimetypes.guess_type(file_name or "")[0]
        content_type = guessed or DEFAULT_TYPES.get(kind, "application/octet-stream")
    extension = mimetypes.guess_extension(content_type) or ""
    name = file_name or f"viber-{kind}{extension}"
    return AttachmentIn(filename=name[:200], content_type=content_type, data=b"".join(chunks))

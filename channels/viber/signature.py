"""The X-Viber-Content-Signature check: hex HMAC-SHA256 of the raw body, keyed by the auth token."""

from __future__ import annotations

import hashlib
import hmac

HEADER = "X-Viber-Content-Signature"


def sign(token: str, body: bytes) -> str:
    return hmac.new(token.encode(), body, hashlib.sha256).hexdigest()


def is_valid(token: str | None, body: bytes, signature: str | None) -> bool:
    """Constant-time comparison; no token configured means nothing can be valid."""
    if not token or not signature:
        return False
    return hmac.compare_digest(sign(token, body), signature.strip().lower())

"""The privacy key, stretched into one Fernet key per use (sealed values, sealed files).

Apart from ``vault`` so that the file store (``helpdesk.attachments``, built by ``Services``) can
take a key without importing the models or the services back.
"""

from __future__ import annotations

import base64
from functools import lru_cache

from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from helpdesk.settings import Settings

VALUES = b"sensitive_values"
FILES = b"stored_files"


@lru_cache(maxsize=16)
def derived(secret: str, info: bytes) -> Fernet:
    # HKDF, so any passphrase (or the app's secret key) becomes a 32-byte key, a leaked privacy
    # key says nothing about the session-signing key or the other way round, and the key of the
    # files is not the key of the values.
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"helpdesk-privacy", info=info).derive(
        secret.encode()
    )
    return Fernet(base64.urlsafe_b64encode(key))


def cipher(settings: Settings, info: bytes = VALUES) -> Fernet:
    """HELPDESK_PRIVACY_KEY, or the secret key when that is unset."""
    return derived(settings.privacy_key or settings.secret_key, info)

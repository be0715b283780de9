"""Content-addressed file storage under the data dir (attachments, raw emails, recordings)."""

from __future__ import annotations

import hashlib
import os
import secrets
from pathlib import Path


class AttachmentStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def put(self, data: bytes) -> str:
        """Store bytes once by their sha256 and return the digest."""
        digest = hashlib.sha256(data).hexdigest()
        path = self.path(digest)
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".{secrets.token_hex(8)}.tmp")  # unique per writer, thread or process
            tmp.write_bytes(data)
            os.chmod(tmp, 0o600)
            os.replace(tmp, path)  # atomic: a reader never sees half a file
        return digest

    def path(self, digest: str) -> Path:
        if len(digest) != 64 or not all(c in "0123456789abcdef" for c in digest):
            raise ValueError("not a sha256 digest")
        return self.root / digest[:2] / digest[2:4] / digest

    def get(self, digest: str) -> bytes:
        return self.path(digest).read_bytes()

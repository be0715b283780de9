"""Content-addressed file storage under the data dir (attachments, raw emails, recordings).

A file is named by the sha256 of its original bytes, so the same file stored twice is kept once
and a row points at it by that digest. A file that holds a valid JMBG (an attachment, the raw
mail a citizen wrote it in) is sealed: kept encrypted with the privacy key (Fernet, the key of
``helpdesk.privacy.keys``), since the message texts hold it only masked and the original must not
give it away on disk. ``get`` opens either kind; ``path`` is for existence and removal only,
never for reading (the bytes there may be sealed).
"""

from __future__ import annotations

import hashlib
import os
import secrets
from pathlib import Path

from cryptography.fernet import Fernet

from helpdesk.privacy import jmbg

SEALED = b"helpdesk-sealed-file:1\n"  # a header no original file starts with


class SealedFileUnreadable(Exception):
    """A sealed file the current privacy key cannot open (the key changed)."""


class AttachmentStore:
    def __init__(self, root: Path, cipher: Fernet | None = None) -> None:
        self.root = root
        self.cipher = cipher  # None: no sealing (a store for tools that need none)

    def put(self, data: bytes) -> str:
        """Store bytes once by their sha256 and return the digest (sealed if they hold a JMBG)."""
        digest = hashlib.sha256(data).hexdigest()
        path = self.path(digest)
        seal = self.cipher is not None and jmbg.in_bytes(data)
        # Written again only to seal a copy kept in clear before sealing existed.
        if not path.exists() or (seal and not self._sealed_at(path)):
            self._write(path, SEALED + self.cipher.encrypt(data) if seal and self.cipher else data)
        return digest

    def path(self, digest: str) -> Path:
        if len(digest) != 64 or not all(c in "0123456789abcdef" for c in digest):
            raise ValueError("not a sha256 digest")
        return self.root / digest[:2] / digest[2:4] / digest

    def get(self, digest: str) -> bytes:
        """The original bytes (opened if sealed)."""
        data = self.path(digest).read_bytes()
        if not data.startswith(SEALED):
            return data
        if self.cipher is None:
            raise SealedFileUnreadable(digest)
        try:
            return self.cipher.decrypt(data[len(SEALED) :])
        except Exception as e:  # InvalidToken: another key sealed it
            raise SealedFileUnreadable(digest) from e

    def is_sealed(self, digest: str) -> bool:
        return self._sealed_at(self.path(digest))

    def seal_existing(self) -> int:
        """Seal every stored file kept in clear that holds a JMBG (files stored before sealing
        existed); returns how many. Re-runnable: sealed files are skipped."""
        done = 0
        for path in sorted(self.root.glob("??/??/*")):
            if len(path.name) != 64 or self._sealed_at(path):
                continue
            before = path.read_bytes()
            if self.cipher is not None and jmbg.in_bytes(before):
                self._write(path, SEALED + self.cipher.encrypt(before))
                done += 1
        return done

    @staticmethod
    def _sealed_at(path: Path) -> bool:
        try:
            with path.open("rb") as f:
                return f.read(len(SEALED)) == SEALED
        except FileNotFoundError:
            return False

    @staticmethod
    def _write(path: Path, data: bytes) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{secrets.token_hex(8)}.tmp")  # unique per writer, thread or process
        tmp.write_bytes(data)
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)  # atomic: a reader never sees half a file

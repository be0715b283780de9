"""Versioned, signed model files under <data_dir>/models/triage/<version>/.

Each version holds `model.joblib` (the fitted classifier), `model.sig` (HMAC-SHA256 of the
model bytes under the installation's secret key) and `meta.json` (metrics, date, data size).
`active` names the version in use. Models contain citizen text, so every file is written
mode 0600 and directories 0700; and because unpickling runs code, a model is deserialized
only after its signature verifies: a file that this installation did not write is refused.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import os
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from triage.model import TriageClassifier

MODEL_FILE = "model.joblib"
SIG_FILE = "model.sig"
META_FILE = "meta.json"
ACTIVE_FILE = "active"
_VERSION_RE = re.compile(r"^\d{8}T\d{6}Z(?:-\d+)?$")


class ModelError(Exception):
    """A model version is missing, damaged or not signed by this installation."""


@dataclass(frozen=True)
class LoadedModel:
    version: str
    model: TriageClassifier
    meta: dict[str, Any]


def _sign(key: bytes, data: bytes) -> str:
    return hmac.new(key, data, hashlib.sha256).hexdigest()


def _write_private(path: Path, data: bytes) -> None:
    """Write atomically with mode 0600 (the temp file is private before any byte is written)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


class ModelStore:
    def __init__(self, data_dir: Path | str, secret_key: str) -> None:
        if not secret_key:
            raise ValueError("a secret key is required to sign model files")
        self.root = Path(data_dir) / "models" / "triage"
        self._key = secret_key.encode("utf-8")

    @property
    def active_path(self) -> Path:
        return self.root / ACTIVE_FILE

    def _ensure_root(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        for d in (self.root, self.root.parent):
            os.chmod(d, 0o700)

    def versions(self) -> list[str]:
        if not self.root.is_dir():
            return []
        return sorted(p.name for p in self.root.iterdir() if p.is_dir() and _VERSION_RE.match(p.name))

    def active_version(self) -> str | None:
        try:
            name = self.active_path.read_text(encoding="ascii").strip()
        except (OSError, UnicodeDecodeError):
            return None
        return name if _VERSION_RE.match(name) and (self.root / name).is_dir() else None

    def active_mtime(self) -> float | None:
        try:
            return self.active_path.stat().st_mtime
        except OSError:
            return None

    def save(self, model: TriageClassifier, meta: dict[str, Any], now: datetime | None = None) -> str:
        """Write a new version (not activated); returns its name."""
        self._ensure_root()
        now = now or datetime.now(UTC)
        base = now.strftime("%Y%m%dT%H%M%SZ")
        version, n = base, 1
        while True:
            try:
                (self.root / version).mkdir(mode=0o700)
                break
            except FileExistsError:
                n += 1
                version = f"{base}-{n}"
        import joblib  # with sklearn, loaded only when a model is saved or loaded

        buf = io.BytesIO()
        joblib.dump(model, buf, compress=3)
        data = buf.getvalue()
        vdir = self.root / version
        _write_private(vdir / MODEL_FILE, data)
        _write_private(vdir / SIG_FILE, _sign(self._key, data).encode("ascii"))
        full_meta = {"version": version, "created_at": now.isoformat(), **meta}
        _write_private(vdir / META_FILE, json.dumps(full_meta, indent=2, sort_keys=True).encode())
        return version

    def activate(self, version: str) -> None:
        if not _VERSION_RE.match(version) or not (self.root / version).is_dir():
            raise ModelError(f"no model version {version!r}")
        self.load(version)  # never point at a version that would not load
        _write_private(self.active_path, version.encode("ascii"))

    def meta(self, version: str) -> dict[str, Any]:
        try:
            meta = json.loads((self.root / version / META_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ModelError(f"model {version}: unreadable metadata") from exc
        if not isinstance(meta, dict):
            raise ModelError(f"model {version}: metadata is not an object")
        return meta

    def load(self, version: str) -> LoadedModel:
        if not _VERSION_RE.match(version):
            raise ModelError(f"bad model version name {version!r}")
        vdir = self.root / version
        try:
            data = (vdir / MODEL_FILE).read_bytes()
            sig = (vdir / SIG_FILE).read_text(encoding="ascii").strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise ModelError(f"model {version}: missing files") from exc
        if not hmac.compare_digest(sig, _sign(self._key, data)):
            raise ModelError(f"model {version}: signature does not match this installation's key")
        # Only now is it safe to unpickle: the bytes are the ones we wrote.
        import joblib

        from triage.model import TriageClassifier

        try:
            model = joblib.load(io.BytesIO(data))
        except Exception as exc:  # ours, but written by an incompatible version of the code
            raise ModelError(f"model {version}: cannot be loaded by this version ({exc})") from exc
        if not isinstance(model, TriageClassifier):
            raise ModelError(f"model {version}: not a triage classifier")
        return LoadedModel(version, model, self.meta(version))

    def load_active(self) -> LoadedModel | None:
        version = self.active_version()
        return self.load(version) if version else None

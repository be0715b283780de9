"""Versioned, signed model files and the "not worse" activation gate."""

from __future__ import annotations

import os
import pickle
import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest

from triage.datasets import Example
from triage.model import TriageClassifier
from triage.store import MODEL_FILE, SIG_FILE, ModelError, ModelStore
from triage.training import train_version

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_saved_version_has_metrics_and_private_files(tmp_path: Path, seed_model: TriageClassifier) -> None:
    store = ModelStore(tmp_path, "secret-1")
    version = store.save(seed_model, {"eval_accuracy": 0.8, "train_size": 10}, now=NOW)
    assert version == "20261128T120000Z"
    vdir = tmp_path / "models" / "triage" / version
    for name in (MODEL_FILE, SIG_FILE, "meta.json"):
        assert _mode(vdir / name) == 0o600, name
    assert _mode(vdir) == 0o700
    assert _mode(tmp_path / "models" / "triage") == 0o700
    meta = store.meta(version)
    assert meta["created_at"] == NOW.isoformat() and meta["train_size"] == 10
    # a second save in the same second gets its own directory
    assert store.save(seed_model, {}, now=NOW) == "20261128T120000Z-2"
    store.activate(version)
    assert _mode(store.active_path) == 0o600
    loaded = store.load_active()
    assert loaded is not None and loaded.version == version
    assert loaded.model.predict(["Izgubio sam pasoš"])[0].label == "personal_documents"


def test_model_signed_with_another_key_is_refused(tmp_path: Path, seed_model: TriageClassifier) -> None:
    version = ModelStore(tmp_path, "their-key").save(seed_model, {}, now=NOW)
    ours = ModelStore(tmp_path, "our-key")
    with pytest.raises(ModelError, match="signature"):
        ours.load(version)
    with pytest.raises(ModelError):
        ours.activate(version)
    assert ours.active_version() is None


class _Boom:
    """Unpickling this would run code: the store must never get that far."""

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (os.system, ("touch should-not-exist",))


def test_a_planted_pickle_is_never_unpickled(
    tmp_path: Path, seed_model: TriageClassifier, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    store = ModelStore(tmp_path, "our-key")
    version = store.save(seed_model, {}, now=NOW)
    store.activate(version)
    model_path = tmp_path / "models" / "triage" / version / MODEL_FILE
    model_path.write_bytes(pickle.dumps(_Boom()))  # the old signature stays beside it
    with pytest.raises(ModelError, match="signature"):
        store.load(version)
    assert not (tmp_path / "should-not-exist").exists()


def test_tampered_bytes_and_missing_signature_are_refused(
    tmp_path: Path, seed_model: TriageClassifier
) -> None:
    store = ModelStore(tmp_path, "k")
    version = store.save(seed_model, {}, now=NOW)
    vdir = tmp_path / "models" / "triage" / version
    data = bytearray((vdir / MODEL_FILE).read_bytes())
    data[len(data) // 2] ^= 0xFF
    (vdir / MODEL_FILE).write_bytes(bytes(data))
    with pytest.raises(ModelError):
        store.load(version)
    (vdir / SIG_FILE).unlink()
    with pytest.raises(ModelError, match="missing"):
        store.load(version)
    with pytest.raises(ModelError):
        store.load("../../etc")


def test_a_worse_model_is_not_activated(tmp_path: Path, seed_examples: list[Example]) -> None:
    store = ModelStore(tmp_path, "k")
    first = train_version(store, seed_examples, now=NOW)
    assert first.activated and first.reason == "first model"
    assert store.active_version() == first.version
    # Agents' "labels" that contradict the seed data: every inquiry labelled "other".
    poison = [Example(e.text, "other", "agent") for e in seed_examples[::2]]
    second = train_version(store, seed_examples, poison, now=NOW)
    print(f"\ngood model {first.accuracy:.3f}, poisoned candidate {second.accuracy:.3f}")
    assert not second.activated
    assert "worse" in second.reason
    assert second.accuracy < first.accuracy
    assert store.active_version() == first.version  # still the good one
    assert second.version in store.versions()  # kept for inspection, not used
    forced = train_version(store, seed_examples, poison, force=True, now=NOW)
    assert forced.activated and store.active_version() == forced.version


def test_signed_but_unusable_files_are_refused(tmp_path: Path, seed_model: TriageClassifier) -> None:
    import io

    import joblib

    from triage.store import _sign

    store = ModelStore(tmp_path, "k")
    version = store.save(seed_model, {}, now=NOW)
    vdir = tmp_path / "models" / "triage" / version
    for payload, message in ((b"not a pickle at all", "cannot be loaded"), (None, "not a triage classifier")):
        if payload is None:
            buf = io.BytesIO()
            joblib.dump({"just": "a dict"}, buf)
            payload = buf.getvalue()
        (vdir / MODEL_FILE).write_bytes(payload)
        (vdir / SIG_FILE).write_text(_sign(b"k", payload))
        with pytest.raises(ModelError, match=message):
            store.load(version)

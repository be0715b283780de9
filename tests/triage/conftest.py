"""A seed-data model trained once per test session (a couple of seconds)."""

from __future__ import annotations

import pytest

from triage.datasets import Example, read_seed
from triage.model import TriageClassifier
from triage.training import split_for_gate


@pytest.fixture(scope="session")
def seed_examples() -> list[Example]:
    return read_seed()


@pytest.fixture(scope="session")
def seed_model(seed_examples: list[Example]) -> TriageClassifier:
    train, _ = split_for_gate(seed_examples, [])
    return TriageClassifier().fit([e.text for e in train], [e.label for e in train])

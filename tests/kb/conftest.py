"""KB web fixtures: the app with the knowledge base wired in, and the starter articles."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from helpdesk import create_app
from helpdesk.kb import init_app as init_kb
from helpdesk.kb.store import import_records
from helpdesk.services import Services
from knowledge_base.io import read_articles

STARTER = Path(__file__).resolve().parents[2] / "knowledge_base" / "data" / "starter_articles.jsonl"


@pytest.fixture
def kb_app(services: Services) -> Any:
    app = create_app(services.settings, services=services)
    init_kb(app, services)  # no-op once the app factory does it
    return app


@pytest.fixture
def kb_client(kb_app: Any) -> Any:
    client = kb_app.test_client()
    client.get("/help?lang=en")  # these tests read the English interface; the default is Serbian
    return client


@pytest.fixture
def starter(kb_app: Any, services: Services) -> int:
    return import_records(services, read_articles(STARTER))

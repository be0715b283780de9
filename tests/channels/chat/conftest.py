"""Fixtures for the chat protocol tests: a real `helpdesk serve` process on SQLite."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "functional"))

from hd_servers import Server, base_env, prepare_store  # noqa: E402

AGENT = "ana@helpdesk.test"


@pytest.fixture
def chat_env(tmp_path: Path) -> dict[str, str]:
    env = base_env(tmp_path / "data")
    prepare_store(env, [{"email": AGENT, "name": "Ana Petrović", "queues": ("triage",)}])
    return env


@pytest.fixture
def chat_server(chat_env: dict[str, str], tmp_path: Path) -> Iterator[Server]:
    server = Server(chat_env, tmp_path / "server.log").start()
    yield server
    server.stop()

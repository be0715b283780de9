"""Fixtures for the chat protocol tests: a real `helpdesk serve` process on SQLite."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "functional"))

from hd_servers import CHAT_AGENT, Server, base_env, prepare_store  # noqa: E402

AGENT = CHAT_AGENT


def new_env(tmp: Path) -> dict[str, str]:
    env = base_env(tmp / "data")
    prepare_store(env, [{"email": AGENT, "name": "Ana Petrović", "queues": ("triage",)}])
    return env


@pytest.fixture(scope="module")
def chat_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One server for the tests that don't restart it (each citizen has its own conversation)."""
    tmp = tmp_path_factory.mktemp("chat")
    server = Server(new_env(tmp), tmp / "server.log").start()
    yield server
    server.stop()
    assert server.problems() == []


@pytest.fixture
def own_chat_server(tmp_path: Path) -> Iterator[Server]:
    """A server this test may kill and restart."""
    server = Server(new_env(tmp_path), tmp_path / "server.log").start()
    yield server
    server.stop()
    assert server.problems() == []

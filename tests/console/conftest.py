"""Fixtures for the console tests: one real server process with agents in different queues."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "functional"))

from hd_servers import Server, base_env, login_cookie, prepare_store  # noqa: E402

AGENTS = [
    {"email": "ana@helpdesk.test", "name": "Ana", "queues": ("triage",)},
    {"email": "boris@helpdesk.test", "name": "Boris", "queues": ("triage",)},
    {"email": "vesna@helpdesk.test", "name": "Vesna", "queues": ("taxes",)},  # not in triage
    {"email": "sara@helpdesk.test", "name": "Sara", "role": "supervisor"},
]


@pytest.fixture(scope="module")
def console_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("console")
    env = base_env(tmp / "data")
    prepare_store(env, AGENTS)
    server = Server(env, tmp / "server.log").start()
    yield server
    server.stop()
    assert server.problems() == []


@pytest.fixture(scope="module")
def cookie_for(console_server: Server) -> Callable[[str], str]:
    """One login per agent and module: the login form is rate limited (10 a minute)."""
    cache: dict[str, str] = {}

    def get(email: str) -> str:
        if email not in cache:
            cache[email] = login_cookie(console_server.url, email)
        return cache[email]

    return get

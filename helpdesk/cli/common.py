"""What every command shares: the app built from the environment's settings."""

from __future__ import annotations

import threading
import time

from flask import Flask, current_app

from helpdesk.services import BackgroundService, Services


def make_app() -> Flask:
    from helpdesk import create_app
    from helpdesk.settings import Settings

    return create_app(Settings.from_env())


def services() -> Services:
    svc: Services = current_app.extensions["helpdesk"]
    return svc


def start_background(
    svc: Services, *, include: set[str] | None = None, exclude: set[str] | None = None
) -> list[BackgroundService]:
    started: list[BackgroundService] = []
    for service in svc.background:
        if (include is None or service.name in include) and service.name not in (exclude or set()):
            service.start()
            started.append(service)
    return started


def stop_all(started: list[BackgroundService], timeout: float = 10.0) -> None:
    """Stop every service at once (each finishes what it has in hand), waiting at most ``timeout``.

    Together rather than one after another, so a graceful stop (SIGTERM) takes as long as the
    slowest service, not the sum of all of them.
    """
    threads = [threading.Thread(target=s.stop, name=f"stop-{s.name}", daemon=True) for s in started]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + timeout
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))

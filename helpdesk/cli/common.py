"""What every command shares: the app built from the environment's settings."""

from __future__ import annotations

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

"""The email channel: our own SMTP server in, threaded replies out (docs/architecture.md).

``init_app`` registers the outbound sender, the SMTP server as a background service and the
``smtp`` command; nothing is started here.
"""

from __future__ import annotations

import signal
import threading

import click
from flask import Flask

from channels import dispatcher
from channels.email.sender import EmailSender, StoreAckLimiter
from channels.email.server import SmtpService
from channels.email.spool_cli import mail_group
from channels.email.spool_worker import SpoolWorker
from helpdesk.services import Services


def init_app(app: Flask, services: Services) -> None:
    from channels.email.console import bp, register_panel

    app.register_blueprint(bp)
    register_panel(services)
    if not services.settings.smtp_relay:  # mail is only written locally: show where
        from flask_babel import lazy_gettext as _l

        from helpdesk.navigation import add_nav_link

        add_nav_link(app, "email_console.outbox", _l("Mail outbox"))
    limiter = StoreAckLimiter(services)
    services.senders[EmailSender.channel] = EmailSender(services.settings, limiter)
    services.inbound_channels.add("email")
    # Mail in two steps: the SMTP server spools, the worker (here, or in `helpdesk worker`) stores.
    spool_worker = SpoolWorker(services)
    services.background.append(spool_worker)
    smtp = SmtpService(services, on_spooled=spool_worker.wake, gate=spool_worker.gate)
    services.background.append(smtp)
    app.extensions["helpdesk.email.smtp"] = smtp
    dispatcher.init_app(app, services)  # acknowledgements and replies go out through the outbox
    app.cli.add_command(mail_group)

    @app.cli.command("smtp")
    @click.option("--host", default=None, help="address to listen on (HELPDESK_SMTP_HOST)")
    @click.option("--port", default=None, type=int, help="port to listen on (HELPDESK_SMTP_PORT)")
    def smtp_command(host: str | None, port: int | None) -> None:
        """Run only the inbound SMTP server (scale-out: beside `serve` and `worker`)."""
        run_smtp(services, host, port)


def run_smtp(services: Services, host: str | None = None, port: int | None = None) -> None:
    server = SmtpService(services, host, port)
    server.start()
    click.echo(f"SMTP server listening on {server.host}:{server.port}")
    settings = services.settings
    if settings.metrics_port:  # its counters, since no web process sees them
        from helpdesk.monitoring import serve_process_metrics

        serve_process_metrics("127.0.0.1", settings.metrics_port, settings.metrics_token)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    try:
        stop.wait()
    finally:
        server.stop()

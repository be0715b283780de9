"""gunicorn settings for the web process: ``gunicorn -c python:helpdesk.gunicorn_config
helpdesk.wsgi:app`` (``helpdesk serve --production`` runs exactly that).

gunicorn reads this module's globals when it starts; the address and sizes come from the same
``HELPDESK_*`` variables as everything else (``deploy/helpdesk.env`` explains them).
"""

from __future__ import annotations

import os
from typing import Any

from helpdesk import wsgi
from helpdesk.files import restrict_umask
from helpdesk.serving import settle_heap

# The master opens the log files (HELPDESK_ACCESS_LOG) before any app exists: private from here on.
restrict_umask()

_env = os.environ

# ONE worker per process: Socket.IO's long-polling must come back to the process that holds the
# session, and gunicorn's own balancing is not sticky. Run more processes behind nginx instead.
workers = 1
worker_class = "gthread"
# A WebSocket holds a thread for its whole life: threads bound the concurrent chats and consoles.
threads = int(_env.get("HELPDESK_THREADS", "100"))
bind = [f"{_env.get('HELPDESK_HOST', '127.0.0.1')}:{_env.get('HELPDESK_PORT', '5000')}"]
# SIGTERM: in-flight requests get this long to finish before the worker is stopped.
graceful_timeout = int(_env.get("HELPDESK_GRACEFUL_TIMEOUT", "30"))
timeout = 60  # the worker's heartbeat; requests run in threads and do not block it
keepalive = 5  # nginx keeps upstream connections open a little while
worker_connections = threads + 100
# No runtime control socket: systemd (and `kill -TERM`) manage the process; ProtectHome=yes.
control_socket_disable = True
proc_name = _env.get("HELPDESK_PROC_NAME", "helpdesk-web")
# Access log without query strings (chat tokens, filters); errors to stderr (journald).
accesslog = _env.get("HELPDESK_ACCESS_LOG") or None
logger_class = "helpdesk.serving.GunicornLogger"  # route patterns, never tokens, in the access log
access_log_format = '%(h)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms'
errorlog = "-"
loglevel = _env.get("HELPDESK_LOG_LEVEL", "INFO").lower()
if _env.get("HELPDESK_LOG_FORMAT") == "json":
    # gunicorn's own lines (and the app's, through the root logger) as JSON, personal data masked.
    logconfig_dict = {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": "helpdesk.logs.JsonFormatter"}},
        "filters": {"personal_data": {"()": "helpdesk.logs.PersonalDataFilter"}},
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": "json",
                "filters": ["personal_data"],
                "stream": "ext://sys.stderr",
            }
        },
        "root": {"level": _env.get("HELPDESK_LOG_LEVEL", "INFO"), "handlers": ["console"]},
        "loggers": {
            "gunicorn.error": {"level": "INFO", "handlers": ["console"], "propagate": False},
            "gunicorn.access": {"level": "INFO", "handlers": ["console"], "propagate": False},
        },
    }

# nginx is the proxy in front: trust its X-Forwarded-* (the app applies HELPDESK_PROXY_HOPS).
forwarded_allow_ips = _env.get("HELPDESK_FORWARDED_ALLOW_IPS", "127.0.0.1,::1")


def post_worker_init(worker: Any) -> None:
    app = worker.wsgi
    wsgi.install_graceful_stop(app, worker.handle_exit)
    started = wsgi.start_services(app)
    if started:
        worker.log.info("background services: %s", ", ".join(s.name for s in started))
    settle_heap()  # the app is built: its objects out of the garbage collector's way


def worker_exit(server: Any, worker: Any) -> None:
    # In-flight requests are done (or the graceful timeout passed): stop SMTP, outbox, SLA watch.
    wsgi.stop_services(timeout=float(graceful_timeout))


def on_exit(server: Any) -> None:
    server.log.info("helpdesk web process stopped")

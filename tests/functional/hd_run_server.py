"""Run one helpdesk server process from HELPDESK_* variables (what `helpdesk serve` does).

Used by the tests and benchmarks that need real, separate server processes.
"""

from __future__ import annotations

import signal
import sys
from typing import Any

from helpdesk import create_app
from helpdesk.cli.common import start_background
from helpdesk.extensions import get_socketio
from helpdesk.settings import Settings


def main() -> None:
    settings = Settings.from_env()
    app = create_app(settings)
    svc = app.extensions["helpdesk"]
    started = start_background(svc, exclude={"smtp"}) if settings.embedded_services else []

    def stop(*_: Any) -> None:
        for service in started:
            service.stop()  # type: ignore[attr-defined]
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    get_socketio(app).run(
        app,
        host=settings.host,
        port=settings.port,
        allow_unsafe_werkzeug=True,
        use_reloader=False,
        log_output=False,
    )


if __name__ == "__main__":
    main()

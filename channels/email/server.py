"""The inbound SMTP server (aiosmtpd): our domains only, 250 only after the commit.

The event loop only speaks SMTP; parsing and the database run in a small thread pool, so one slow
commit never stalls the other sessions. Replies follow RFC 5321/3463: 550 5.7.1 for a recipient we
do not serve (never an open relay), 552 for oversize (aiosmtpd's own check), 451 4.3.0 only when
storing failed for a reason that passes (the database away, the disk full) so the sending MTA keeps
the mail and retries, and 554 5.6.0 for a mail that could never be stored (retrying would only
delay the bounce by days).
"""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from sqlalchemy import exc as sa_exc

from channels.email.inbound import NoSender, handle_message
from helpdesk.services import Services

log = logging.getLogger(__name__)
# aiosmtpd logs every command line and address at INFO: personal data stays out of our logs.
logging.getLogger("mail.log").setLevel(logging.WARNING)
MAX_RECIPIENTS = 50
SESSION_TIMEOUT = 120  # seconds of silence before the server hangs up
COMMAND_LIMIT = 100  # per command per session: a client looping on RCPT or NOOP is cut off


def is_temporary(exc: BaseException) -> bool:
    """Whether a failure to store may pass by itself (answer 451) or never will (554)."""
    if isinstance(exc, sa_exc.DataError):  # a value no column takes: the same next time
        return False
    if isinstance(exc, sa_exc.DBAPIError | sa_exc.TimeoutError | sa_exc.DisconnectionError):
        # Unreachable, locked, a schema being migrated, a race on a unique key: all pass.
        return True
    return isinstance(exc, OSError | TimeoutError | MemoryError)


class HelpdeskHandler:
    def __init__(self, svc: Services, workers: int = 4) -> None:
        self.svc = svc
        domains = {d.strip().lower().lstrip("@") for d in svc.settings.mail_domains if d.strip()}
        self.domains = domains
        self.addresses = {svc.settings.support_address.lower()}
        self.executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="smtp-store")

    def accepts(self, address: str) -> bool:
        address = address.strip().lower()
        if address in self.addresses:
            return True
        local, at, domain = address.rpartition("@")
        return bool(at and local) and domain in self.domains

    async def handle_RCPT(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        if not self.accepts(address):
            return "550 5.7.1 Relaying denied: we only accept mail for our own addresses"
        if len(envelope.rcpt_tos) >= MAX_RECIPIENTS:
            return "452 4.5.3 Too many recipients"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or envelope.content
        if not isinstance(raw, bytes):
            raw = str(raw or "").encode("utf-8", "surrogateescape")
        mail_from = "" if envelope.mail_from in ("", "<>") else envelope.mail_from
        loop = asyncio.get_running_loop()
        try:
            outcome = await loop.run_in_executor(
                self.executor, handle_message, self.svc, raw, mail_from, list(envelope.rcpt_tos)
            )
        except NoSender:
            return "550 5.1.7 The message has no sender address we could answer"
        except Exception as exc:  # noqa: BLE001 - any failure gets a final or a temporary answer
            # Not log.exception: a database error's text carries the row's values (addresses).
            statement = " ".join(str(getattr(exc, "statement", "") or "").split())[:200]
            if is_temporary(exc):
                log.error(
                    "storing an inbound mail failed (%s %s); answered 451", type(exc).__name__, statement
                )
                return "451 4.3.0 Temporary failure storing the message, please try again later"
            log.error("an inbound mail cannot be stored (%s %s); answered 554", type(exc).__name__, statement)
            return "554 5.6.0 The message cannot be stored here; please send it as plain text"
        if outcome.ticket_reference:
            return f"250 2.0.0 OK {outcome.kind} {outcome.ticket_reference}"
        return f"250 2.0.0 OK {outcome.kind}"

    def close(self) -> None:
        self.executor.shutdown(wait=True)


class LongLineSMTP(SMTP):
    """aiosmtpd's SMTP, taking DATA lines longer than RFC 5321's 1,000 octets.

    Real mail has them (Outlook replies, SES and GMX bounces), and common MTAs accept them, so
    the only limit on a line is the message size limit (aiosmtpd's ``line_length_limit`` is also
    the stream reader's buffer limit; command lines keep their own 512-octet check).
    """

    def __init__(self, handler: object, *, data_size_limit: int | None = None, **kwargs: object) -> None:
        self.line_length_limit = max(SMTP.line_length_limit, (data_size_limit or 0) + 2)
        super().__init__(handler, data_size_limit=data_size_limit, **kwargs)  # type: ignore[arg-type]


class _Controller(Controller):
    """aiosmtpd's Controller, able to listen on port 0 (a free port, for tests and benches)."""

    def __init__(self, *args: object, long_lines: bool = False, **kwargs: object) -> None:
        self.long_lines = long_lines
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]

    def factory(self) -> SMTP:
        if self.long_lines:
            return LongLineSMTP(self.handler, **self.SMTP_kwargs)
        return super().factory()

    def _trigger_server(self) -> None:
        if self.port == 0 and self.server is not None:
            self.port = self.server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
        super()._trigger_server()


class SmtpService:
    """The BackgroundService that runs the SMTP server on its own thread."""

    name = "smtp"

    def __init__(self, svc: Services, host: str | None = None, port: int | None = None) -> None:
        self.svc = svc
        self.bind_host = svc.settings.smtp_host if host is None else host
        self.bind_port = svc.settings.smtp_port if port is None else port
        # Built in start(): aiosmtpd's Controller creates an event loop as soon as it exists.
        self.handler: HelpdeskHandler | None = None
        self.controller: _Controller | None = None

    def _build(self) -> _Controller:
        settings = self.svc.settings
        self.handler = HelpdeskHandler(self.svc)
        return _Controller(
            self.handler,
            hostname=self.bind_host,
            port=self.bind_port,
            server_hostname=settings.support_address.rsplit("@", 1)[-1],
            data_size_limit=settings.max_message_bytes,
            timeout=SESSION_TIMEOUT,
            command_call_limit=COMMAND_LIMIT,
            enable_SMTPUTF8=True,
            decode_data=False,
            ident="Helpdesk ESMTP",
            long_lines=True,
        )

    @property
    def port(self) -> int:
        return int(self.controller.port) if self.controller else self.bind_port

    @property
    def host(self) -> str:
        return self.bind_host

    def start(self) -> None:
        if self.controller is not None:
            return
        self.controller = self._build()
        self.controller.start()
        log.info("SMTP server listening on %s:%s", self.host, self.port)

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None
        if self.handler is not None:
            self.handler.close()
            self.handler = None

"""The inbound SMTP server (aiosmtpd): our domains only, 250 once the raw mail is spooled.

Mail in two steps, as an MTA does it (DESIGN.md §7): a session ends when its raw mail is committed
to the spool (group commit: many sessions, one transaction), and the spool worker turns it into a
ticket afterwards. Replies follow RFC 5321/3463: 550 5.7.1 for a recipient we do not serve (never
an open relay), 550 5.1.7 for mail that names no sender at all, 552 for oversize (aiosmtpd's own
check), 451 4.3.0 only when the spool could not be written for a reason that passes (the database
away or too slow, the disk full) so the sending MTA keeps the mail and retries, and 554 5.6.0 for
a mail that could never be stored (retrying would only delay the bounce by days).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from channels.email.parse import header_sender, usable_address
from channels.email.spool import is_temporary
from channels.email.spool_writer import Spooled, SpoolWriter
from channels.email.write_gate import WriteGate
from helpdesk.monitoring import record_smtp_reply
from helpdesk.services import Services

log = logging.getLogger(__name__)
# aiosmtpd logs every command line and address at INFO: personal data stays out of our logs.
logging.getLogger("mail.log").setLevel(logging.WARNING)
MAX_RECIPIENTS = 50
SESSION_TIMEOUT = 120  # seconds of silence before the server hangs up
COMMAND_LIMIT = 100  # per command per session: a client looping on RCPT or NOOP is cut off


class HelpdeskHandler:
    def __init__(
        self,
        svc: Services,
        on_spooled: Callable[[], None] | None = None,
        gate: WriteGate | None = None,
    ) -> None:
        self.svc = svc
        domains = {d.strip().lower().lstrip("@") for d in svc.settings.mail_domains if d.strip()}
        self.domains = domains
        self.addresses = {svc.settings.support_address.lower()}
        # on_spooled (wakes the worker) is called by the committer, once per group commit.
        self.spool = SpoolWriter(svc, gate, on_written=on_spooled)
        self.spool.start()
        self.in_flight = 0  # DATA commands being spooled now (a graceful stop waits for them)

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
            reply = "550 5.7.1 Relaying denied: we only accept mail for our own addresses"
            record_smtp_reply(reply)  # relay attempts are what an operator wants to see
            return reply
        if len(envelope.rcpt_tos) >= MAX_RECIPIENTS:
            return "452 4.5.3 Too many recipients"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        reply = await self._answer_data(envelope)
        record_smtp_reply(reply)  # helpdesk_smtp_messages_total{outcome}
        return reply

    async def _answer_data(self, envelope: Envelope) -> str:
        raw = envelope.original_content or envelope.content
        if not isinstance(raw, bytes):
            raw = str(raw or "").encode("utf-8", "surrogateescape")
        mail_from = "" if envelope.mail_from in ("", "<>") else str(envelope.mail_from)
        if mail_from and not usable_address(mail_from) and not _header_sender(raw):
            # A null sender (a bounce) goes on: the worker reads it. Anything else must name
            # someone we could answer, and a refusal now costs the sender nothing.
            return "550 5.1.7 The message has no sender address we could answer"
        mail_from = mail_from.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
        self.in_flight += 1
        try:
            return await self._spool(Spooled(mail_from, list(envelope.rcpt_tos), raw))
        finally:
            self.in_flight -= 1

    async def _spool(self, mail: Spooled) -> str:
        try:
            row_id = await asyncio.wait_for(self.spool.submit(mail), self.svc.settings.mail_spool_timeout)
        except TimeoutError:
            # The store is frozen or overloaded: better a retry from the sender than a hang.
            log.error("the mail spool did not answer in time; answered 451")
            return "451 4.3.0 The mail store is busy, please try again later"
        except Exception as exc:  # noqa: BLE001 - a final or a temporary answer, never a hang
            # Not log.exception: a database error's text carries the row's values (addresses).
            if is_temporary(exc):
                log.error("spooling an inbound mail failed (%s); answered 451", type(exc).__name__)
                return "451 4.3.0 Temporary failure storing the message, please try again later"
            log.error("an inbound mail cannot be spooled (%s); answered 554", type(exc).__name__)
            return "554 5.6.0 The message cannot be stored here"
        return f"250 2.0.0 OK queued as {row_id}"

    def close(self, timeout: float = 5.0) -> None:
        self.spool.stop(timeout)


def _header_sender(raw: bytes) -> str | None:
    try:
        return header_sender(raw)
    except Exception:  # noqa: BLE001 - an unreadable header block names nobody
        return None


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

    def __init__(
        self,
        svc: Services,
        host: str | None = None,
        port: int | None = None,
        on_spooled: Callable[[], None] | None = None,
        gate: WriteGate | None = None,
    ) -> None:
        self.svc = svc
        self.on_spooled = on_spooled  # wakes the spool worker when it runs in this process
        self.gate = gate  # ... and lets the spool's commits go before its writes (SQLite)
        self.bind_host = svc.settings.smtp_host if host is None else host
        self.bind_port = svc.settings.smtp_port if port is None else port
        # Built in start(): aiosmtpd's Controller creates an event loop as soon as it exists.
        self.handler: HelpdeskHandler | None = None
        self.controller: _Controller | None = None

    def _build(self) -> _Controller:
        settings = self.svc.settings
        self.handler = HelpdeskHandler(self.svc, self.on_spooled, self.gate)
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

    def stop(self, timeout: float = 5.0) -> None:
        """Stop taking connections, give mail being spooled its answer (up to timeout), close."""
        controller, handler = self.controller, self.handler
        if controller is not None:
            if controller.server is not None:
                controller.loop.call_soon_threadsafe(controller.server.close)
            deadline = time.monotonic() + timeout
            while handler is not None and handler.in_flight and time.monotonic() < deadline:
                time.sleep(0.02)
            controller.stop()
            self.controller = None
        if handler is not None:
            handler.close(timeout)
            self.handler = None

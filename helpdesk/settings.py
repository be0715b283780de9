"""Settings: one frozen, typed object built from ``HELPDESK_*`` environment variables.

Nothing reads the environment at import time: ``Settings.from_env()`` is called by the app factory,
the CLI or a test, and the object is passed on from there.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from datetime import date
from pathlib import Path
from typing import Any, get_type_hints

DEFAULT_CHANNELS = (
    "channels.chat",
    "channels.email",
    "channels.phone",
    "channels.web",
    "channels.viber",  # off until HELPDESK_VIBER_AUTH_TOKEN is set
)


@dataclass(frozen=True)
class Settings:
    data_dir: Path = Path("var")
    database_url: str = ""  # empty: SQLite at <data_dir>/helpdesk.db
    db_connect_timeout: float = 5.0  # seconds to open a connection (PostgreSQL)
    db_statement_timeout: float = 30.0  # seconds one statement may run (PostgreSQL)
    db_lock_timeout: float = 15.0  # seconds to wait for a lock (PostgreSQL lock_timeout, SQLite busy)
    db_pool_timeout: float = 10.0  # seconds to wait for a free pooled connection
    secret_key: str = ""  # empty: generated once and kept in <data_dir>/secret_key
    # encrypts the full JMBGs kept apart from the text; empty: derived from the secret key
    privacy_key: str = ""
    # days a finished ticket keeps its personal data when no queue or category rule says
    # otherwise (helpdesk privacy schedule); empty: kept until a rule or an erasure
    retention_days: str | None = None
    host: str = "127.0.0.1"
    port: int = 5000
    public_url: str = ""  # empty: http://<host>:<port>
    demo: bool = False
    testing: bool = False
    secure_cookies: bool = False  # set on behind HTTPS
    proxy_hops: int = 0  # reverse proxies in front (nginx: 1) whose X-Forwarded-* headers to trust
    redis_url: str | None = None
    socketio_channel: str = "helpdesk"  # the Redis pub/sub channel shared by all processes
    api_ticket_rate_limit: str = "30 per minute"  # the public ticket form, per client address
    login_failures_per_address: int = 30  # failed logins per hour from one address, all accounts
    require_2fa_roles: tuple[str, ...] = ()  # e.g. "supervisor,admin": these must use two-factor
    local_login: bool = True  # off: staff sign in only through the office's identity provider
    # staff single sign-on (OpenID Connect); on when the issuer and the client id are set
    oidc_issuer: str | None = None  # its /.well-known/openid-configuration is read from there
    oidc_client_id: str | None = None
    oidc_client_secret: str | None = None  # empty: a public client (PKCE only)
    oidc_provider_name: str = ""  # the button says "Sign in with <this>"; empty: office account
    oidc_scopes: str = "openid email profile"
    oidc_role_claim: str = "roles"  # a claim holding a value or a list; dotted for nested ones
    oidc_role_map: str = ""  # "claim value=role,..." (agent, supervisor, admin): the highest wins
    oidc_queue_claim: str = "groups"
    oidc_queue_map: str = ""  # "claim value=queue,...": when set, the queues follow at each sign-in
    oidc_local_2fa: bool = False  # on: SSO sign-ins also need local TOTP; off: the IdP's MFA counts
    channels: tuple[str, ...] = DEFAULT_CHANNELS
    default_language: str = "sr-Latn"
    log_level: str = "INFO"
    log_format: str = "text"  # text | json (one object per line); never personal data either way
    # how citizens reach a person (shown on the front door and the contact pages)
    office_phone: tuple[str, ...] = ()  # comma-separated: "+381 11 123 4567,0800 123 456"
    office_email: str | None = None  # empty: the support address
    metrics_token: str | None = None
    metrics_port: int = 0  # `helpdesk smtp`/`worker` run apart: their own /metrics port (0: none)
    # email
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 2525
    mail_domains: tuple[str, ...] = ("helpdesk.localhost",)
    support_address: str = "podrska@helpdesk.localhost"
    smtp_relay: str | None = None  # host:port
    smtp_relay_user: str | None = None
    smtp_relay_password: str | None = None
    smtp_relay_starttls: bool = False
    smtp_relay_cafile: str | None = None  # a private CA that signed the relay's certificate
    max_message_bytes: int = 25 * 1024 * 1024
    mail_spool_timeout: float = 20.0  # seconds a session waits for its mail to be spooled, then 451
    max_attachment_bytes: int = 20 * 1024 * 1024
    reopen_days: int = 14
    session_check_seconds: float = 10.0  # how soon a live console notices its login has ended
    survey_link_days: int = 30  # a satisfaction survey link works this long after it was sent
    # chat
    chat_origins: tuple[str, ...] = ()
    # phone
    twilio_account_sid: str | None = None
    twilio_auth_token: str | None = None
    twilio_from_number: str | None = None
    twilio_api_base: str | None = None
    agent_phone: str | None = None
    # viber (the channel is on only with a token)
    viber_auth_token: str | None = None
    viber_api_base: str = "https://chatapi.viber.com/pa"
    viber_sender_name: str = "Helpdesk"
    # service hours and SLA
    timezone: str = "Europe/Belgrade"
    business_hours: str = "mon-fri 08:00-16:00"
    holidays: tuple[date, ...] = ()
    holiday_rules: str = "rs"  # rs (Serbian public holidays) | none; comma-separated
    sla_policy: str = "business_hours"  # business_hours | clock
    sla_targets: str = ""  # e.g. "urgent=1h/4h,high=2h/8h,payments:normal=2h/8h"; empty: defaults
    sla_warning_ratio: float = 0.25  # warn supervisors when this share of a target is left
    sla_check_seconds: float = 60.0
    # supervisor figures: how often the worker stores closed weeks ahead of the dashboard; 0: never
    metrics_warm_seconds: float = 60.0
    # callbacks: citizens choose a window of business hours for us to phone them
    callback_window_minutes: int = 120  # the length of one window offered (08:00-10:00 ...)
    callback_days: int = 5  # how many working days ahead windows are offered
    callback_max_attempts: int = 3  # calls without an answer before a callback is given up
    # triage
    triage: str = "model"  # model | local
    triage_confidence_threshold: float = 0.45
    triage_routes: str = ""  # "category=queue,..." over helpdesk.routing.DEFAULT_ROUTES
    # outbox
    outbox_max_attempts: int = 8
    outbox_poll_seconds: float = 2.0
    # embedded mode: run the SMTP server and the outbox dispatcher inside `serve`
    embedded_services: bool = True

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Build settings from ``HELPDESK_<FIELD>`` variables (``os.environ`` when env is None)."""
        env = os.environ if env is None else env
        hints = get_type_hints(cls)
        values: dict[str, Any] = {}
        for field in fields(cls):
            raw = env.get("HELPDESK_" + field.name.upper())
            if raw is not None:
                values[field.name] = _parse(field.name, hints[field.name], raw)
        values.update(overrides)
        return cls(**values).resolved()

    def resolved(self) -> Settings:
        """Fill the defaults that depend on other settings."""
        data_dir = self.data_dir.resolve()
        changes: dict[str, Any] = {"data_dir": data_dir}
        if not self.database_url:
            changes["database_url"] = f"sqlite:///{data_dir / 'helpdesk.db'}"
        if not self.public_url:
            changes["public_url"] = f"http://{self.host}:{self.port}"
        else:
            changes["public_url"] = self.public_url.rstrip("/")
        if not self.secret_key:
            changes["secret_key"] = _persistent_secret(data_dir)
        return replace(self, **changes)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def _parse(name: str, hint: Any, raw: str) -> Any:
    text = str(hint)
    try:
        if hint is bool:
            if raw.strip().lower() not in {"1", "true", "yes", "on", "0", "false", "no", "off", ""}:
                raise ValueError(raw)
            return raw.strip().lower() in {"1", "true", "yes", "on"}
        if hint is int:
            return int(raw)
        if hint is float:
            return float(raw)
        if hint is Path:
            return Path(raw)
        if "tuple" in text:
            items = [item.strip() for item in raw.split(",") if item.strip()]
            return tuple(date.fromisoformat(i) for i in items) if "date" in text else tuple(items)
        return raw or None if "None" in text else raw
    except ValueError as exc:
        raise ValueError(f"HELPDESK_{name.upper()}: cannot read {raw!r} as {text}") from exc


def _persistent_secret(data_dir: Path) -> str:
    """A secret generated on first start and kept (mode 0600) so sessions survive restarts."""
    path = data_dir / "secret_key"
    if path.exists():
        return path.read_text().strip()
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(48)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process won the race: use its secret
        return path.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(secret)
    return secret

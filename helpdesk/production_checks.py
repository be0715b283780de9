"""`helpdesk check --production`: the settings that are fine for a demo and unsafe for a service.

Each problem names the variable to set, so an operator can fix the environment file
(deploy/helpdesk.env) without reading code.
"""

from __future__ import annotations

from helpdesk.settings import Settings

# Placeholders people copy from examples (ours included) and forget to replace.
PLACEHOLDER_SECRETS = {"change-me", "changeme", "secret", "dev", "development", "..."}
MIN_SECRET_LENGTH = 32


def production_problems(settings: Settings) -> list[str]:
    """Every unsafe production setting, each as one sentence; empty when there is none."""
    problems: list[str] = []
    generated = settings.data_dir / "secret_key"
    secret = settings.secret_key
    if generated.exists() and generated.read_text().strip() == secret:
        problems.append(
            "HELPDESK_SECRET_KEY is not set: the key generated in the data dir differs on every "
            "machine, so sessions and signed links break across processes"
        )
    elif secret.lower() in PLACEHOLDER_SECRETS or any(w in secret.lower() for w in ("change", "replace")):
        problems.append("HELPDESK_SECRET_KEY is a placeholder: generate one (openssl rand -base64 48)")
    elif len(secret) < MIN_SECRET_LENGTH:
        problems.append(f"HELPDESK_SECRET_KEY is shorter than {MIN_SECRET_LENGTH} characters")
    if settings.is_sqlite:
        problems.append(
            "HELPDESK_DATABASE_URL is SQLite: use PostgreSQL (postgresql+psycopg://...) so that "
            "several processes can write and backups can run online"
        )
    if not settings.embedded_services and not settings.redis_url:
        problems.append(
            "HELPDESK_REDIS_URL is not set while SMTP and the outbox run as their own processes "
            "(HELPDESK_EMBEDDED_SERVICES=0): their events would never reach the consoles"
        )
    if settings.embedded_services and settings.redis_url:
        problems.append(
            "HELPDESK_EMBEDDED_SERVICES=1 with several processes (Redis is set): every web process "
            "would start its own SMTP server; set it to 0 and run `helpdesk smtp` and `helpdesk worker`"
        )
    if not settings.secure_cookies:
        problems.append("HELPDESK_SECURE_COOKIES is off: session cookies would travel over plain HTTP")
    if not settings.public_url.startswith("https://"):
        problems.append(
            f"HELPDESK_PUBLIC_URL is not https ({settings.public_url}): links in mail and SMS and "
            "the chat's origin must be the public HTTPS address"
        )
    if not settings.smtp_relay:
        problems.append(
            "HELPDESK_SMTP_RELAY is not set: answers by email would only be written to the data dir"
        )
    if not settings.metrics_token:
        problems.append("HELPDESK_METRICS_TOKEN is not set: /metrics would be readable by anyone")
    if settings.demo:
        problems.append("HELPDESK_DEMO is on: demo logins and data are for `make run` only")
    if settings.proxy_hops < 1:
        problems.append(
            "HELPDESK_PROXY_HOPS is 0: behind nginx every client would look like 127.0.0.1 "
            "(one rate limit for everybody); set it to the number of proxies (1)"
        )
    from helpdesk.auth.oidc_claims import problems as sign_in_problems

    problems.extend(sign_in_problems(settings))  # single sign-on half set, or no way to sign in
    return problems

"""Two-factor sign-in for local accounts: TOTP (RFC 6238) codes and one-time recovery codes.

The TOTP secret is stored encrypted (Fernet under a key derived from the deployment's secret key),
never logged. A code is accepted one time step either side of now (an authenticator whose clock
drifts a little still works), and each time step only once: the last accepted step is stored and
moved forward with a conditional UPDATE, so two processes cannot both accept the same code.
Recovery codes are random, shown once, and kept as hashes; each works once.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime

import pyotp
import segno
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import delete, or_, select, update

from helpdesk.models import Agent, RecoveryCode
from helpdesk.services import Services
from helpdesk.tickets.types import Actor
from helpdesk.tickets.uow import unit_of_work

ISSUER = "Helpdesk"
RECOVERY_CODES = 10
RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i: read aloud or copied by hand


def _fernet(secret_key: str) -> Fernet:
    # A key of its own (HKDF with a distinct label), so the TOTP secrets do not share a key with
    # anything else derived from SECRET_KEY. Rotating SECRET_KEY means resetting two-factor.
    key = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"helpdesk totp secret v1"
    ).derive(secret_key.encode())
    return Fernet(base64.urlsafe_b64encode(key))


def seal(svc: Services, secret: str) -> str:
    return _fernet(svc.settings.secret_key).encrypt(secret.encode()).decode()


def unseal(svc: Services, sealed: str) -> str | None:
    try:
        return _fernet(svc.settings.secret_key).decrypt(sealed.encode()).decode()
    except InvalidToken:  # the secret key changed: the agent must be reset by an admin
        return None


def required_for(svc: Services, agent: Agent) -> bool:
    """Whether this agent's role must sign in with a second factor (HELPDESK_REQUIRE_2FA_ROLES)."""
    return agent.role in svc.settings.require_2fa_roles


def enabled(agent: Agent) -> bool:
    return agent.totp_enabled_at is not None and agent.totp_secret is not None


def needs_enrolment(svc: Services, agent: Agent) -> bool:
    return required_for(svc, agent) and not enabled(agent)


def _code_hash(code: str) -> str:
    return hashlib.sha256(code.replace("-", "").replace(" ", "").lower().encode()).hexdigest()


def _new_recovery_code() -> str:
    raw = "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(10))
    return f"{raw[:5]}-{raw[5:]}"


def _matching_step(secret: str, code: str, now: datetime) -> int | None:
    """The time step (counter) that ``code`` belongs to, within one step of now, or None."""
    code = code.replace(" ", "")
    if not (code.isdigit() and len(code) == 6):
        return None
    totp = pyotp.TOTP(secret)
    step = totp.timecode(now)
    found = None
    for candidate in (step - 1, step, step + 1):  # valid_window=1; all three compared, no shortcut
        if hmac.compare_digest(totp.generate_otp(candidate), code):
            found = candidate
    return found


@dataclass(frozen=True)
class Enrolment:
    secret: str  # base32, shown as text and as the QR code
    uri: str  # otpauth:// for the authenticator app

    @property
    def grouped(self) -> str:
        return " ".join(self.secret[i : i + 4] for i in range(0, len(self.secret), 4))

    def qr_svg(self, title: str) -> str:
        # Inline SVG: the page needs no image service and the secret never leaves this server.
        return str(segno.make(self.uri, error="m").svg_inline(
            scale=5, title=title, svgclass="qr-code", dark="#000", light="#fff"
        ))


def start_enrolment(svc: Services, agent_id: int) -> Enrolment:
    """A new secret for an agent who has no active two-factor (kept, sealed, until confirmed)."""
    with svc.db.transaction() as s:
        agent = s.get(Agent, agent_id)
        assert agent is not None
        current = unseal(svc, agent.totp_secret) if agent.totp_secret and not enabled(agent) else None
        secret = current or pyotp.random_base32()  # reloading the page keeps the QR code already scanned
        agent.totp_secret = seal(svc, secret)
        agent.totp_enabled_at = None
        agent.totp_last_counter = None
        uri = pyotp.TOTP(secret).provisioning_uri(name=agent.email, issuer_name=ISSUER)
    return Enrolment(secret, uri)


def confirm_enrolment(svc: Services, agent_id: int, code: str) -> list[str] | None:
    """Turn two-factor on if ``code`` is right for the pending secret: the recovery codes (shown
    once) or None."""
    now = svc.clock.now()
    with unit_of_work(svc) as uow:
        agent = uow.session.get(Agent, agent_id)
        if agent is None or agent.totp_secret is None or enabled(agent):
            return None
        secret = unseal(svc, agent.totp_secret)
        step = _matching_step(secret, code, now) if secret else None
        if step is None:
            uow.audit(Actor.agent(agent_id), "2fa.enrol_failed", subject_id=agent_id)
            return None
        agent.totp_enabled_at = now
        agent.totp_last_counter = step  # the confirming code is spent
        codes = _replace_recovery_codes(uow.session, agent_id)
        uow.audit(Actor.agent(agent_id), "2fa.enrolled", subject_id=agent_id,
                  after={"two_factor": True, "recovery_codes": len(codes)})
    return codes


def _replace_recovery_codes(s: object, agent_id: int) -> list[str]:
    from sqlalchemy.orm import Session

    assert isinstance(s, Session)
    s.execute(delete(RecoveryCode).where(RecoveryCode.agent_id == agent_id))
    codes = [_new_recovery_code() for _ in range(RECOVERY_CODES)]
    s.add_all(RecoveryCode(agent_id=agent_id, code_hash=_code_hash(c)) for c in codes)
    return codes


def verify(svc: Services, agent_id: int, code: str) -> str | None:
    """Check a second-factor code at sign-in: "totp", "recovery" (a recovery code, now spent) or
    None. Every outcome is audited."""
    now = svc.clock.now()
    entered = code.strip()
    with unit_of_work(svc) as uow:
        s = uow.session
        agent = s.get(Agent, agent_id)
        outcome: str | None = None
        if agent is not None and enabled(agent):
            secret = unseal(svc, agent.totp_secret or "")
            step = _matching_step(secret, entered, now) if secret else None
            if step is not None:
                # Only a step later than the last one accepted: a code seen over a shoulder or
                # replayed from a log-in a moment ago is refused (RFC 6238 §5.2).
                moved = s.execute(
                    update(Agent)
                    .where(Agent.id == agent_id)
                    .where(or_(Agent.totp_last_counter.is_(None), Agent.totp_last_counter < step))
                    .values(totp_last_counter=step)
                    .execution_options(synchronize_session=False)
                )
                outcome = "totp" if moved.rowcount == 1 else None  # type: ignore[attr-defined]
            elif len(entered.replace("-", "").replace(" ", "")) == 10:
                spent = s.execute(
                    update(RecoveryCode)
                    .where(RecoveryCode.agent_id == agent_id)
                    .where(RecoveryCode.code_hash == _code_hash(entered))
                    .where(RecoveryCode.used_at.is_(None))
                    .values(used_at=now)
                    .execution_options(synchronize_session=False)
                )
                outcome = "recovery" if spent.rowcount == 1 else None  # type: ignore[attr-defined]
        if outcome == "recovery":
            left = s.scalar(
                select(RecoveryCode.id).where(RecoveryCode.agent_id == agent_id)
                .where(RecoveryCode.used_at.is_(None)).limit(1)
            )
            uow.audit(Actor.agent(agent_id), "2fa.recovery_code_used", subject_id=agent_id,
                      after={"recovery_codes_left": left is not None})
        elif outcome == "totp":
            uow.audit(Actor.agent(agent_id), "2fa.succeeded", subject_id=agent_id)
        else:
            uow.audit(Actor.agent(agent_id), "2fa.failed", subject_id=agent_id)
    return outcome


def recovery_codes_left(svc: Services, agent_id: int) -> int:
    with svc.db.session() as s:
        return len(s.scalars(
            select(RecoveryCode.id).where(RecoveryCode.agent_id == agent_id)
            .where(RecoveryCode.used_at.is_(None))
        ).all())


def disable(svc: Services, agent_id: int, actor: Actor, action: str = "2fa.disabled") -> bool:
    """Turn two-factor off (the agent themself, or an admin's reset): True if it was on or
    pending."""
    with unit_of_work(svc) as uow:
        agent = uow.session.get(Agent, agent_id)
        if agent is None or agent.totp_secret is None:
            return False
        was_enabled = enabled(agent)
        agent.totp_secret = None
        agent.totp_enabled_at = None
        agent.totp_last_counter = None
        uow.session.execute(delete(RecoveryCode).where(RecoveryCode.agent_id == agent_id))
        uow.audit(actor, action, subject_id=agent_id,
                  before={"two_factor": was_enabled}, after={"two_factor": False})
    return True

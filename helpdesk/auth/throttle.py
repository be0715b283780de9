"""Login throttling by account AND client address together (OWASP ASVS 2.2).

A stranger who guesses passwords for an account from one address slows down only that pair
(account, address); the agent logging in from another address is never locked out. Each pair has a
few free failures, then every further failure blocks the pair for twice as long as the last one
(30 s, 1 min, 2 min ... up to 15 min). Each address also has a budget of failures per hour across
all accounts, so one machine cannot spray passwords over every account. There is deliberately no
account-wide lockout: anyone could trigger that at will.

The counters live in the same storage as the rate limiter (Redis when HELPDESK_REDIS_URL is set,
so every server process sees the same counts; process memory otherwise). Keys hold a keyed hash of
the email, never the email itself.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from dataclasses import dataclass

from flask import Flask, current_app
from limits.storage import Storage, storage_from_string

FREE_FAILURES = 5  # per (account, address) before the first block
FIRST_BLOCK_SECONDS = 30
MAX_BLOCK_SECONDS = 15 * 60
FAILURE_WINDOW_SECONDS = 60 * 60  # failures are remembered this long after the first one
ADDRESS_WINDOW_SECONDS = 60 * 60
log = logging.getLogger(__name__)


def block_seconds(failures: int) -> int:
    """How long a pair is blocked after its ``failures``-th failure in the window (0: not)."""
    if failures < FREE_FAILURES:
        return 0
    return min(FIRST_BLOCK_SECONDS * 2 ** min(failures - FREE_FAILURES, 16), MAX_BLOCK_SECONDS)


@dataclass
class LoginThrottle:
    storage: Storage
    secret: bytes
    namespace: str  # one deployment's keys (tests run many apps against one Redis)
    address_failures_per_hour: int

    def _account(self, email: str) -> str:
        normalized = email.strip().lower().encode()
        return hmac.new(self.secret, normalized, hashlib.sha256).hexdigest()[:32]

    def _keys(self, email: str, address: str) -> tuple[str, str, str]:
        pair = f"{self._account(email)}:{address}"
        return (
            f"{self.namespace}:login:fail:{pair}",
            f"{self.namespace}:login:block:{pair}",
            f"{self.namespace}:login:addr:{address}",
        )

    def blocked(self, email: str, address: str) -> bool:
        """True while this pair is in a block, or this address has spent its hourly budget."""
        _, block, per_address = self._keys(email, address)
        try:
            return (
                self.storage.get(block) > 0
                or self.storage.get(per_address) >= self.address_failures_per_hour
            )
        except Exception as exc:  # noqa: BLE001 - see _unavailable
            return self._unavailable(exc)

    def failed(self, email: str, address: str) -> None:
        fail, block, per_address = self._keys(email, address)
        try:
            self.storage.incr(per_address, ADDRESS_WINDOW_SECONDS)
            seconds = block_seconds(self.storage.incr(fail, FAILURE_WINDOW_SECONDS))
            if seconds:
                # The block key is absent here (blocked pairs are refused before they count), so
                # its expiry is set afresh: the block lasts exactly `seconds`.
                self.storage.incr(block, seconds)
        except Exception as exc:  # noqa: BLE001 - see _unavailable
            self._unavailable(exc)

    def succeeded(self, email: str, address: str) -> None:
        fail, block, _ = self._keys(email, address)
        try:
            self.storage.clear(fail)
            self.storage.clear(block)
        except Exception as exc:  # noqa: BLE001 - see _unavailable
            self._unavailable(exc)

    @staticmethod
    def _unavailable(exc: Exception) -> bool:
        # Redis down must not take the login down with it: agents still log in (each attempt
        # still costs an attacker a scrypt check), and the outage is logged for the operator.
        log.warning("login throttle storage unavailable (%s): not throttling", type(exc).__name__)
        return False


def init_throttle(app: Flask, storage_uri: str, namespace: str, per_address: int) -> None:
    from helpdesk.auth.accounts import warm_up

    warm_up()  # the first failed login must not be the one that also pays for the dummy hash
    storage = storage_from_string(storage_uri)
    assert isinstance(storage, Storage)  # memory:// or redis://, never an async:// storage
    app.extensions["login_throttle"] = LoginThrottle(
        storage=storage,
        secret=str(app.config["SECRET_KEY"]).encode(),
        namespace=namespace,
        address_failures_per_hour=per_address,
    )


def login_throttle() -> LoginThrottle:
    throttle: LoginThrottle = current_app.extensions["login_throttle"]
    return throttle

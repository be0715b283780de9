"""The public ticket form's rate limit, per client address, in one storage call (issue 14).

``@limiter.limit`` cost the hottest public endpoint three storage calls per request (the hit,
then a read of the count and one of the expiry for the ``X-RateLimit-*`` headers: three Redis
round trips in production) and ~360 Python calls of flask-limiter's bookkeeping, about a sixth of
the worker's calls around the core write (bench/tickets, as served). Here the window
is fixed to the clock (0:00–0:59, 1:00–1:59 for "per minute"), so its end is known without asking
the storage and the count comes back from the increment itself.

The counters live in the same storage as flask-limiter's (memory, or Redis with the deployment's
key prefix), the limit is the same setting, ``limiter.enabled`` still switches it off, and a
storage that fails lets the request through, logged, like ``RATELIMIT_SWALLOW_ERRORS``. Every
request counts, a refused or invalid one too, as before. A burst across a window's end can reach
twice the limit, as with flask-limiter's fixed window.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from functools import lru_cache, wraps
from typing import Any, TypeVar

from flask import current_app, make_response
from flask_limiter.util import get_remote_address
from limits import RateLimitItem, parse_many
from werkzeug.wrappers import Response

from helpdesk.api.errors import error_response
from helpdesk.extensions import limiter

log = logging.getLogger(__name__)
F = TypeVar("F", bound=Callable[..., Any])


@lru_cache(maxsize=16)
def _limits(text: str) -> tuple[RateLimitItem, ...]:
    return tuple(parse_many(text))


def count_hit(scope: str, rate: str, address: str, now: float) -> tuple[RateLimitItem, int, int] | None:
    """Count one request against each limit in ``rate``; the tightest as (limit, remaining,
    reset epoch), a negative remaining when over. None when nothing could be counted."""
    prefix = current_app.config.get("RATELIMIT_KEY_PREFIX", "")
    tightest: tuple[RateLimitItem, int, int] | None = None
    for item in _limits(rate):
        seconds = item.get_expiry()
        window = int(now // seconds)
        reset = (window + 1) * seconds
        key = f"{prefix}/{scope}/{address}/{item.amount}/{seconds}/{window}"
        try:
            count = limiter.storage.incr(key, max(1, int(reset - now) + 1))
        except Exception:  # noqa: BLE001 - Redis down: serve unlimited (and say so), never a 500
            log.exception("rate limit storage unreachable; %s not limited", scope)
            continue
        remaining = item.amount - count
        if tightest is None or remaining < tightest[1]:
            tightest = (item, remaining, reset)
    return tightest


def rate_limited(rate: Callable[[], str], scope: str) -> Callable[[F], F]:
    """429 in JSON once an address has used up ``rate()`` (a limits string such as
    "30 per minute"); every answer carries X-RateLimit-Limit, -Remaining and -Reset."""

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Response:
            if not limiter.enabled:
                return make_response(view(*args, **kwargs))
            now = time.time()
            counted = count_hit(scope, rate(), get_remote_address(), now)
            if counted is None:
                return make_response(view(*args, **kwargs))
            item, remaining, reset = counted
            if remaining < 0:
                response = make_response(error_response(429))
                response.headers["Retry-After"] = str(max(1, int(reset - now)))
            else:
                try:
                    response = make_response(view(*args, **kwargs))
                except Exception as exc:  # noqa: BLE001 - the blueprint's handlers answer (a 422...), headers on
                    response = make_response(current_app.handle_user_exception(exc))
            response.headers["X-RateLimit-Limit"] = str(item.amount)
            response.headers["X-RateLimit-Remaining"] = str(max(0, remaining))
            response.headers["X-RateLimit-Reset"] = str(reset)
            return response

        return wrapper  # type: ignore[return-value]

    return decorate

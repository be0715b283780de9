"""The app-wide hooks that serve only pages do not run for /api/ requests (issue 14).

Flask runs every app-wide hook on every request. Five of them have nothing to do on /api/, where
there is no session (``hygiene.PageSessionInterface``) and every view is public or takes a bearer
token:

- CSRF: a form token lives in the session, and every /api/ blueprint is exempt;
- Flask-Login's remember-me cookie and the interface language an agent picked: both are written
  to the session or for a signed-in agent, and an API call has neither;
- the privacy access log: it records console pages that showed a contact to a signed-in agent;
- ``security.set_headers``: the pages' Content-Security-Policy, and ``no-store`` for signed-in
  agents; every API answer is ``no-store`` already (``hygiene.no_store``), and without the pages'
  policy it keeps the strict one every response gets (``default-src 'none'``), which suits JSON.

Each run of consecutive such hooks becomes one hook that looks at the path once: ~185,000 fewer
instructions per API create, about 1/8 of what the app around the core write costs (callgrind,
bench README "API create: the hooks around the core write"). A page request runs the same hooks
in the same order as before.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from flask import Flask, request

from helpdesk.api.hygiene import API_PREFIX

# module:qualified name of each hook that serves only pages (see above)
PAGE_ONLY_BEFORE = frozenset({"flask_wtf.csrf:CSRFProtect.init_app.<locals>.csrf_protect"})
PAGE_ONLY_AFTER = frozenset(
    {
        "flask_login.login_manager:LoginManager._update_remember_cookie",
        "helpdesk.privacy.access_log:_after_request",
        "helpdesk:_template_context.<locals>.remember_language",
        "helpdesk.security:set_headers",
    }
)


def hook_name(hook: Any) -> str:
    return f"{getattr(hook, '__module__', '')}:{getattr(hook, '__qualname__', '')}"


def skip_page_hooks_for_api(app: Flask) -> None:
    """Call once every hook is registered. A page-only hook that is missing (a library renamed
    it) stops the app from starting rather than running, or skipping, something unknown."""
    found: set[str] = set()
    before = app.before_request_funcs.setdefault(None, [])
    before[:] = _grouped(before, PAGE_ONLY_BEFORE, found, _pages_only_before)
    after = app.after_request_funcs.setdefault(None, [])
    after[:] = _grouped(after, PAGE_ONLY_AFTER, found, _pages_only_after)
    missing = (PAGE_ONLY_BEFORE | PAGE_ONLY_AFTER) - found
    if missing:
        raise RuntimeError(f"page-only hooks not found: {sorted(missing)}")


def _grouped(
    hooks: list[Any],
    page_only: frozenset[str],
    found: set[str],
    wrap: Callable[[list[Any]], Any],
) -> list[Any]:
    """``hooks`` with each run of consecutive page-only ones replaced by ``wrap(run)``, in place,
    so that the order in which Flask runs them does not change."""
    out: list[Any] = []
    run: list[Any] = []
    for hook in [*hooks, None]:
        name = hook_name(hook) if hook is not None else ""
        # Flask awaits a coroutine hook through ensure_sync; ours calls directly, so none is taken.
        if name in page_only and not inspect.iscoroutinefunction(hook):
            found.add(name)
            run.append(hook)
            continue
        if run:
            out.append(wrap(run))
            run = []
        if hook is not None:
            out.append(hook)
    return out


def _pages_only_before(hooks: list[Any]) -> Callable[[], Any]:
    def pages_only_before() -> Any:
        if request.path.startswith(API_PREFIX):
            return None
        for hook in hooks:  # Flask's order: as registered, the first answer wins
            answer = hook()
            if answer is not None:
                return answer
        return None

    pages_only_before.hooks = tuple(hooks)  # type: ignore[attr-defined]
    return pages_only_before


def _pages_only_after(hooks: list[Any]) -> Callable[[Any], Any]:
    def pages_only_after(response: Any) -> Any:
        if request.path.startswith(API_PREFIX):
            return response
        for hook in reversed(hooks):  # Flask's order: the last registered runs first
            response = hook(response)
        return response

    pages_only_after.hooks = tuple(hooks)  # type: ignore[attr-defined]
    return pages_only_after

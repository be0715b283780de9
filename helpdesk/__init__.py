"""Helpdesk: a support center for government digital services.

``create_app(settings)`` builds the web app with its services; channels plug in by name.
"""

from __future__ import annotations

import importlib
from pathlib import Path

from flask import Flask, g, request, session
from flask_babel import get_locale
from flask_login import current_user
from werkzeug.middleware.proxy_fix import ProxyFix

from helpdesk.auth.throttle import init_throttle
from helpdesk.db import Database, Timeouts
from helpdesk.events import SocketIOPublisher
from helpdesk.extensions import (
    MEMORY_STORAGE_URI,
    babel,
    csrf,
    limiter,
    limiter_hooks_when_used,
    login_manager,
    make_socketio,
    skip_empty_limit_pass,
)
from helpdesk.files import private_dir, restrict_umask
from helpdesk.i18n import LANGUAGE_NAMES, LANGUAGES, current_language, select_locale
from helpdesk.logs import configure_logging
from helpdesk.navigation import citizen_links, lang_url, nav_links
from helpdesk.services import Services
from helpdesk.settings import Settings

ROOT = Path(__file__).resolve().parent.parent


def create_app(settings: Settings | None = None, services: Services | None = None) -> Flask:
    settings = settings or Settings.from_env()
    restrict_umask()  # before anything is written: the data dir holds personal data
    private_dir(settings.data_dir)
    configure_logging(settings)
    app = Flask(
        __name__,
        template_folder=str(ROOT / "templates"),
        static_folder="static",
    )
    app.config.update(
        SECRET_KEY=settings.secret_key,
        TESTING=settings.testing,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.secure_cookies,
        SESSION_COOKIE_NAME="helpdesk_session",
        MAX_CONTENT_LENGTH=settings.max_message_bytes,
        WTF_CSRF_TIME_LIMIT=None,  # tied to the session instead: a console left open still works
        RATELIMIT_STORAGE_URI=settings.redis_url or MEMORY_STORAGE_URI,
        RATELIMIT_HEADERS_ENABLED=True,
        RATELIMIT_SWALLOW_ERRORS=True,  # Redis down: serve unlimited (and log), never a 500
        RATELIMIT_KEY_PREFIX=settings.socketio_channel,  # one deployment's counters in a shared Redis
        BABEL_DEFAULT_LOCALE="sr_Latn",
        BABEL_TRANSLATION_DIRECTORIES=str(Path(__file__).parent / "translations"),
    )
    if settings.proxy_hops:  # the client's address (rate limits) and scheme come from the proxy
        hops = settings.proxy_hops
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]
    if services is None:  # every wait on the database bounded by the settings' timeouts
        database = Database(settings.database_url, timeouts=Timeouts.of(settings))
        services = Services(settings=settings, db=database)
    svc = services
    app.extensions["helpdesk"] = svc

    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    csrf.init_app(app)
    limiter.init_app(app)
    init_throttle(
        app,
        app.config["RATELIMIT_STORAGE_URI"],
        namespace=settings.socketio_channel,
        per_address=settings.login_failures_per_address,
    )
    babel.init_app(app, locale_selector=select_locale)
    svc.publisher = SocketIOPublisher(make_socketio(app))

    _register_blueprints(app)
    from helpdesk.admin import init_app as init_admin
    from helpdesk.console import init_app as init_console
    from helpdesk.kb import init_app as init_kb
    from helpdesk.supervisor import init_app as init_supervisor
    from helpdesk.triage_service import init_app as init_triage

    init_admin(app, svc)  # administration pages and the display-name filters every page uses
    init_console(app, svc)
    init_kb(app, svc)
    init_triage(app, svc)
    init_supervisor(app, svc)  # SLA policy and watch, dashboard, metrics API, survey
    from helpdesk.callbacks import init_app as init_callbacks

    init_callbacks(app, svc)  # the callback queue, accommodations on tickets
    from helpdesk.incidents.web import init_app as init_incidents

    init_incidents(app, svc)  # incident pages, the console panel and the citizen banner
    _load_channels(app, svc)
    _template_context(app)
    from helpdesk.timefmt import init_app as init_time

    init_time(app)  # every time shown in HELPDESK_TIMEZONE, with its zone
    from helpdesk.api.hygiene import init_app as init_api_hygiene
    from helpdesk.monitoring import init_metrics
    from helpdesk.security import init_security
    from helpdesk.serving import init_access_log

    init_security(app)
    init_access_log(app)
    init_api_hygiene(app)
    init_metrics(app, svc)
    skip_empty_limit_pass(app)  # after every blueprint: each view's own limit is still checked
    limiter_hooks_when_used(app)
    from helpdesk.api.page_hooks import skip_page_hooks_for_api

    skip_page_hooks_for_api(app)  # after every hook: /api/ skips the pages' own (CSRF, cookies, CSP)
    return app


def _register_blueprints(app: Flask) -> None:
    from helpdesk.api import bp as api_bp
    from helpdesk.auth.twofactor_views import bp as twofactor_bp
    from helpdesk.auth.views import bp as auth_bp
    from helpdesk.web import bp as web_bp

    app.register_blueprint(web_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(twofactor_bp)
    from helpdesk.auth import oidc

    oidc.init_app(app, app.extensions["helpdesk"].settings)  # staff single sign-on (if set)
    app.register_blueprint(api_bp)
    csrf.exempt(api_bp)  # bearer tokens, not cookies: there is no ambient credential to forge
    from helpdesk.privacy import views as privacy_views

    privacy_views.init_app(app)


def _load_channels(app: Flask, svc: Services) -> None:
    """Each channel is a package with init_app(app, services); the core never imports them."""
    for name in svc.settings.channels:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            app.logger.warning("channel %s is not installed; skipping it", name)
            continue
        module.init_app(app, svc)


def _template_context(app: Flask) -> None:
    @login_manager.user_loader
    def load_agent(key: str) -> object | None:
        from helpdesk.auth.accounts import load_session, touch_session

        svc: Services = app.extensions["helpdesk"]
        now = svc.clock.now()
        with svc.db.session() as s:
            agent, stale = load_session(s, key, now)
            if agent is not None:
                s.expunge(agent)
        if stale:
            with svc.db.transaction() as s:
                touch_session(s, key, now)
        return agent

    @app.context_processor
    def inject() -> dict[str, object]:
        return {
            "current_language": current_language(),
            "language_names": LANGUAGE_NAMES,
            "nav_links": nav_links(),
            "citizen_links": citizen_links(),
            "lang_url": lang_url,
        }

    @app.after_request
    def remember_language(response):  # type: ignore[no-untyped-def]
        if request.args.get("lang") in LANGUAGES and not app.session_interface.is_null_session(session):
            # The locale is chosen lazily, at the first translated string: a response that
            # translated nothing (a redirect) would forget the ?lang= it was asked with. An API
            # call (no session) has no interface language to remember: its lang is a filter.
            get_locale()
        chosen = g.pop("remember_agent_language", None)
        if chosen and current_user.is_authenticated and current_user.language != chosen:
            from helpdesk.models import Agent

            svc: Services = app.extensions["helpdesk"]
            with svc.db.transaction() as s:
                agent = s.get(Agent, current_user.id)
                if agent is not None:
                    agent.language = chosen
        return response

    for code in (403, 404, 405, 413, 429, 500):
        app.register_error_handler(code, lambda error, code=code: _error_page(code))


def _error_page(code: int):  # type: ignore[no-untyped-def]
    from flask import jsonify, render_template

    from helpdesk.api.errors import MESSAGES

    if request.blueprint == "api" or request.path.startswith("/api/"):
        return jsonify({"error": {"code": MESSAGES[code][0], "message": MESSAGES[code][1]}}), code
    return render_template("error.html", code=code), code

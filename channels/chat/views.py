"""The /chat page, its embeddable variant and the one-script-tag loader."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Blueprint, Response, current_app, render_template, request, send_file
from flask_babel import gettext as _

from channels.chat import store
from channels.chat.validate import MAX_CHARS
from helpdesk.auth.roles import public
from helpdesk.i18n import LANGUAGE_NAMES, current_language
from helpdesk.security import current_csp
from helpdesk.services import current_services

bp = Blueprint("chat", __name__)
EMBED_JS = Path(__file__).resolve().parents[2] / "helpdesk" / "static" / "js" / "chat-embed.js"


def chat_strings() -> dict[str, str]:
    """Interface text the script shows, translated on the server."""
    return {
        "you": _("You"),
        "support": _("Support"),
        "online": _("An agent is online and will answer here."),
        "offline": _(
            "No agent is online right now. Leave your message and, if you like, your email "
            "address: we will answer by email."
        ),
        "reconnecting": _("Connection lost. Reconnecting…"),
        "sending": _("Sending…"),
        "not_sent": _("Not sent."),
        "empty": _("Write a message first."),
        "bad_email": _("That does not look like an email address."),
        "need_email": _("Enter your email address above to receive the transcript."),
        "transcript_sent": _("The transcript is on its way to your email."),
        "try_again": _("That did not work. Please try again."),
        "typing": _("%(name)s is typing…", name="%(name)s"),
        "chatting_with": _("You are chatting with %(name)s.", name="%(name)s"),
        "survey": _("Your question was resolved. How did we do? Tell us in a short survey."),
        "survey_link": _("Open the survey"),
        "suggest_found": _("Articles that may answer your question: %(n)s.", n="%(n)s"),
        "new_tab": _("(opens in a new tab)"),
        "closed": _("Thank you. The conversation is closed."),
        "received": _(
            "Thank you, your message is saved under the reference %(ref)s. No agent is online "
            "right now.",
            ref="%(ref)s",
        ),
        "received_email": _(
            "Thank you, your message is saved under the reference %(ref)s. No agent is online "
            "right now: we will answer by email.",
            ref="%(ref)s",
        ),
        "leave_email": _("Leave your email address so that we can answer you there."),
        "add_email": _("Add my email address"),
        "email_saved": _("Thank you. We will answer at this email address."),
    }


def frame_ancestors() -> str:
    origins = current_services().settings.chat_origins
    return " ".join(["'self'", *origins])


@bp.get("/chat")
@public
def chat_page() -> Response:
    svc = current_services()
    embed = request.args.get("embed") == "1"
    context: dict[str, Any] = {
        "embed": embed,
        "html_lang": current_language(),
        "language": current_language(),
        "languages": list(LANGUAGE_NAMES.items()),
        "strings": chat_strings(),
        "agents_online": store.agents_online(svc, svc.clock.now()),
        "socket_base": "",
        "vendor_socketio": "/vendor/socket.io-client/socket.io.min.js",
        "max_chars": MAX_CHARS,
        "support_address": svc.settings.support_address,
    }
    response = current_app.make_response(render_template("chat/chat.html", **context))
    allow_embedding(response)
    return response


def allow_embedding(response: Response) -> None:
    """Only the listed sites may frame the chat (CSP frame-ancestors; same-origin by default).

    Browsers ignore X-Frame-Options when CSP frame-ancestors is present, so the app-wide
    "DENY" does not get in the way of the sites listed here.
    """
    policy = current_csp().split(";")
    directives = [d.strip() for d in policy if not d.strip().startswith("frame-ancestors")]
    response.headers["Content-Security-Policy"] = "; ".join(
        [*directives, "frame-ancestors " + frame_ancestors()]
    )
    response.headers["X-Frame-Options"] = "SAMEORIGIN"


@bp.get("/chat/embed.js")
@public
def embed_loader() -> Response:
    response = send_file(EMBED_JS, mimetype="text/javascript", max_age=3600)
    response.headers["Cross-Origin-Resource-Policy"] = "cross-origin"
    return response

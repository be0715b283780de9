"""Admin page for API tokens: who holds which, with what scope and until when; revoke one.

The secret is never stored (only its hash), so the page shows the first characters of each token
for recognition; new tokens are made with `helpdesk token create` on the server.
"""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from helpdesk.admin.common import actor, bp
from helpdesk.auth import roles_required
from helpdesk.auth.accounts import list_tokens, revoke_token
from helpdesk.services import current_services


def scope_labels() -> dict[str, str]:
    return {"read": _("read tickets"), "tickets": _("change tickets"), "metrics": _("figures")}


@bp.get("/tokens")
@roles_required("admin")
def tokens() -> str:
    svc = current_services()
    return render_template("admin/tokens.html", tokens=list_tokens(svc), now=svc.clock.now(),
                           scope_labels=scope_labels())


@bp.post("/tokens/<int:token_id>/revoke")
@roles_required("admin")
def token_revoke(token_id: int) -> Response:
    outcome = revoke_token(current_services(), token_id, actor())
    if outcome is None:
        flash(_("There is no such token."), "error")
    else:
        flash(_("The token is revoked: its next request is refused."), "info")
    return redirect(url_for("admin.tokens"))

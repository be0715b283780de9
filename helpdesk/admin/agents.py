"""Admin pages for agents: the list, a new agent, role / editor / queues, deactivate."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response

from helpdesk.admin.common import actor, bp, message
from helpdesk.administration import (
    AdminError,
    create_agent,
    deactivate_agent,
    list_queues,
    reactivate_agent,
    update_agent,
)
from helpdesk.auth import roles_required
from helpdesk.models import ROLES, Agent
from helpdesk.services import current_services


def role_labels() -> dict[str, str]:
    return {"agent": _("Agent"), "supervisor": _("Supervisor"), "admin": _("Administrator")}


def _agents() -> list[dict[str, Any]]:
    with current_services().db.session() as s:
        rows = s.scalars(select(Agent).order_by(Agent.active.desc(), Agent.name)).all()
        return [
            {"id": a.id, "name": a.name, "email": a.email, "role": a.role, "editor": a.is_editor,
             "active": a.active, "queues": sorted(q.name for q in a.queues)}
            for a in rows
        ]


def _render_list(form: dict[str, Any], error: str | None = None, status: int = 200) -> tuple[str, int]:
    svc = current_services()
    html = render_template("admin/agents.html", agents=_agents(), roles=ROLES,
                           role_labels=role_labels(), queues=[q.name for q in list_queues(svc)],
                           form=form, error=error)
    return html, status


@bp.get("/agents")
@roles_required("admin")
def agents() -> tuple[str, int]:
    return _render_list({"role": "agent", "queues": []})


@bp.post("/agents")
@roles_required("admin")
def agent_create() -> tuple[str, int]:
    form: dict[str, Any] = {
        "email": request.form.get("email", ""),
        "name": request.form.get("name", ""),
        "role": request.form.get("role", "agent"),
        "editor": request.form.get("editor") == "1",
        "queues": request.form.getlist("queues"),
    }
    try:
        made = create_agent(current_services(), actor(), form["email"], name=form["name"] or None,
                            role=form["role"], editor=form["editor"], queues=form["queues"])
    except AdminError as exc:
        return _render_list(form, message(exc), 400)
    # Shown in this response only: a flash message would carry it in the (signed, not encrypted)
    # session cookie.
    return agent_edit(made.id, new_password=made.password, status=201)


def _agent(agent_id: int) -> dict[str, Any]:
    for agent in _agents():
        if agent["id"] == agent_id:
            return agent
    abort(404)


@bp.get("/agents/<int:agent_id>")
@roles_required("admin")
def agent_edit(
    agent_id: int, error: str | None = None, status: int = 200, new_password: str | None = None
) -> tuple[str, int]:
    svc = current_services()
    html = render_template("admin/agent.html", agent=_agent(agent_id), roles=ROLES,
                           role_labels=role_labels(), queues=[q.name for q in list_queues(svc)],
                           error=error, new_password=new_password)
    return html, status


@bp.post("/agents/<int:agent_id>")
@roles_required("admin")
def agent_update(agent_id: int) -> Response | tuple[str, int]:
    _agent(agent_id)
    try:
        update_agent(current_services(), actor(), agent_id, role=request.form.get("role"),
                     editor=request.form.get("editor") == "1",
                     queues=request.form.getlist("queues"), name=request.form.get("name"))
    except AdminError as exc:
        return agent_edit(agent_id, message(exc), 400)
    flash(_("Changes saved."), "ok")
    return redirect(url_for("admin.agent_edit", agent_id=agent_id))


@bp.post("/agents/<int:agent_id>/active")
@roles_required("admin")
def agent_active(agent_id: int) -> Response | tuple[str, int]:
    _agent(agent_id)
    svc = current_services()
    try:
        if request.form.get("active") == "1":
            reactivate_agent(svc, actor(), agent_id)
            flash(_("The agent can log in again."), "ok")
        elif agent_id == int(current_user.id):
            return agent_edit(agent_id, _("You cannot deactivate yourself."), 400)
        else:
            deactivate_agent(svc, actor(), agent_id)
            flash(_("The agent is deactivated: their sessions and API tokens no longer work."), "ok")
    except AdminError as exc:
        return agent_edit(agent_id, message(exc), 400)
    return redirect(url_for("admin.agent_edit", agent_id=agent_id))

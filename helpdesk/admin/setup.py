"""Admin pages for the desk's setup: queues and categories, routes, business hours and SLA."""

from __future__ import annotations

from datetime import date

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from helpdesk.admin.common import actor, bp, language_labels, message, names_from
from helpdesk.administration import (
    AdminError,
    change_route,
    create_queue,
    list_categories,
    list_queues,
    rename_queue,
    route_effects,
    set_category_names,
    set_service_setting,
)
from helpdesk.administration.names import display_name, forget_names
from helpdesk.administration.service_hours import (
    check_service_setting,
    effective,
    stored_settings,
)
from helpdesk.auth import roles_required
from helpdesk.business_hours import BusinessCalendar
from helpdesk.services import current_services
from helpdesk.sla.stored import effective_settings


@bp.get("")
@roles_required("admin")
def index() -> str:
    return render_template("admin/index.html")


# --- queues and categories --------------------------------------------------------------------


def _queues_page(form: dict[str, str], error: str | None = None, status: int = 200) -> tuple[str, int]:
    html = render_template("admin/queues.html", queues=list_queues(current_services()),
                           fields=language_labels(), form=form, error=error)
    return html, status


@bp.get("/queues")
@roles_required("admin")
def queues() -> tuple[str, int]:
    return _queues_page({})


@bp.post("/queues")
@roles_required("admin")
def queue_create() -> Response | tuple[str, int]:
    form = {k: request.form.get(k, "") for k in ("key", "name_sr_latn", "name_sr_cyrl", "name_en")}
    try:
        create_queue(current_services(), actor(), form["key"], names_from(request.form))
    except AdminError as exc:
        return _queues_page(form, message(exc), 400)
    forget_names()
    flash(_("Queue “%(name)s” created.", name=display_name("queue", form["key"].strip())), "ok")
    return redirect(url_for("admin.queues"))


def _names_page(kind: str, key: str, names: dict[str, str], error: str | None = None,
                status: int = 200) -> tuple[str, int]:
    html = render_template("admin/names.html", kind=kind, key=key, names=names,
                           fields=language_labels(), error=error)
    return html, status


@bp.get("/queues/<name>")
@roles_required("admin")
def queue_edit(name: str) -> tuple[str, int]:
    found = {q.name: q for q in list_queues(current_services())}
    if name not in found:
        abort(404)
    return _names_page("queue", name, found[name].names)


@bp.post("/queues/<name>")
@roles_required("admin")
def queue_rename(name: str) -> Response | tuple[str, int]:
    names = names_from(request.form)
    try:
        rename_queue(current_services(), actor(), name, names)
    except AdminError as exc:
        return _names_page("queue", name, {k: v or "" for k, v in names.items()}, message(exc), 400)
    forget_names()
    flash(_("Names saved."), "ok")
    return redirect(url_for("admin.queues"))


@bp.get("/categories")
@roles_required("admin")
def categories() -> str:
    return render_template("admin/categories.html", categories=list_categories(current_services()))


@bp.get("/categories/<key>")
@roles_required("admin")
def category_edit(key: str) -> tuple[str, int]:
    found = dict(list_categories(current_services()))
    if key not in found:
        abort(404)
    return _names_page("category", key, found[key])


@bp.post("/categories/<key>")
@roles_required("admin")
def category_rename(key: str) -> Response | tuple[str, int]:
    if key not in dict(list_categories(current_services())):
        abort(404)
    names = names_from(request.form)
    try:
        set_category_names(current_services(), actor(), key, names)
    except AdminError as exc:
        return _names_page("category", key, {k: v or "" for k, v in names.items()}, message(exc), 400)
    forget_names()
    flash(_("Names saved."), "ok")
    return redirect(url_for("admin.categories"))


# --- routes -----------------------------------------------------------------------------------


def _routes_page(error: str | None = None, status: int = 200) -> tuple[str, int]:
    svc = current_services()
    html = render_template("admin/routes.html", routes=route_effects(svc),
                           queues=[q.name for q in list_queues(svc)], error=error)
    return html, status


@bp.get("/routes")
@roles_required("admin")
def routes() -> tuple[str, int]:
    return _routes_page()


@bp.post("/routes")
@roles_required("admin")
def routes_save() -> Response | tuple[str, int]:
    svc = current_services()
    changed = 0
    try:
        for effect in route_effects(svc):
            wanted = request.form.get(f"route-{effect.category}")
            if wanted and wanted != effect.queue:
                change_route(svc, actor(), effect.category, wanted)
                changed += 1
    except AdminError as exc:
        return _routes_page(message(exc), 400)
    flash(_("Routes saved: %(n)d changed. New tickets follow them; open tickets stay where they are.",
            n=changed), "ok")
    return redirect(url_for("admin.routes"))


# --- business hours, holidays, SLA ------------------------------------------------------------


def _hours_page(values: dict[str, str], error: str | None = None, status: int = 200) -> tuple[str, int]:
    svc = current_services()
    settings = effective_settings(svc.settings, stored_settings(svc.db))
    calendar = BusinessCalendar.from_settings(settings)
    today = svc.clock.now().astimezone(calendar.tz).date()
    upcoming = sorted(d for y in (today.year, today.year + 1) for d in calendar.holidays(y)
                      if today <= d <= date(today.year + 1, today.month, today.day))
    html = render_template("admin/hours.html", values=values, error=error, upcoming=upcoming,
                           timezone=settings.timezone)
    return html, status


@bp.get("/hours")
@roles_required("admin")
def hours() -> tuple[str, int]:
    svc = current_services()
    return _hours_page(effective(svc.settings, stored_settings(svc.db)))


@bp.post("/hours")
@roles_required("admin")
def hours_save() -> Response | tuple[str, int]:
    svc = current_services()
    values = {k: request.form.get(k, "") for k in ("business_hours", "holidays", "sla_targets")}
    try:
        for key in values:  # check all three before storing any
            check_service_setting(key, values[key])
        for key in ("business_hours", "sla_targets", "holidays"):
            set_service_setting(svc, actor(), key, values[key])
    except AdminError as exc:
        return _hours_page(values, message(exc), 400)
    flash(_("Business hours, holidays and SLA targets saved. New due times follow them."), "ok")
    return redirect(url_for("admin.hours"))

"""`GET /api/v1/metrics/weekly?from=2026-W40&to=2026-W48` for supervisors (bearer token)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from flask import Blueprint, jsonify, request
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from helpdesk.access import REPORTS_ROLE
from helpdesk.api.auth import token_required
from helpdesk.api.errors import ApiError, error_response
from helpdesk.auth import public
from helpdesk.metrics import weekly_report
from helpdesk.services import current_services
from helpdesk.supervisor.filters import FilterError, read_query

bp = Blueprint("metrics_api", __name__, url_prefix="/api/v1/metrics")


@bp.errorhandler(ApiError)
def _api_error(exc: ApiError) -> tuple[Response, int]:
    return error_response(exc.status, exc.message, exc.code, exc.details)


@bp.errorhandler(HTTPException)
def _http(exc: HTTPException) -> tuple[Response, int]:
    return error_response(exc.code or 500)


@bp.get("/weekly")
@public  # the bearer token is checked below; a login redirect would be wrong for an API
@token_required(REPORTS_ROLE)
def weekly() -> Response:
    svc = current_services()
    tz = ZoneInfo(svc.settings.timezone)
    now = svc.clock.now()
    try:
        query = read_query(request.args, now, tz)
    except FilterError as exc:
        raise ApiError(400, str(exc)) from None
    report = weekly_report(svc.db, query.weeks, now, query.filters, tz)
    return jsonify(report.to_json())

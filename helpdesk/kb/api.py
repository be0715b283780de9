"""GET /api/v1/kb/search: public, published articles only, rate limited."""

from __future__ import annotations

from flask import Blueprint, jsonify, request
from werkzeug.wrappers import Response

from helpdesk.api.errors import error_response
from helpdesk.auth import public
from helpdesk.extensions import limiter
from helpdesk.kb.common import kb_service
from helpdesk.services import current_services

bp = Blueprint("kb_api", __name__, url_prefix="/api/v1/kb")

LANGS = {"sr", "sr-Latn", "sr-Cyrl", "en", "sr-latn", "sr-cyrl"}  # as the OpenAPI enum lists them


@bp.get("/search")
@public
@limiter.limit("60 per minute")
def search() -> Response | tuple[Response, int]:
    q = " ".join(request.args.get("q", "").split())
    if not q:
        return error_response(422, "The query parameter 'q' is required.", details={"field": "q"})
    if len(q) > 500:
        return error_response(422, "'q' may be at most 500 characters.", details={"field": "q"})
    lang = request.args.get("lang") or None
    if lang is not None and lang not in LANGS:
        return error_response(
            422, "'lang' must be one of sr, sr-Latn, sr-Cyrl, en.", details={"field": "lang"}
        )
    limit_arg = request.args.get("limit", "5")
    if not (limit_arg.isascii() and limit_arg.isdigit()) or not 1 <= int(limit_arg) <= 20:
        return error_response(422, "'limit' must be a number from 1 to 20.", details={"field": "limit"})
    svc = current_services()
    kb = kb_service(svc)
    hits = kb.search(q, language=lang, limit=int(limit_arg)) if kb else svc.kb.search(q, lang)
    return jsonify(
        {
            "results": [
                {"id": h.id, "title": h.title, "snippet": h.snippet, "score": h.score, "url": h.url}
                for h in hits
            ]
        }
    )

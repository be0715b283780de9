"""JSON errors for the API: {"error": {"code", "message"}} with the right status, never a 500 page."""

from __future__ import annotations

from typing import Any

from flask import jsonify
from werkzeug.wrappers import Response

MESSAGES = {
    400: ("bad_request", "The request could not be read."),
    401: ("unauthorized", "A valid bearer token is required."),
    403: ("forbidden", "Your role does not allow this."),
    404: ("not_found", "No such resource."),
    405: ("method_not_allowed", "This method is not allowed here."),
    413: ("too_large", "The request body is too large."),
    415: ("unsupported_media_type", "Send JSON with Content-Type: application/json."),
    422: ("invalid", "The request is not valid."),
    429: ("rate_limited", "Too many requests; try again later."),
    500: ("internal_error", "Something went wrong on our side; nothing was changed."),
}


class ApiError(Exception):
    def __init__(
        self, status: int, message: str | None = None, code: str | None = None, details: Any = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code or MESSAGES[status][0]
        self.message = message or MESSAGES[status][1]
        self.details = details


def error_response(
    status: int, message: str | None = None, code: str | None = None, details: Any = None
) -> tuple[Response, int]:
    body: dict[str, Any] = {
        "code": code or MESSAGES.get(status, ("error", ""))[0],
        "message": message or MESSAGES.get(status, ("", "Error"))[1],
    }
    if details is not None:
        body["details"] = details
    return jsonify({"error": body}), status

"""Small, explicit validation of JSON bodies: each failure names the field and the rule."""

from __future__ import annotations

from typing import Any

from flask import request

from helpdesk.api.errors import ApiError


def json_body() -> dict[str, Any]:
    if not request.is_json:
        raise ApiError(415)
    body = request.get_json(silent=True)
    if body is None:
        raise ApiError(400, "The body is not valid JSON.", code="invalid_json")
    if not isinstance(body, dict):
        raise ApiError(422, "The body must be a JSON object.")
    return body


def text_field(
    body: dict[str, Any],
    name: str,
    *,
    required: bool = True,
    max_len: int = 10_000,
    label: str | None = None,
) -> str | None:
    value = body.get(name)
    label = label or name
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise ApiError(422, f"'{label}' is required.", details={"field": label})
        return None
    if not isinstance(value, str):
        raise ApiError(422, f"'{label}' must be a string.", details={"field": label})
    if not readable(value):
        raise ApiError(
            422, f"'{label}' contains characters that cannot be stored.", details={"field": label}
        )
    if len(value) > max_len:
        raise ApiError(
            422, f"'{label}' is longer than {max_len} characters.", details={"field": label}
        )
    return value.strip()


def readable(value: str) -> bool:
    """No NUL (no database stores it) and no lone surrogate (not UTF-8 at all)."""
    if "\x00" in value:
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def choice_field(body: dict[str, Any], name: str, choices: tuple[str, ...]) -> str | None:
    """A value from ``choices``; absent is None, but a present null is as wrong as any other."""
    if name not in body:
        return None
    value = body[name]
    if not isinstance(value, str) or value not in choices:
        raise ApiError(
            422, f"'{name}' must be one of: {', '.join(choices)}.", details={"field": name}
        )
    return str(value)


def int_arg(name: str, default: int, low: int, high: int) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    try:
        if not (raw.isascii() and raw.strip().lstrip("-").isdigit()):
            raise ValueError(raw)
        value = int(raw)
    except ValueError:
        raise ApiError(422, f"'{name}' must be a whole number.", details={"field": name}) from None
    if not low <= value <= high:
        raise ApiError(422, f"'{name}' must be between {low} and {high}.", details={"field": name})
    return value

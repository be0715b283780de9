"""The OpenAPI 3.1 description of API v1, served at /api/v1/openapi.json.

The schemas say what validation accepts (lengths, required fields, enums, no unknown fields where
the API refuses them), so a client generated from them, or schemathesis (bench/api), meets the same
rules as the code. tests/api/test_api_hygiene.py checks every /api/v1 route is described here.
"""

from __future__ import annotations

from typing import Any

from helpdesk.api.openapi_schemas import (
    LANGUAGES,
    MAX_ID,
    QUERY_TEXT,
    REPORT_CHANNELS,
    _errors,
    _json,
    _query,
    _ref,
    _text,
    schemas,
)
from helpdesk.models import CHANNELS, STATUSES


def openapi_document() -> dict[str, Any]:
    reference = {
        "name": "reference",
        "in": "path",
        "required": True,
        "schema": {"type": "string", "pattern": "^HD-[0-9]{4}-[0-9]{6}$"},
    }
    ticket_filters = [
        _query("status", {"enum": list(STATUSES)}),
        _query("channel", {"enum": list(CHANNELS)}),
        _query("queue", QUERY_TEXT),
        _query("q", QUERY_TEXT),
        _query(
            "assignee",
            {
                "anyOf": [
                    {"enum": ["me", "none"]},
                    {"type": "integer", "minimum": 0, "maximum": MAX_ID},
                ]
            },
        ),
        _query("page", {"type": "integer", "minimum": 1, "maximum": 1_000_000}),
        _query("per_page", {"type": "integer", "minimum": 1, "maximum": 100}),
    ]
    # Empty means "the default"; surrounding blanks are ignored, as the validation does.
    week = {"type": "string", "pattern": "^\\s*([0-9]{4}-W[0-9]{2})?\\s*$"}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Helpdesk API",
            "version": "1.0.0",
            "description": "Tickets of the government support center. Bearer tokens come from "
            "`helpdesk token create EMAIL`. An agent's token reaches the tickets of its queues "
            "and those assigned to it; supervisors' and admins' tokens reach every ticket. "
            "Each token has a scope: `read` (GET on tickets), `tickets` (reads and changes "
            "tickets), `metrics` (/metrics); outside it the answer is 403 `insufficient_scope`, "
            "and an expired or revoked token gets 401.",
        },
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearer": []}],
        "paths": {
            "/tickets": {
                "post": {
                    "summary": "Submit an inquiry from a web form (no token; rate limited)",
                    "security": [],
                    "requestBody": {"required": True, **_json(_ref("NewTicket"))},
                    "responses": {
                        "201": {"description": "Created", **_json(_ref("Ticket"))},
                        **_errors(400, 415, 422, 429),
                    },
                },
                "get": {
                    "summary": "List the tickets the token's agent may see",
                    "parameters": ticket_filters,
                    "responses": {
                        "200": {"description": "A page of tickets", **_json(_ref("TicketPage"))},
                        **_errors(400, 401, 403, 422),
                    },
                },
            },
            "/tickets/{reference}": {
                "parameters": [reference],
                "get": {
                    "summary": "A ticket with its messages",
                    "responses": {
                        "200": {"description": "The ticket", **_json(_ref("TicketWithMessages"))},
                        **_errors(400, 401, 403, 404),
                    },
                },
                "patch": {
                    "summary": "Change status, priority, queue, category or assignee (agents: "
                    "only into their own queues, and only to themselves or nobody)",
                    "requestBody": {"required": True, **_json(_ref("TicketChange"))},
                    "responses": {
                        "200": {"description": "The ticket", **_json(_ref("Ticket"))},
                        **_errors(400, 401, 403, 404, 415, 422),
                    },
                },
            },
            "/tickets/{reference}/messages": {
                "parameters": [reference],
                "post": {
                    "summary": "Answer the citizen on the ticket's channel, or add an internal note",
                    "requestBody": {"required": True, **_json(_ref("NewMessage"))},
                    "responses": {
                        "201": {"description": "Stored", **_json(_ref("Message"))},
                        **_errors(400, 401, 403, 404, 415, 422),
                    },
                },
            },
            "/kb/search": {
                "get": {
                    "summary": "Search the published help articles (no token; rate limited)",
                    "security": [],
                    "parameters": [
                        _query("q", _text(500), required=True),
                        _query("lang", {"enum": [*LANGUAGES, "sr-latn", "sr-cyrl", ""]}),
                        _query("limit", {"type": "integer", "minimum": 1, "maximum": 20}),
                    ],
                    "responses": {
                        "200": {"description": "The best articles", **_json(_ref("KbResults"))},
                        **_errors(400, 422, 429),
                    },
                },
            },
            "/metrics/weekly": {
                "get": {
                    "summary": "Weekly figures (supervisor or admin token)",
                    "parameters": [
                        _query("from", week),
                        _query("to", week),
                        _query("channel", {"enum": [*REPORT_CHANNELS, ""]}),
                        _query("queue", {"type": "string", "maxLength": 64, "pattern": "^[^\\u0000]*$"}),
                        _query("category", {"type": "string", "maxLength": 64, "pattern": "^[^\\u0000]*$"}),
                    ],
                    "responses": {
                        "200": {"description": "One entry per ISO week", **_json(_ref("WeeklyReport"))},
                        **_errors(400, 401, 403),
                    },
                },
            },
            "/tickets/{reference}/merge": {
                "parameters": [reference],
                "post": {
                    "summary": "Merge this ticket into another (or, with preview, say what would move)",
                    "requestBody": {
                        "required": True,
                        **_json(_ref("MergeRequest")),
                    },
                    "responses": {
                        "200": {
                            "description": "Merged (or previewed): what moved, and both tickets",
                            **_json(
                                {
                                    "type": "object",
                                    "properties": {
                                        "merged": {"type": "boolean"},
                                        "preview": {"type": "object"},
                                        "source": _ref("Ticket"),
                                        "target": _ref("Ticket"),
                                    },
                                }
                            ),
                        },
                        **_errors(400, 401, 403, 404, 415, 422),
                    },
                },
            },
        },
        "components": {
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "`helpdesk token create EMAIL --scope read,tickets,metrics "
                    "[--expires-days N]`",
                }
            },
            "responses": {"Error": {"description": "An error", **_json(_ref("Error"))}},
            "schemas": schemas(),
        },
    }

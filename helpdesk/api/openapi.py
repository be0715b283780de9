"""The OpenAPI 3.1 description of API v1, served at /api/v1/openapi.json.

The schemas say what validation accepts (lengths, required fields, enums, no unknown fields where
the API refuses them), so a client generated from them, or schemathesis (bench/api), meets the same
rules as the code. tests/api/test_api_hygiene.py checks every /api/v1 route is described here.
"""

from __future__ import annotations

from typing import Any

from helpdesk.models import CHANNELS, PRIORITIES, STATUSES

ERROR = {"$ref": "#/components/responses/Error"}
MAX_ID = 2_147_483_647
# At least one visible character, and no NUL (no database stores it): what text_field() accepts.
TEXT = "^[^\\u0000]*\\S[^\\u0000]*$"
QUERY_TEXT = {"type": "string", "maxLength": 2000, "pattern": "^[^\\u0000]*$"}
REPORT_CHANNELS = ["phone", "chat", "email", "web"]
LANGUAGES = ["sr", "sr-Latn", "sr-Cyrl", "en"]


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": schema}}}


def _text(max_len: int) -> dict[str, Any]:
    return {"type": "string", "minLength": 1, "maxLength": max_len, "pattern": TEXT}


def _errors(*codes: int) -> dict[str, Any]:
    return {str(code): ERROR for code in codes}


def _query(name: str, schema: dict[str, Any], required: bool = False) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": required, "schema": schema}


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
            "securitySchemes": {"bearer": {
                "type": "http", "scheme": "bearer",
                "description": "`helpdesk token create EMAIL --scope read,tickets,metrics "
                "[--expires-days N]`",
            }},
            "responses": {"Error": {"description": "An error", **_json(_ref("Error"))}},
            "schemas": schemas(),
        },
    }


def schemas() -> dict[str, Any]:
    nullable_text = {"type": ["string", "null"]}
    return {
        "Error": {
            "type": "object",
            "required": ["error"],
            "properties": {
                "error": {
                    "type": "object",
                    "required": ["code", "message"],
                    "properties": {
                        "code": {"type": "string"},
                        "message": {"type": "string"},
                        "details": {},
                    },
                }
            },
        },
        "NewTicket": {
            "type": "object",
            "required": ["contact", "subject", "body"],
            "properties": {
                "contact": {
                    "type": "object",
                    "required": ["name"],
                    "anyOf": [{"required": ["email"]}, {"required": ["phone"]}],
                    "properties": {
                        "name": _text(200),
                        "email": {
                            "type": "string",
                            "maxLength": 320,
                            "pattern": "^[^@\\s<>]+@[^@\\s<>]+\\.[^@\\s<>]+$",
                        },
                        "phone": {"type": "string", "minLength": 1, "maxLength": 40, "pattern": TEXT},
                    },
                },
                "subject": _text(300),
                "body": _text(50_000),
                "language": {"enum": LANGUAGES},
            },
        },
        "Ticket": {
            "type": "object",
            "required": ["reference", "status", "priority", "channel", "queue"],
            "properties": {
                "reference": {"type": "string"},
                "subject": {"type": "string"},
                "status": {"enum": list(STATUSES)},
                "priority": {"enum": list(PRIORITIES)},
                "channel": {"enum": list(CHANNELS)},
                "queue": {"type": "string"},
                "category": nullable_text,
                "language": nullable_text,
                "script": nullable_text,
                "assignee_id": {"type": ["integer", "null"]},
                "triage_confidence": {"type": ["number", "null"]},
                "complaint": {"type": "boolean"},
                "contact": {
                    "type": ["object", "null"],
                    "properties": {"id": {"type": "integer"}, "name": nullable_text},
                },
                **{
                    name: nullable_text
                    for name in (
                        "created_at",
                        "updated_at",
                        "first_response_at",
                        "resolved_at",
                        "first_response_due_at",
                        "resolution_due_at",
                        "related_ticket",
                        "merged_into",
                    )
                },
                "last_seq": {"type": "integer"},
            },
        },
        "TicketPage": {
            "type": "object",
            "required": ["tickets", "page", "per_page", "total"],
            "properties": {
                "tickets": {"type": "array", "items": _ref("Ticket")},
                "page": {"type": "integer"},
                "per_page": {"type": "integer"},
                "total": {"type": "integer", "minimum": 0},
                "total_is_estimate": {
                    "type": "boolean",
                    "description": "True when a text search (q) matched more than 10,000 tickets: "
                    "total is then 10,000, a lower bound.",
                },
            },
        },
        "TicketWithMessages": {
            "allOf": [
                _ref("Ticket"),
                {
                    "type": "object",
                    "required": ["messages"],
                    "properties": {"messages": {"type": "array", "items": _ref("Message")}},
                },
            ]
        },
        "TicketChange": {
            "type": "object",
            "additionalProperties": False,
            "minProperties": 1,
            "properties": {
                "status": {"enum": list(STATUSES)},
                "priority": {"enum": list(PRIORITIES)},
                "queue": _text(64),
                "category": _text(40),
                "assignee": {
                    "description": "An agent id, an agent's email, or null for nobody",
                    "anyOf": [
                        {"type": "null"},
                        {"type": "integer", "minimum": 1, "maximum": MAX_ID},
                        {"type": "string", "minLength": 1, "maxLength": 320},
                    ],
                },
            },
        },
        "MergeRequest": {
            "type": "object",
            "required": ["into"],
            "additionalProperties": False,
            "properties": {
                "into": {"type": "string", "pattern": "^HD-[0-9]{4}-[0-9]{6}$"},
                "preview": {"type": "boolean", "default": False},
            },
        },
        "NewMessage": {
            "type": "object",
            "required": ["body"],
            "properties": {
                "body": _text(100_000),
                "internal": {"type": "boolean", "default": False},
            },
        },
        "Message": {
            "type": "object",
            "required": ["id", "seq", "direction", "channel", "text"],
            "properties": {
                "id": {"type": "integer"},
                "seq": {"type": "integer"},
                "direction": {"enum": ["inbound", "outbound", "note"]},
                "kind": {"type": "string"},
                "channel": {"type": "string"},
                "text": {"type": "string"},
                "html": nullable_text,
                "author": {"type": ["object", "null"]},
                "created_at": nullable_text,
                "delivery_state": nullable_text,
                "delivery_error": nullable_text,
                "client_id": nullable_text,
                "attachments": {"type": "array", "items": {"type": "object"}},
            },
        },
        "KbResults": {
            "type": "object",
            "required": ["results"],
            "properties": {
                "results": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["id", "title", "url"],
                        "properties": {
                            "id": {"type": "integer"},
                            "title": {"type": "string"},
                            "snippet": {"type": "string"},
                            "score": {"type": "number"},
                            "url": {"type": "string"},
                        },
                    },
                }
            },
        },
        "WeeklyReport": {
            "type": "object",
            "required": ["weeks"],
            "properties": {
                "weeks": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["week", "total"],
                        "properties": {
                            "week": {"type": "string", "pattern": "^[0-9]{4}-W[0-9]{2}$"},
                            "total": {"type": "integer"},
                            "by_channel": {"type": "object"},
                            "by_category": {"type": "object"},
                            "by_queue": {"type": "object"},
                            "first_response": {"type": "object"},
                            "resolution": {"type": "object"},
                            "sla_compliance": {"type": ["number", "null"]},
                            "backlog": {"type": "integer"},
                            "deflected": {"type": "integer"},
                            "csat": {"type": ["number", "null"]},
                        },
                    },
                }
            },
        },
    }

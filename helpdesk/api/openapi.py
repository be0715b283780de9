"""The OpenAPI 3.1 description of API v1, served at /api/v1/openapi.json."""

from __future__ import annotations

from typing import Any

ERROR = {"$ref": "#/components/responses/Error"}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": schema}}}


def openapi_document() -> dict[str, Any]:
    reference = {
        "name": "reference",
        "in": "path",
        "required": True,
        "schema": {"type": "string", "pattern": "^HD-[0-9]{4}-[0-9]{6}$"},
    }
    query = [
        {"name": n, "in": "query", "schema": {"type": "string"}}
        for n in ("status", "queue", "assignee", "channel", "q")
    ] + [
        {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1}},
        {
            "name": "per_page",
            "in": "query",
            "schema": {"type": "integer", "minimum": 1, "maximum": 100},
        },
    ]
    errors = {str(code): ERROR for code in (400, 401, 403, 404, 415, 422, 429)}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Helpdesk API",
            "version": "1.0.0",
            "description": "Tickets of the government support center. Bearer tokens come from "
            "`helpdesk token create EMAIL`.",
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
                        **errors,
                    },
                },
                "get": {
                    "summary": "List tickets",
                    "parameters": query,
                    "responses": {
                        "200": {
                            "description": "A page of tickets",
                            **_json(
                                {
                                    "type": "object",
                                    "properties": {
                                        "tickets": {"type": "array", "items": _ref("Ticket")},
                                        "page": {"type": "integer"},
                                        "per_page": {"type": "integer"},
                                        "total": {"type": "integer"},
                                    },
                                }
                            ),
                        },
                        **errors,
                    },
                },
            },
            "/tickets/{reference}": {
                "parameters": [reference],
                "get": {
                    "summary": "A ticket with its messages",
                    "responses": {
                        "200": {"description": "The ticket", **_json(_ref("TicketWithMessages"))},
                        **errors,
                    },
                },
                "patch": {
                    "summary": "Change status, priority, queue, category or assignee",
                    "requestBody": {"required": True, **_json(_ref("TicketChange"))},
                    "responses": {
                        "200": {"description": "The ticket", **_json(_ref("Ticket"))},
                        **errors,
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
                        **errors,
                    },
                },
            },
            "/tickets/{reference}/merge": {
                "parameters": [reference],
                "post": {
                    "summary": "Merge this ticket into another (or, with preview, say what would move)",
                    "requestBody": {
                        "required": True,
                        **_json(
                            {
                                "type": "object",
                                "required": ["into"],
                                "additionalProperties": False,
                                "properties": {
                                    "into": {"type": "string", "maxLength": 20},
                                    "preview": {"type": "boolean", "default": False},
                                },
                            }
                        ),
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
                        **errors,
                    },
                },
            },
        },
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "responses": {"Error": {"description": "An error", **_json(_ref("Error"))}},
            "schemas": {
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
                            "properties": {
                                "name": {"type": "string", "maxLength": 200},
                                "email": {"type": "string", "format": "email"},
                                "phone": {"type": "string"},
                            },
                        },
                        "subject": {"type": "string", "maxLength": 300},
                        "body": {"type": "string", "maxLength": 50000},
                        "language": {"enum": ["sr", "sr-Latn", "sr-Cyrl", "en"]},
                    },
                },
                "Ticket": {
                    "type": "object",
                    "properties": {
                        k: {"type": ["string", "null"]}
                        for k in (
                            "reference",
                            "subject",
                            "status",
                            "priority",
                            "channel",
                            "category",
                            "queue",
                            "language",
                            "script",
                            "created_at",
                            "updated_at",
                            "first_response_at",
                            "resolved_at",
                            "first_response_due_at",
                            "resolution_due_at",
                        )
                    }
                    | {
                        "assignee_id": {"type": ["integer", "null"]},
                        "triage_confidence": {"type": ["number", "null"]},
                    },
                },
                "TicketWithMessages": {
                    "allOf": [
                        _ref("Ticket"),
                        {
                            "type": "object",
                            "properties": {"messages": {"type": "array", "items": _ref("Message")}},
                        },
                    ]
                },
                "TicketChange": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {
                        "status": {"enum": ["new", "open", "pending", "resolved", "closed"]},
                        "priority": {"enum": ["low", "normal", "high", "urgent"]},
                        "queue": {"type": "string"},
                        "category": {"type": "string"},
                        "assignee": {"type": ["integer", "string", "null"]},
                    },
                },
                "NewMessage": {
                    "type": "object",
                    "required": ["body"],
                    "properties": {
                        "body": {"type": "string"},
                        "internal": {"type": "boolean", "default": False},
                    },
                },
                "Message": {
                    "type": "object",
                    "properties": {
                        "id": {"type": "integer"},
                        "seq": {"type": "integer"},
                        "direction": {"enum": ["inbound", "outbound", "note"]},
                        "channel": {"type": "string"},
                        "text": {"type": "string"},
                        "html": {"type": ["string", "null"]},
                        "created_at": {"type": "string"},
                        "delivery_state": {"type": ["string", "null"]},
                    },
                },
            },
        },
    }

"""The component schemas of the API v1 OpenAPI document (bodies and answers), with the small
builders both halves of the document use. They say what validation accepts."""

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


def schema_ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def json_content(schema: dict[str, Any]) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": schema}}}


def text_schema(max_len: int) -> dict[str, Any]:
    return {"type": "string", "minLength": 1, "maxLength": max_len, "pattern": TEXT}


def error_responses(*codes: int) -> dict[str, Any]:
    return {str(code): ERROR for code in codes}


def query_param(name: str, schema: dict[str, Any], required: bool = False) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": required, "schema": schema}


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
                        "name": text_schema(200),
                        "email": {
                            "type": "string",
                            "maxLength": 320,
                            "pattern": "^[^@\\s<>]+@[^@\\s<>]+\\.[^@\\s<>]+$",
                        },
                        "phone": {"type": "string", "minLength": 1, "maxLength": 40, "pattern": TEXT},
                    },
                },
                "subject": text_schema(300),
                "body": text_schema(50_000),
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
                "tickets": {"type": "array", "items": schema_ref("Ticket")},
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
                schema_ref("Ticket"),
                {
                    "type": "object",
                    "required": ["messages"],
                    "properties": {"messages": {"type": "array", "items": schema_ref("Message")}},
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
                "queue": text_schema(64),
                "category": text_schema(40),
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
                "body": text_schema(100_000),
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
                            "incident_linked": {"type": "integer"},
                            "callbacks": {
                                "type": "object",
                                "properties": {
                                    "requested": {"type": "integer"},
                                    "reached": {"type": "integer"},
                                    "no_answer": {"type": "integer"},
                                    "wrong_number": {"type": "integer"},
                                },
                            },
                        },
                    },
                }
            },
        },
    }

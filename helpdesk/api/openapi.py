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
    error_responses,
    json_content,
    query_param,
    schema_ref,
    schemas,
    text_schema,
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
        query_param("status", {"enum": list(STATUSES)}),
        query_param("channel", {"enum": list(CHANNELS)}),
        query_param("queue", QUERY_TEXT),
        query_param("q", QUERY_TEXT),
        query_param(
            "assignee",
            {
                "anyOf": [
                    {"enum": ["me", "none"]},
                    {"type": "integer", "minimum": 0, "maximum": MAX_ID},
                ]
            },
        ),
        query_param("page", {"type": "integer", "minimum": 1, "maximum": 1_000_000}),
        query_param("per_page", {"type": "integer", "minimum": 1, "maximum": 100}),
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
                    "requestBody": {"required": True, **json_content(schema_ref("NewTicket"))},
                    "responses": {
                        "201": {"description": "Created", **json_content(schema_ref("Ticket"))},
                        **error_responses(400, 415, 422, 429),
                    },
                },
                "get": {
                    "summary": "List the tickets the token's agent may see",
                    "parameters": ticket_filters,
                    "responses": {
                        "200": {"description": "A page of tickets", **json_content(schema_ref("TicketPage"))},
                        **error_responses(400, 401, 403, 422),
                    },
                },
            },
            "/tickets/{reference}": {
                "parameters": [reference],
                "get": {
                    "summary": "A ticket with its messages",
                    "responses": {
                        "200": {
                            "description": "The ticket",
                            **json_content(schema_ref("TicketWithMessages")),
                        },
                        **error_responses(400, 401, 403, 404),
                    },
                },
                "patch": {
                    "summary": "Change status, priority, queue, category or assignee (agents: "
                    "only into their own queues, and only to themselves or nobody)",
                    "requestBody": {"required": True, **json_content(schema_ref("TicketChange"))},
                    "responses": {
                        "200": {"description": "The ticket", **json_content(schema_ref("Ticket"))},
                        **error_responses(400, 401, 403, 404, 415, 422),
                    },
                },
            },
            "/tickets/{reference}/messages": {
                "parameters": [reference],
                "post": {
                    "summary": "Answer the citizen on the ticket's channel, or add an internal note",
                    "requestBody": {"required": True, **json_content(schema_ref("NewMessage"))},
                    "responses": {
                        "201": {"description": "Stored", **json_content(schema_ref("Message"))},
                        **error_responses(400, 401, 403, 404, 415, 422),
                    },
                },
            },
            "/kb/search": {
                "get": {
                    "summary": "Search the published help articles (no token; rate limited)",
                    "security": [],
                    "parameters": [
                        query_param("q", text_schema(500), required=True),
                        query_param("lang", {"enum": [*LANGUAGES, "sr-latn", "sr-cyrl", ""]}),
                        query_param("limit", {"type": "integer", "minimum": 1, "maximum": 20}),
                    ],
                    "responses": {
                        "200": {"description": "The best articles", **json_content(schema_ref("KbResults"))},
                        **error_responses(400, 422, 429),
                    },
                },
            },
            "/metrics/weekly": {
                "get": {
                    "summary": "Weekly figures (supervisor or admin token)",
                    "parameters": [
                        query_param("from", week),
                        query_param("to", week),
                        query_param("channel", {"enum": [*REPORT_CHANNELS, ""]}),
                        query_param("queue", {"type": "string", "maxLength": 64, "pattern": "^[^\\u0000]*$"}),
                        query_param(
                            "category", {"type": "string", "maxLength": 64, "pattern": "^[^\\u0000]*$"}
                        ),
                    ],
                    "responses": {
                        "200": {
                            "description": "One entry per ISO week",
                            **json_content(schema_ref("WeeklyReport")),
                        },
                        **error_responses(400, 401, 403),
                    },
                },
            },
            "/tickets/{reference}/merge": {
                "parameters": [reference],
                "post": {
                    "summary": "Merge this ticket into another (or, with preview, say what would move)",
                    "requestBody": {
                        "required": True,
                        **json_content(schema_ref("MergeRequest")),
                    },
                    "responses": {
                        "200": {
                            "description": "Merged (or previewed): what moved, and both tickets",
                            **json_content(
                                {
                                    "type": "object",
                                    "properties": {
                                        "merged": {"type": "boolean"},
                                        "preview": {"type": "object"},
                                        "source": schema_ref("Ticket"),
                                        "target": schema_ref("Ticket"),
                                    },
                                }
                            ),
                        },
                        **error_responses(400, 401, 403, 404, 415, 422),
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
            "responses": {"Error": {"description": "An error", **json_content(schema_ref("Error"))}},
            "schemas": schemas(),
        },
    }

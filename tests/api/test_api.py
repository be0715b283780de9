"""API v1: the public ticket form, bearer tokens, JSON errors."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from helpdesk.auth.accounts import create_token
from helpdesk.models import Agent, Queue
from helpdesk.services import Services
from tests.conftest import add_agent


def token_for(svc: Services, role: str = "agent", queues: tuple[str, ...] = ("triage", "payments")) -> str:
    """A token of an agent who works ``queues`` (the web form's tickets land in "triage")."""
    agent_id = add_agent(svc, f"{role}-api@helpdesk.localhost", role)
    with svc.db.transaction() as s:
        agent = s.get_one(Agent, agent_id)
        agent.queues = list(s.scalars(select(Queue).where(Queue.name.in_(queues))))
        return create_token(s, agent, svc.clock.now())


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


NEW = {
    "contact": {"name": "Milica Jovanović", "email": "milica@example.rs"},
    "subject": "Ne mogu da platim taksu",
    "body": "Plaćanje karticom ne prolazi.",
    "language": "sr-Latn",
}


def test_citizen_submits_a_ticket_without_token(client: Any) -> None:
    response = client.post("/api/v1/tickets", json=NEW)
    assert response.status_code == 201
    body = response.get_json()
    assert body["reference"].startswith("HD-2026-")
    assert body["status"] == "new" and body["channel"] == "web" and body["queue"] == "triage"
    assert body["contact"]["name"] == "Milica Jovanović"


@pytest.mark.parametrize(
    ("payload", "status", "field"),
    [
        ({**NEW, "contact": {"name": "X"}}, 422, "contact.email"),
        ({**NEW, "subject": ""}, 422, "subject"),
        ({**NEW, "body": 42}, 422, "body"),
        ({**NEW, "contact": "me"}, 422, "contact"),
        ({**NEW, "contact": {"name": "X", "email": "nope"}}, 422, "contact"),
        ({**NEW, "language": "de"}, 422, "language"),
        ([1, 2], 422, None),
    ],
)
def test_invalid_ticket_bodies_get_json_errors(
    client: Any, payload: Any, status: int, field: str | None
) -> None:
    response = client.post("/api/v1/tickets", json=payload)
    assert response.status_code == status
    error = response.get_json()["error"]
    assert error["code"] and error["message"]
    if field:
        assert field in error["message"] or error.get("details", {}).get("field") == field


def test_broken_json_and_wrong_content_type(client: Any) -> None:
    broken = client.post("/api/v1/tickets", data="{not json", content_type="application/json")
    assert broken.status_code == 400 and broken.get_json()["error"]["code"] == "invalid_json"
    form = client.post("/api/v1/tickets", data={"subject": "x"})
    assert form.status_code == 415 and form.get_json()["error"]["code"] == "unsupported_media_type"


def test_401_without_or_with_a_bad_token(client: Any) -> None:
    assert client.get("/api/v1/tickets").status_code == 401
    response = client.get("/api/v1/tickets", headers=auth("hd_forged"))
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "unauthorized"


def test_404_and_405_are_json(client: Any, services: Services) -> None:
    token = token_for(services)
    missing = client.get("/api/v1/tickets/HD-2026-999999", headers=auth(token))
    assert missing.status_code == 404 and missing.get_json()["error"]["code"] == "not_found"
    unknown = client.get("/api/v1/nothing-here", headers=auth(token))
    assert unknown.status_code == 404 and "error" in unknown.get_json()
    wrong = client.delete("/api/v1/tickets", headers=auth(token))
    assert wrong.status_code == 405 and wrong.get_json()["error"]["code"] == "method_not_allowed"


def test_agent_works_a_ticket_through_the_api(client: Any, services: Services) -> None:
    token = token_for(services)
    ref = client.post("/api/v1/tickets", json=NEW).get_json()["reference"]
    listed = client.get("/api/v1/tickets?status=new&channel=web", headers=auth(token)).get_json()
    assert [t["reference"] for t in listed["tickets"]] == [ref] and listed["total"] == 1
    assert client.get(f"/api/v1/tickets?q={ref}", headers=auth(token)).get_json()["total"] == 1

    patched = client.patch(
        f"/api/v1/tickets/{ref}",
        headers=auth(token),
        json={
            "status": "open",
            "priority": "high",
            "queue": "payments",
            "category": "payments_fees",
            "assignee": "agent-api@helpdesk.localhost",
        },
    )
    assert patched.status_code == 200, patched.get_json()
    data = patched.get_json()
    assert (data["status"], data["priority"], data["queue"], data["category"]) == (
        "open",
        "high",
        "payments",
        "payments_fees",
    )
    assert data["assignee_id"] is not None

    reply = client.post(
        f"/api/v1/tickets/{ref}/messages",
        headers=auth(token),
        json={"body": "Poštovana, uplata je evidentirana."},
    )
    assert reply.status_code == 201 and reply.get_json()["direction"] == "outbound"
    assert reply.get_json()["delivery_state"] == "queued"
    note = client.post(
        f"/api/v1/tickets/{ref}/messages",
        headers=auth(token),
        json={"body": "Proveriti izvod.", "internal": True},
    )
    assert note.get_json()["direction"] == "note"

    full = client.get(f"/api/v1/tickets/{ref}", headers=auth(token)).get_json()
    assert [m["direction"] for m in full["messages"]] == ["inbound", "outbound", "note"]
    assert full["messages"][1]["author"]["name"] == "Agent-Api"
    assert full["first_response_at"] is not None


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"status": "done"}, "status"),
        ({"priority": 5}, "priority"),
        ({"queue": "nowhere"}, "queue"),
        ({"assignee": "ghost@x.rs"}, "assignee"),
        ({"colour": "red"}, "Unknown"),
    ],
)
def test_patch_validation(client: Any, services: Services, body: dict[str, Any], message: str) -> None:
    token = token_for(services)
    ref = client.post("/api/v1/tickets", json=NEW).get_json()["reference"]
    response = client.patch(f"/api/v1/tickets/{ref}", headers=auth(token), json={"status": "open", **body})
    assert response.status_code == 422
    assert message in response.get_json()["error"]["message"]
    # A bad field changes nothing, not even the good fields beside it.
    assert client.get(f"/api/v1/tickets/{ref}", headers=auth(token)).get_json()["status"] == "new"


def test_empty_patch_is_refused(client: Any, services: Services) -> None:
    token = token_for(services)
    ref = client.post("/api/v1/tickets", json=NEW).get_json()["reference"]
    response = client.patch(f"/api/v1/tickets/{ref}", headers=auth(token), json={})
    assert response.status_code == 422 and "Nothing" in response.get_json()["error"]["message"]


def test_message_validation(client: Any, services: Services) -> None:
    token = token_for(services)
    ref = client.post("/api/v1/tickets", json=NEW).get_json()["reference"]
    for body in ({"body": ""}, {"body": "x", "internal": "yes"}, {}):
        assert (
            client.post(f"/api/v1/tickets/{ref}/messages", headers=auth(token), json=body).status_code == 422
        )


def test_ticket_form_is_rate_limited(client: Any, services: Services) -> None:
    statuses = [client.post("/api/v1/tickets", json=NEW).status_code for _ in range(31)]
    assert statuses[:30] == [201] * 30
    assert statuses[30] == 429


def test_ticket_form_tells_each_address_what_it_has_left(tmp_path: Any) -> None:
    from helpdesk import create_app
    from tests.conftest import make_services, make_settings

    svc = make_services(make_settings(tmp_path, api_ticket_rate_limit="2 per day"))
    client = create_app(svc.settings, services=svc).test_client()
    first = client.post("/api/v1/tickets", json=NEW)
    assert first.status_code == 201
    assert (first.headers["X-RateLimit-Limit"], first.headers["X-RateLimit-Remaining"]) == ("2", "1")
    invalid = client.post("/api/v1/tickets", json={**NEW, "subject": ""})  # counts too
    assert invalid.status_code == 422 and invalid.headers["X-RateLimit-Remaining"] == "0"
    refused = client.post("/api/v1/tickets", json=NEW)
    assert refused.status_code == 429
    assert refused.get_json()["error"]["code"] == "rate_limited"
    assert 0 < int(refused.headers["Retry-After"]) <= 86_400
    assert int(refused.headers["X-RateLimit-Reset"]) == int(first.headers["X-RateLimit-Reset"])
    other = client.post("/api/v1/tickets", json=NEW, environ_base={"REMOTE_ADDR": "198.51.100.7"})
    assert other.status_code == 201  # another address has its own count
    svc.db.dispose()


def test_ticket_form_counts_in_redis_when_configured(tmp_path: Any, redis_url: str) -> None:
    """With Redis the counts are there, shared by every server process of the deployment."""
    import redis

    from helpdesk import create_app
    from tests.conftest import make_services, make_settings

    svc = make_services(make_settings(tmp_path, redis_url=redis_url, api_ticket_rate_limit="2 per day"))
    client = create_app(svc.settings, services=svc).test_client()
    assert [client.post("/api/v1/tickets", json=NEW).status_code for _ in range(3)] == [201, 201, 429]
    store = redis.Redis.from_url(redis_url)
    keys = store.keys(f"*{svc.settings.socketio_channel}/api.create_ticket/*")
    assert [int(store.get(key) or 0) for key in keys] == [3]
    store.delete(*keys)
    svc.db.dispose()


def test_openapi_document(client: Any) -> None:
    doc = client.get("/api/v1/openapi.json").get_json()
    assert doc["openapi"].startswith("3.1")
    assert {"/tickets", "/tickets/{reference}", "/tickets/{reference}/messages"} <= set(doc["paths"])
    assert set(doc["paths"]["/tickets/{reference}"]) >= {"get", "patch"}


def test_token_of_inactive_agent_is_refused(client: Any, services: Services) -> None:
    token = token_for(services)
    with services.db.transaction() as s:
        s.scalar(select(Agent).where(Agent.email == "agent-api@helpdesk.localhost")).active = False
    assert client.get("/api/v1/tickets", headers=auth(token)).status_code == 401


def test_403_when_the_token_lacks_the_role(client: Any, services: Services) -> None:
    agent = token_for(services, "agent")
    response = client.get("/api/v1/metrics/weekly?from=2026-W40&to=2026-W48", headers=auth(agent))
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "forbidden"
    supervisor = token_for(services, "supervisor")
    allowed = client.get("/api/v1/metrics/weekly?from=2026-W40&to=2026-W48", headers=auth(supervisor))
    assert allowed.status_code == 200 and len(allowed.get_json()["weeks"]) == 9


def test_text_search_counts_a_bounded_number_of_matches(
    client: Any, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Counting every match of a common word is what made searches slow on a big store: past
    # the cap the total is a lower bound and says so; the page itself is unaffected.
    import helpdesk.api.views as views

    token = token_for(services)
    refs = [client.post("/api/v1/tickets", json=NEW).get_json()["reference"] for _ in range(3)]
    monkeypatch.setattr(views, "SEARCH_COUNT_CAP", 2)
    found = client.get("/api/v1/tickets?q=taksu&per_page=5", headers=auth(token)).get_json()
    assert found["total"] == 2 and found["total_is_estimate"] is True
    assert [t["reference"] for t in found["tickets"]] == refs[::-1]
    exact = client.get("/api/v1/tickets?status=new", headers=auth(token)).get_json()
    assert exact["total"] == 3 and exact["total_is_estimate"] is False
    monkeypatch.setattr(views, "SEARCH_COUNT_CAP", 10_000)
    found = client.get("/api/v1/tickets?q=taksu", headers=auth(token)).get_json()
    assert found["total"] == 3 and found["total_is_estimate"] is False


def test_in_process_rate_counters_still_limit_and_forget_without_a_thread_per_hit(
    monkeypatch: Any,
) -> None:
    import limits.storage.memory
    from limits import parse
    from limits.strategies import FixedWindowRateLimiter

    from helpdesk.extensions import MEMORY_STORAGE_URI, SweptMemoryStorage

    started: list[object] = []
    real_timer = limits.storage.memory.threading.Timer

    def counting_timer(*args: Any, **kwargs: Any) -> Any:
        started.append(args)
        return real_timer(*args, **kwargs)

    storage = limits.storage.storage_from_string(MEMORY_STORAGE_URI)
    assert isinstance(storage, SweptMemoryStorage)
    monkeypatch.setattr(limits.storage.memory.threading, "Timer", counting_timer)
    limiter = FixedWindowRateLimiter(storage)
    two_a_minute = parse("2/minute")
    assert [limiter.hit(two_a_minute, "203.0.113.9") for _ in range(3)] == [True, True, False]
    assert limiter.hit(two_a_minute, "203.0.113.10")  # another address has its own counter
    assert started == []  # the stock storage starts a timer thread on a hit after a pause

    storage.expirations = dict.fromkeys(storage.expirations, 0.0)  # every window over
    storage.SWEEP_SECONDS = 0.0
    assert limiter.hit(two_a_minute, "203.0.113.11")  # this hit sweeps the expired counters
    assert [k for k in storage.storage if storage.storage[k]] == [
        k for k in storage.storage if "203.0.113.11" in k
    ]
    assert len(storage.storage) == 1, list(storage.storage)

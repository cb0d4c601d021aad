"""The sandbox's Slack incoming webhook and Zendesk ticket API over real HTTP: answers, auth,
idempotency and fault injection."""

from __future__ import annotations

import httpx
import pytest

from oms_pipeline.sandbox.server import SandboxServer
from oms_pipeline.sandbox.store import SandboxStore

TICKET = {"ticket": {"subject": "Order #1001 needs review", "comment": {"body": "Fraud score 0.91"},
                     "priority": "high", "tags": ["oms", "fraud"], "external_id": "oms:5718921449652"}}


@pytest.fixture(scope="module")
def sandbox():
    with SandboxServer(SandboxStore(seed=1, orders=3, rate_per_min=0.0), seed=1) as server:
        yield server


@pytest.fixture(scope="module")
def http(sandbox):
    with httpx.Client(base_url=sandbox.url, timeout=10.0) as h:
        yield h


def _zendesk_auth(sandbox) -> tuple[str, str]:
    return f"{sandbox.notifications.zendesk_email}/token", sandbox.notifications.zendesk_api_token


def test_slack_webhook_accepts_a_message(sandbox, http):
    response = http.post(sandbox.slack_webhook_url, json={"text": "3 orders on hold", "blocks": [
        {"type": "section", "text": {"type": "mrkdwn", "text": "*3 orders* on hold"}}]})
    assert response.status_code == 200 and response.text == "ok"
    assert response.headers["content-type"].startswith("text/plain")
    assert sandbox.notifications.slack_messages[-1]["text"] == "3 orders on hold"


@pytest.mark.parametrize(("body", "word"), [
    (b"{not json", "invalid_payload"),
    (b"[1, 2]", "invalid_payload"),
    (b'{"text": 5}', "invalid_payload"),
    (b'{"username": "oms"}', "no_text"),
    (b'{"text": "x", "blocks": "nope"}', "invalid_blocks"),
])
def test_slack_refuses_bad_payloads(sandbox, http, body, word):
    count = len(sandbox.notifications.slack_messages)
    response = http.post(sandbox.slack_webhook_url, content=body, headers={"Content-Type": "application/json"})
    assert (response.status_code, response.text) == (400, word)
    assert len(sandbox.notifications.slack_messages) == count


def test_slack_unknown_hook(sandbox, http):
    response = http.post("/slack/services/T0/B0/wrong", json={"text": "x"})
    assert (response.status_code, response.text) == (404, "no_service")


def test_zendesk_creates_tickets_idempotently(sandbox, http):
    auth = _zendesk_auth(sandbox)
    first = http.post("/api/v2/tickets.json", json=TICKET, auth=auth, headers={"Idempotency-Key": "oms-key-1"})
    assert first.status_code == 201 and first.headers["x-idempotency-lookup"] == "miss"
    ticket = first.json()["ticket"]
    assert ticket["status"] == "new" and ticket["subject"] == TICKET["ticket"]["subject"]
    assert ticket["external_id"] == "oms:5718921449652" and ticket["priority"] == "high"
    assert int(first.headers["X-Rate-Limit-Remaining"]) < int(first.headers["X-Rate-Limit"])

    again = http.post("/api/v2/tickets.json", json=TICKET, auth=auth, headers={"Idempotency-Key": "oms-key-1"})
    assert again.status_code == 201 and again.headers["x-idempotency-lookup"] == "hit"
    assert again.json()["ticket"] == ticket
    assert [t["id"] for t in sandbox.notifications.tickets].count(ticket["id"]) == 1

    other = {"ticket": dict(TICKET["ticket"], subject="another")}
    mismatch = http.post("/api/v2/tickets.json", json=other, auth=auth, headers={"Idempotency-Key": "oms-key-1"})
    assert mismatch.status_code == 400
    assert mismatch.json() == {"error": "IdempotentRequestError",
                               "description": "Request parameters do not match original request"}

    no_key = http.post("/api/v2/tickets.json", json=TICKET, auth=auth)
    assert no_key.status_code == 201 and "x-idempotency-lookup" not in no_key.headers
    assert no_key.json()["ticket"]["id"] != ticket["id"]


def test_zendesk_auth_and_validation(sandbox, http):
    refused = http.post("/api/v2/tickets.json", json=TICKET, auth=("oms-bot@sandbox.example/token", "wrong"))
    assert refused.status_code == 401
    blank = {"ticket": {"subject": "x", "comment": {"body": " "}}}
    invalid = http.post("/api/v2/tickets.json", json=blank, auth=_zendesk_auth(sandbox))
    assert invalid.status_code == 422 and invalid.json()["error"] == "RecordInvalid"


def test_faults_apply_to_notifications_and_change_nothing():
    with SandboxServer(SandboxStore(seed=1, orders=1, rate_per_min=0.0), faults=1.0, timeout_fault_s=0.05,
                       seed=3) as sandbox, httpx.Client(base_url=sandbox.url, timeout=5.0) as http:
        slack = [http.post(sandbox.slack_webhook_url, json={"text": "x"}).status_code for _ in range(8)]
        auth = _zendesk_auth(sandbox)
        zendesk = [http.post("/api/v2/tickets.json", json=TICKET, auth=auth).status_code for _ in range(8)]
        assert set(slack) | set(zendesk) <= {429, 500, 502, 504}
        assert sandbox.notifications.slack_messages == [] and sandbox.notifications.tickets == []
        assert sandbox.store.stats["faults"] == 16

"""The Slack and Zendesk connectors against the sandbox over real HTTP: delivery, refusals,
idempotent ticket creation and retries through injected faults."""

from __future__ import annotations

import pytest

from oms_pipeline.connectors.http import TransientHTTPError
from oms_pipeline.connectors.notifications import (
    SlackAnswerLost,
    SlackWebhook,
    SlackWebhookError,
    ZendeskError,
    ZendeskTickets,
)
from oms_pipeline.sandbox.server import SandboxServer
from oms_pipeline.sandbox.store import SandboxStore


@pytest.fixture(scope="module")
def sandbox():
    with SandboxServer(SandboxStore(seed=1, orders=2, rate_per_min=0.0), seed=1) as server:
        yield server


def _zendesk(sandbox: SandboxServer, **kwargs) -> ZendeskTickets:
    return ZendeskTickets(sandbox.zendesk_url, sandbox.notifications.zendesk_email,
                          sandbox.notifications.zendesk_api_token, **kwargs)


def test_slack_post(sandbox):
    with SlackWebhook(sandbox.slack_webhook_url) as slack:
        slack.post("2 orders held for fraud review")
        slack.post("with blocks", blocks=[{"type": "section", "text": {"type": "mrkdwn", "text": "*held*"}}])
    assert [m["text"] for m in sandbox.notifications.slack_messages[-2:]] == ["2 orders held for fraud review",
                                                                               "with blocks"]


def test_slack_refusals_raise(sandbox):
    with SlackWebhook(sandbox.slack_webhook_url.rsplit("/", 1)[0] + "/wrong") as slack:
        with pytest.raises(SlackWebhookError, match="no_service"):
            slack.post("x")
    with SlackWebhook(sandbox.slack_webhook_url) as slack:
        with pytest.raises(SlackWebhookError, match="no_text"):
            slack.post("")


def test_zendesk_ticket_is_created_once_per_key(sandbox):
    with _zendesk(sandbox) as zendesk:
        first = zendesk.create_ticket("Order #1001 on hold", "Fraud score 0.91", tags=["oms", "fraud"],
                                      external_id="oms:1001", priority="high", idempotency_key="oms:1001:ticket")
        again = zendesk.create_ticket("Order #1001 on hold", "Fraud score 0.91", tags=["oms", "fraud"],
                                      external_id="oms:1001", priority="high", idempotency_key="oms:1001:ticket")
        assert first == again
        assert [t["id"] for t in sandbox.notifications.tickets].count(first) == 1
        with pytest.raises(ZendeskError) as refused:
            zendesk.create_ticket("Something else", "body", tags=[], external_id="oms:1001",
                                  idempotency_key="oms:1001:ticket")
        assert refused.value.status == 400 and refused.value.error == "IdempotentRequestError"


def test_zendesk_wrong_token(sandbox):
    with ZendeskTickets(sandbox.zendesk_url, "oms-bot@sandbox.example", "wrong") as zendesk:
        with pytest.raises(ZendeskError) as refused:
            zendesk.create_ticket("s", "b", tags=[], external_id="x", idempotency_key="k-wrong")
        assert refused.value.status == 401


def test_retries_through_faults_deliver_once():
    # The gateway's 504 after a stall is an answer (nothing was posted): Slack is retried through it.
    with SandboxServer(SandboxStore(seed=1, orders=1, rate_per_min=0.0), faults=0.3, timeout_fault_s=0.2,
                       seed=7) as sandbox:
        with SlackWebhook(sandbox.slack_webhook_url, timeout_s=2.0, max_attempts=12, sleep=lambda _s: None) as slack, \
                _zendesk(sandbox, timeout_s=0.5, max_attempts=12, sleep=lambda _s: None) as zendesk:
            for i in range(10):
                slack.post(f"alert {i}")
                zendesk.create_ticket(f"ticket {i}", "body", tags=["oms"], external_id=f"oms:{i}",
                                      idempotency_key=f"key-{i}")
        assert sandbox.store.stats["faults"] > 0
        assert [m["text"] for m in sandbox.notifications.slack_messages] == [f"alert {i}" for i in range(10)]
        assert [t["subject"] for t in sandbox.notifications.tickets] == [f"ticket {i}" for i in range(10)]


def test_a_slack_message_whose_answer_is_lost_is_not_posted_again():
    # Every request stalls past the client's timeout: the message went out and no answer came back, so
    # it may have been posted; posting it again could double it, so the caller is told instead.
    with SandboxServer(SandboxStore(seed=1, orders=1, rate_per_min=0.0), faults=1.0, timeout_fault_s=1.0,
                       seed=3) as sandbox:
        sandbox.faults.pick = lambda: "timeout"
        with SlackWebhook(sandbox.slack_webhook_url, timeout_s=0.2, max_attempts=5, sleep=lambda _s: None) as slack:
            with pytest.raises(SlackAnswerLost, match="ReadTimeout"):
                slack.post("x")
        assert sandbox.store.stats["requests_slack"] == 1  # one attempt only


def test_exhausted_retries_raise_transient_error():
    with SandboxServer(SandboxStore(seed=1, orders=1, rate_per_min=0.0), faults=1.0, timeout_fault_s=0.05,
                       seed=7) as sandbox:
        with SlackWebhook(sandbox.slack_webhook_url, max_attempts=2, sleep=lambda _s: None) as slack:
            with pytest.raises(TransientHTTPError):
                slack.post("x")
        assert sandbox.notifications.slack_messages == []

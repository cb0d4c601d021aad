"""Slack incoming webhooks and Zendesk's ticket API, emulated for the sandbox server.

Slack (``POST /slack/services/<T>/<B>/<secret>``): a JSON body with ``text`` (or ``blocks``) is
answered ``200 ok`` as ``text/plain``; Slack's plain-text error words otherwise (``invalid_payload``,
``no_text``, ``invalid_blocks``, ``no_service`` for a hook that does not exist).

Zendesk (``POST /api/v2/tickets.json``): basic auth ``<email>/token:<api token>``; a created ticket is
answered ``201`` with ``{"ticket": {...}}``. An ``Idempotency-Key`` makes a repeat of the same request
return the original ticket (``x-idempotency-lookup: hit``; ``miss`` the first time), and the same key
with a different body is refused with Zendesk's ``IdempotentRequestError`` (400).

Both keep what they received for tests: ``slack_messages`` and ``tickets``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import random
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

SLACK_PATH_PREFIX = "/slack/services/"
ZENDESK_TICKETS_PATH = "/api/v2/tickets.json"
ZENDESK_RATE_LIMIT = 700  # requests a minute on Zendesk's Suite Professional plan
DEFAULT_ZENDESK_EMAIL = "oms-bot@sandbox.example"
DEFAULT_ZENDESK_TOKEN = "zd_sandbox_api_token"
TICKET_PRIORITIES = ("urgent", "high", "normal", "low")


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class NotificationsAPI:
    """The chat webhook and the helpdesk of one sandbox, and what they received. Thread-safe."""

    def __init__(self, *, seed: int = 0, zendesk_email: str = DEFAULT_ZENDESK_EMAIL,
                 zendesk_api_token: str = DEFAULT_ZENDESK_TOKEN, clock: Callable[[], str] = _now):
        rng = random.Random(f"slack-{seed}")
        alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
        secret = "".join(rng.choice(alphabet) for _ in range(24))
        self.slack_path = f"{SLACK_PATH_PREFIX}T0SANDBOX/B0OMSALERT/{secret}"
        self.zendesk_email = zendesk_email
        self.zendesk_api_token = zendesk_api_token
        self._clock = clock
        self._lock = threading.Lock()
        self.slack_messages: list[dict[str, Any]] = []
        self.tickets: list[dict[str, Any]] = []
        self._idempotency: dict[str, tuple[str, dict[str, Any]]] = {}  # key -> (request fingerprint, ticket)
        self._minute: tuple[str, int] = ("", 0)

    # -- Slack ------------------------------------------------------------------------------------

    def slack_post(self, path: str, body: bytes) -> tuple[int, str]:
        """(status, text/plain body) for one webhook request."""
        if path != self.slack_path:
            return 404, "no_service"
        try:
            payload = json.loads(body or b"null")
        except ValueError:
            return 400, "invalid_payload"
        if not isinstance(payload, dict):
            return 400, "invalid_payload"
        text, blocks = payload.get("text"), payload.get("blocks")
        if text is not None and not isinstance(text, str):
            return 400, "invalid_payload"
        if blocks is not None and (not isinstance(blocks, list)
                                   or not all(isinstance(b, dict) and isinstance(b.get("type"), str) for b in blocks)):
            return 400, "invalid_blocks"
        if not text and not blocks:
            return 400, "no_text"
        with self._lock:
            self.slack_messages.append({"text": text, "blocks": blocks})
        return 200, "ok"

    # -- Zendesk ----------------------------------------------------------------------------------

    def authorized(self, header: str | None) -> bool:
        """Whether an ``Authorization`` header carries the configured API token (basic auth)."""
        if not header or not header.startswith("Basic "):
            return False
        try:
            user, _, secret = base64.b64decode(header[len("Basic "):]).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return False
        return user == f"{self.zendesk_email}/token" and secret == self.zendesk_api_token

    def rate_limit_headers(self) -> dict[str, str]:
        """Zendesk's account rate-limit headers (requests left this minute)."""
        minute = self._clock()[:16]
        with self._lock:
            used = self._minute[1] + 1 if self._minute[0] == minute else 1
            self._minute = (minute, used)
        remaining = max(0, ZENDESK_RATE_LIMIT - used)
        return {"X-Rate-Limit": str(ZENDESK_RATE_LIMIT), "X-Rate-Limit-Remaining": str(remaining)}

    def create_ticket(self, body: bytes, idempotency_key: str | None,
                      base_url: str) -> tuple[int, dict[str, Any], dict[str, str]]:
        """(status, JSON body, extra headers) for ``POST /api/v2/tickets.json``."""
        try:
            payload = json.loads(body or b"null")
        except ValueError:
            return 400, {"error": "Unprocessable Entity", "description": "Could not parse the request body as JSON"}, {}
        ticket_in = payload.get("ticket") if isinstance(payload, dict) else None
        if not isinstance(ticket_in, dict):
            return 400, {"error": "InvalidEndpoint", "description": "Ticket parameter is missing"}, {}
        comment = ticket_in.get("comment")
        comment_body = comment.get("body") if isinstance(comment, dict) else None
        if not isinstance(comment_body, str) or not comment_body.strip():
            return 422, {"error": "RecordInvalid", "description": "Record validation errors",
                         "details": {"base": [{"description": "Description: cannot be blank",
                                               "error": "BlankValue"}]}}, {}
        priority = ticket_in.get("priority")
        if priority is not None and priority not in TICKET_PRIORITIES:
            return 422, {"error": "RecordInvalid", "description": "Record validation errors",
                         "details": {"priority": [{"description": "Priority: is not valid",
                                                   "error": "InvalidValue"}]}}, {}
        fingerprint = hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()
        with self._lock:
            if idempotency_key is not None and idempotency_key in self._idempotency:
                original_fingerprint, ticket = self._idempotency[idempotency_key]
                if original_fingerprint != fingerprint:
                    return 400, {"error": "IdempotentRequestError",
                                 "description": "Request parameters do not match original request"}, {}
                return 201, {"ticket": ticket}, {"x-idempotency-lookup": "hit"}
            ticket_id = len(self.tickets) + 1
            now = self._clock()
            ticket = {
                "id": ticket_id, "url": f"{base_url}/api/v2/tickets/{ticket_id}.json",
                "subject": ticket_in.get("subject"), "raw_subject": ticket_in.get("subject"),
                "description": comment_body, "status": "new", "priority": priority, "type": ticket_in.get("type"),
                "tags": sorted(set(ticket_in.get("tags") or [])), "external_id": ticket_in.get("external_id"),
                "requester_id": 1, "submitter_id": 1, "created_at": now, "updated_at": now,
            }
            self.tickets.append(ticket)
            headers = {"Location": ticket["url"]}
            if idempotency_key is not None:
                self._idempotency[idempotency_key] = (fingerprint, ticket)
                headers["x-idempotency-lookup"] = "miss"
        return 201, {"ticket": ticket}, headers

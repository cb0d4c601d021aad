"""Alert channels: a Slack incoming webhook and Zendesk tickets, over the shared HTTP policy.

Both use ``connectors/http.py``: httpx clients with explicit timeouts, and the one retry rule
(429/5xx/timeouts retried with backoff, ``Retry-After`` honoured). A Zendesk ticket carries an
``Idempotency-Key`` so a retried create returns the first ticket instead of opening a second one.
Slack's webhook has no such key: a message is retried only when it certainly did not arrive (the
connection was never made, or Slack answered 429/5xx); when the request went out and its answer was
lost, ``SlackAnswerLost`` says so instead, and the caller decides (the gateway asks an operator).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import urlsplit

import httpx

from oms_pipeline.connectors.http import build_client, raise_for_transient, retrying

TICKET_PRIORITIES = ("urgent", "high", "normal", "low")


class SlackWebhookError(RuntimeError):
    """Slack refused the message (its answer word, e.g. ``invalid_payload``, ``no_service``)."""


class SlackAnswerLost(RuntimeError):
    """The message went out and no answer came back: it may or may not have been posted."""


# Errors after the request (or part of it) was sent: Slack may have posted the message.
_AFTER_SENDING = (httpx.ReadTimeout, httpx.ReadError, httpx.RemoteProtocolError, httpx.WriteTimeout,
                  httpx.WriteError)


class ZendeskError(RuntimeError):
    """Zendesk refused the request in a way retrying will not fix (auth, validation, key reuse)."""

    def __init__(self, message: str, *, status: int, error: str | None = None):
        super().__init__(message)
        self.status = status
        self.error = error


class SlackWebhook:
    """One Slack incoming webhook (the URL is the credential: keep it out of logs)."""

    def __init__(self, url: str, *, timeout_s: float = 10.0, max_attempts: int = 6,
                 transport: httpx.BaseTransport | None = None, sleep: Callable[[float], None] = time.sleep):
        parts = urlsplit(url)
        self._path = parts.path
        self._http = build_client(f"{parts.scheme}://{parts.netloc}", headers={"Content-Type": "application/json"},
                                  timeout_s=timeout_s, transport=transport)
        self._max_attempts = max_attempts
        self._sleep = sleep

    def __enter__(self) -> SlackWebhook:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the HTTP connection pool."""
        self._http.close()

    def post(self, text: str, blocks: list[dict[str, Any]] | None = None) -> None:
        """Post one message; raises ``SlackWebhookError`` unless Slack answers ``ok``, and
        ``SlackAnswerLost`` when the request went out but no answer came back.

        ``text`` is also the notification fallback when ``blocks`` are given.
        """
        payload: dict[str, Any] = {"text": text}
        if blocks is not None:
            payload["blocks"] = blocks
        for attempt in retrying(self._max_attempts, sleep=self._sleep):
            with attempt:
                try:
                    response = self._http.post(self._path, json=payload)
                except _AFTER_SENDING as lost:  # not retried: a second post could double the message
                    raise SlackAnswerLost(f"{type(lost).__name__} after the message was sent") from lost
                raise_for_transient(response)
                if response.status_code != 200 or response.text.strip() != "ok":
                    raise SlackWebhookError(f"Slack webhook answered {response.status_code}: {response.text[:200]}")
                return
        raise AssertionError("unreachable: retrying re-raises")


class ZendeskTickets:
    """Ticket creation on one Zendesk account, with API-token basic auth."""

    def __init__(self, base_url: str, email: str, api_token: str, *, timeout_s: float = 10.0,
                 max_attempts: int = 6, transport: httpx.BaseTransport | None = None,
                 sleep: Callable[[float], None] = time.sleep):
        self._http = build_client(base_url.rstrip("/"), headers={"Accept": "application/json"},
                                  timeout_s=timeout_s, transport=transport)
        self._auth = httpx.BasicAuth(f"{email}/token", api_token)
        self._max_attempts = max_attempts
        self._sleep = sleep

    def __enter__(self) -> ZendeskTickets:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the HTTP connection pool."""
        self._http.close()

    def create_ticket(self, subject: str, body: str, *, tags: Sequence[str], external_id: str,
                      priority: str = "normal", idempotency_key: str) -> int:
        """Open a ticket and return its id; the same ``idempotency_key`` and request return the same ticket.

        Raises ``ZendeskError`` when Zendesk refuses it (including the key reused for another request),
        ``TransientHTTPError`` when retries run out.
        """
        if priority not in TICKET_PRIORITIES:
            raise ValueError(f"priority must be one of {TICKET_PRIORITIES}, got {priority!r}")
        ticket = {"ticket": {"subject": subject, "comment": {"body": body}, "priority": priority,
                             "tags": list(tags), "external_id": external_id}}
        headers = {"Idempotency-Key": idempotency_key}
        for attempt in retrying(self._max_attempts, sleep=self._sleep):
            with attempt:
                response = self._http.post("/api/v2/tickets.json", json=ticket, headers=headers, auth=self._auth)
                raise_for_transient(response)
                if response.status_code != 201:
                    raise _zendesk_error(response)
                return int(response.json()["ticket"]["id"])
        raise AssertionError("unreachable: retrying re-raises")


    def current_user(self) -> dict[str, Any]:
        """The user the credentials authenticate as (``GET /api/v2/users/me.json``).

        Zendesk answers an unauthenticated request with an anonymous user (``id`` null) rather than
        401: that is raised as ``ZendeskError`` too, so a caller never mistakes it for a login.
        """
        for attempt in retrying(self._max_attempts, sleep=self._sleep):
            with attempt:
                response = self._http.get("/api/v2/users/me.json", auth=self._auth)
                raise_for_transient(response)
                if response.status_code != 200:
                    raise _zendesk_error(response)
                user = response.json().get("user") or {}
                if user.get("id") is None:
                    raise ZendeskError("Zendesk answered as an anonymous user: the email or API token is not "
                                       "accepted", status=200)
                return user
        raise AssertionError("unreachable: retrying re-raises")


def _zendesk_error(response: httpx.Response) -> ZendeskError:
    try:
        payload = response.json()
    except ValueError:
        payload = {}
    error = payload.get("error") if isinstance(payload, dict) else None
    description = payload.get("description") if isinstance(payload, dict) else None
    return ZendeskError(f"Zendesk answered {response.status_code}: {error or ''} {description or response.text[:200]}",
                        status=response.status_code, error=error if isinstance(error, str) else None)

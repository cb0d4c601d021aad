"""The one retry policy, on a transport-level fake: Retry-After honoured, backoff otherwise, no retry
on what retrying cannot fix."""

from __future__ import annotations

import httpx
import pytest

from oms_pipeline.connectors.http import TransientHTTPError, build_client, raise_for_transient, retrying


def _call(client: httpx.Client, sleeps: list[float], attempts: int = 5) -> httpx.Response:
    for attempt in retrying(attempts, sleep=sleeps.append):
        with attempt:
            response = client.get("/x")
            raise_for_transient(response)
            return response
    raise AssertionError


def test_retry_after_is_honoured_exactly():
    answers = iter([httpx.Response(429, headers={"Retry-After": "2.0"}), httpx.Response(503),
                    httpx.Response(200, json={"ok": True})])
    client = build_client("http://store.test", headers={}, timeout_s=1,
                          transport=httpx.MockTransport(lambda request: next(answers)))
    sleeps: list[float] = []
    assert _call(client, sleeps).json() == {"ok": True}
    assert sleeps[0] == 2.0 and 0 < sleeps[1] <= 20


def test_timeouts_are_retried_then_reraised():
    def timeout(request):
        raise httpx.ReadTimeout("slow", request=request)

    client = build_client("http://store.test", headers={}, timeout_s=1, transport=httpx.MockTransport(timeout))
    sleeps: list[float] = []
    with pytest.raises(httpx.ReadTimeout):
        _call(client, sleeps, attempts=3)
    assert len(sleeps) == 2


def test_client_errors_are_not_retried():
    client = build_client("http://store.test", headers={}, timeout_s=1,
                          transport=httpx.MockTransport(lambda request: httpx.Response(404)))
    sleeps: list[float] = []
    assert _call(client, sleeps).status_code == 404 and sleeps == []


def test_transient_error_carries_status():
    request = httpx.Request("GET", "http://store.test/x")
    with pytest.raises(TransientHTTPError) as caught:
        raise_for_transient(httpx.Response(502, request=request))
    assert caught.value.status == 502 and caught.value.retry_after is None

"""Fault injection: a seeded fraction of requests fail the ways Shopify's edge does.

A faulted request is answered before anything else happens: it changes no order and charges no
rate-limit bucket, like a request that never reached the shop.
"""

from __future__ import annotations

import asyncio
import random
import threading

from starlette.responses import HTMLResponse, JSONResponse, Response

FAULT_KINDS = ("http_429", "http_500", "http_502", "timeout")

_BAD_GATEWAY = """<!DOCTYPE html>
<html><head><title>502 Bad Gateway</title></head>
<body><h1>502 Bad Gateway</h1><p>There was a problem connecting to the shop. Please try again.</p>
<hr><p>nginx</p></body></html>
"""
_GATEWAY_TIMEOUT = """<!DOCTYPE html>
<html><head><title>504 Gateway Time-out</title></head>
<body><h1>504 Gateway Time-out</h1><hr><p>nginx</p></body></html>
"""


class FaultInjector:
    """Decides, per request, whether and how it fails (deterministic for a seed and request order)."""

    def __init__(self, rate: float, seed: int = 0, timeout_s: float = 30.0):
        if not 0.0 <= rate <= 1.0:
            raise ValueError(f"fault rate must be within [0, 1], got {rate}")
        self.rate = rate
        self.timeout_s = timeout_s
        self._rng = random.Random(seed)
        self._lock = threading.Lock()

    def pick(self) -> str | None:
        """The fault for the next request, or None for a normal answer."""
        with self._lock:
            if self.rate <= 0 or self._rng.random() >= self.rate:
                return None
            return self._rng.choice(FAULT_KINDS)

    async def answer(self, kind: str, *, rest: bool) -> Response:
        """The failed answer of ``kind``; a timeout first stalls for ``timeout_s``."""
        if kind == "http_429":
            body = ({"errors": "Exceeded 2 calls per second for api client. Reduce request rates to resume "
                               "uninterrupted service."} if rest else
                    {"errors": [{"message": "Too many requests", "extensions": {"code": "THROTTLED"}}]})
            return JSONResponse(body, status_code=429, headers={"Retry-After": "1.0"})
        if kind == "http_500":
            return JSONResponse({"errors": "Internal Server Error"}, status_code=500)
        if kind == "http_502":
            return HTMLResponse(_BAD_GATEWAY, status_code=502)
        # The client should give up well before this; if it waits, the gateway answers 504.
        await asyncio.sleep(self.timeout_s)
        return HTMLResponse(_GATEWAY_TIMEOUT, status_code=504)

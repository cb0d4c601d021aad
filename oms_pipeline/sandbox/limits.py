"""Shopify's two rate limits, as leaky buckets on a monotonic clock.

GraphQL: a bucket of cost points per token that restores at a fixed rate; a query needs its
requested cost available up front and is refunded the difference to its actual cost afterwards.
REST: a bucket of 40 calls per token that leaks 2 calls a second; a call into a full bucket is
answered 429.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable


class CostBucket:
    """GraphQL calculated-cost bucket for one token."""

    def __init__(self, size: float, restore_rate: float, clock: Callable[[], float] = time.monotonic):
        self.size = float(size)
        self.restore_rate = float(restore_rate)
        self._clock = clock
        self._available = self.size
        self._at = clock()
        self._lock = threading.Lock()

    def _refill(self) -> None:
        now = self._clock()
        self._available = min(self.size, self._available + (now - self._at) * self.restore_rate)
        self._at = now

    def available(self) -> float:
        """Points available now."""
        with self._lock:
            self._refill()
            return self._available

    def take(self, cost: float) -> bool:
        """Deduct ``cost`` if that many points are available now; whether it was."""
        with self._lock:
            self._refill()
            if cost > self._available:
                return False
            self._available -= cost
            return True

    def refund(self, points: float) -> None:
        """Give back ``points`` (requested minus actual cost)."""
        with self._lock:
            self._refill()
            self._available = min(self.size, self._available + max(0.0, points))

    def status(self) -> dict[str, float]:
        """``throttleStatus`` as Shopify reports it."""
        # Rounded down: a client pacing on this figure must never believe in points that are not there.
        return {"maximumAvailable": self.size, "currentlyAvailable": math.floor(self.available() * 10) / 10,
                "restoreRate": self.restore_rate}


class CallBucket:
    """REST call bucket for one token: ``size`` calls, leaking ``leak_per_s`` calls a second."""

    def __init__(self, size: int, leak_per_s: float, clock: Callable[[], float] = time.monotonic):
        self.size = size
        self.leak_per_s = float(leak_per_s)
        self._clock = clock
        self._used = 0.0
        self._at = clock()
        self._lock = threading.Lock()

    def _leak(self) -> None:
        now = self._clock()
        self._used = max(0.0, self._used - (now - self._at) * self.leak_per_s)
        self._at = now

    def add(self) -> bool:
        """Count one call if the bucket has room; whether it had."""
        with self._lock:
            self._leak()
            if self._used + 1 > self.size:
                return False
            self._used += 1
            return True

    def header(self) -> str:
        """``X-Shopify-Shop-Api-Call-Limit``: calls in the bucket / its size (``3/40``)."""
        with self._lock:
            self._leak()
            return f"{int(self._used + 0.999)}/{self.size}"

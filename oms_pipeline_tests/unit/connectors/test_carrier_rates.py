"""The carrier-rates connector's rates cache: weight buckets, keys, and expiry when full."""

from __future__ import annotations

import pytest

from oms_pipeline.connectors.carrier_rates import RateCache
from oms_pipeline_tests.support.carrier_rates import AUSTIN, EDISON, FakeClock


def test_cache_buckets_and_keys():
    cache = RateCache(ttl_s=1, bucket_kg=0.5)
    assert [cache.bucket(w) for w in (0.01, 0.5, 0.5000000001, 1.0, 1.2)] == [1, 1, 1, 2, 3]
    assert cache.quoted_weight_kg(1.2) == 1.5
    assert cache.key(EDISON, AUSTIN, 1.0) != cache.key(AUSTIN, EDISON, 1.0)
    with pytest.raises(ValueError):
        cache.bucket(0.0)


def test_cache_drops_expired_entries_when_full():
    clock = FakeClock()
    cache = RateCache(ttl_s=10, clock=clock, max_entries=2)
    cache.put(("a",), ())
    clock.now += 5
    cache.put(("b",), ())
    cache.put(("c",), ())  # full: the entry closest to expiring ("a") goes
    assert cache.get(("a",)) is None and cache.get(("b",)) == () and cache.get(("c",)) == ()

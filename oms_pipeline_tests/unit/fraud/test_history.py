"""The sandbox's labelled history: deterministic, realistic rates, late labels."""

from __future__ import annotations

from oms_pipeline.domain.fraud.features import parse_timestamp
from oms_pipeline.sandbox.fraud_history import build_fraud_history, generate_fraud_history


def test_same_seed_same_history() -> None:
    assert generate_fraud_history(300, seed=5) == generate_fraud_history(300, seed=5)
    assert generate_fraud_history(300, seed=5)[0] != generate_fraud_history(300, seed=6)[0]


def test_rates_order_and_label_delay(history) -> None:
    orders = history.orders
    times = [parse_timestamp(o["created_at"])[0] for o in orders]
    assert times == sorted(times)
    assert len({o["id"] for o in orders}) == len(orders)
    assert 0.01 <= len(history.fraud_ids) / len(orders) <= 0.03
    created = dict(zip((o["id"] for o in orders), times, strict=True))
    fraud_disputes = [d for d in history.disputes if d["reason"] == "fraudulent"]
    # Some fraud is never disputed, and a few honest orders are (friendly fraud).
    disputed = {d["order_id"] for d in fraud_disputes}
    assert 0.5 < len(disputed & history.fraud_ids) / len(history.fraud_ids) < 0.95
    assert disputed - history.fraud_ids
    delays = [(parse_timestamp(d["initiated_at"])[0] - created[d["order_id"]]) / 86400 for d in fraud_disputes]
    assert min(delays) >= 2 and sorted(delays)[len(delays) // 2] > 7
    assert all(r["outcome"] in ("fraud", "legitimate") for r in history.review_outcomes)


def test_fraud_signals_overlap(history) -> None:
    """No single signal separates the classes: legitimate orders share each of them at some rate."""
    def mismatch(o):
        b, s = o.get("billing_address") or {}, o.get("shipping_address") or {}
        return bool(s) and b.get("country_code") != s.get("country_code")

    legit = [o for o in history.orders if o["id"] not in history.fraud_ids]
    fraud = [o for o in history.orders if o["id"] in history.fraud_ids]
    for signal in (mismatch, lambda o: "express" in str(o["shipping_lines"]).lower()):
        legit_rate = sum(map(signal, legit)) / len(legit)
        fraud_rate = sum(map(signal, fraud)) / len(fraud)
        assert 0.02 < legit_rate < fraud_rate < 0.95


def test_builds_small_history_quickly_enough_to_use_in_tests() -> None:
    history = build_fraud_history(200, seed=1, days=10)
    assert len(history.orders) == 200 and history.as_tuple()[0] is history.orders

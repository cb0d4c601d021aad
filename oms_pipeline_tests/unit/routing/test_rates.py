"""Rate shopping one shipment: cheapest on-time service, else the fastest, with the reason."""

from __future__ import annotations

from decimal import Decimal

import pytest

from oms_pipeline.domain.routing.rates import CarrierQuote, rate_shop


def q(service: str, rate: str, days: int | None, carrier: str = "UPS", currency: str = "USD") -> CarrierQuote:
    return CarrierQuote(carrier=carrier, service=service, rate=Decimal(rate), currency=currency, delivery_days=days)


def test_cheapest_service_that_meets_the_promise():
    quotes = [q("2day", "11.40", 2), q("ground", "8.12", 3), q("economy", "6.50", 5, carrier="USPS")]
    choice = rate_shop(quotes, promise_days=3, location_id="DC-EAST")
    assert choice.quote.service == "ground" and choice.on_time and choice.days == 3
    # The runner-up is the next on-time quote, not the cheaper late one.
    assert choice.next_best is not None and choice.next_best.service == "2day"
    assert choice.reason == "DC-EAST UPS ground $8.12, 3 days; next best UPS 2day $11.40, 2 days (+$3.28)"


def test_handling_days_count_toward_the_promise():
    quotes = [q("2day", "11.40", 2), q("ground", "8.12", 3)]
    choice = rate_shop(quotes, promise_days=3, location_id="3PL", handling_days=1)
    assert choice.quote.service == "2day" and choice.days == 3 and choice.on_time
    assert choice.reason.endswith("next best UPS ground $8.12, 4 days (-$3.28, but late)")


def test_cheaper_late_runner_up_says_so():
    choice = rate_shop([q("ground", "8.12", 3), q("economy", "6.50", 5, carrier="USPS")], promise_days=3)
    assert choice.quote.service == "ground"
    assert choice.reason == "UPS ground $8.12, 3 days; next best USPS economy $6.50, 5 days (-$1.62, but late)"


def test_nothing_on_time_takes_the_fastest():
    quotes = [q("ground", "8.12", 5), q("express", "30.10", 3, carrier="FedEx"), q("2day", "11.40", 3)]
    choice = rate_shop(quotes, promise_days=2)
    assert choice.quote.service == "2day" and not choice.on_time  # fastest; the cheaper of the two 3-day ones
    assert "no quote meets the 2-day promise: fastest" in choice.reason
    assert choice.next_best.service == "express"


def test_ties_are_deterministic_and_unknown_days_come_last():
    quotes = [q("b", "5.00", None), q("a", "9.00", 4, carrier="Z"), q("a", "9.00", 4, carrier="A")]
    choice = rate_shop(quotes, promise_days=4)
    assert (choice.quote.carrier, choice.quote.service) == ("A", "a")
    only_unknown = rate_shop([q("b", "5.00", None)], promise_days=4)
    assert not only_unknown.on_time and only_unknown.days is None
    assert only_unknown.reason == "UPS b $5.00, days unknown (no quote has a delivery estimate); no other quote"


def test_refuses_empty_and_mixed_currencies():
    with pytest.raises(ValueError, match="no quotes"):
        rate_shop([], promise_days=3)
    with pytest.raises(ValueError, match="currencies"):
        rate_shop([q("a", "1.00", 1), q("b", "1.00", 1, currency="EUR")], promise_days=3)


def test_other_currencies_are_named():
    choice = rate_shop([q("std", "7.5", 2, currency="EUR", carrier="DHL")], promise_days=3)
    assert choice.reason == "DHL std 7.50 EUR, 2 days; no other quote"

"""Rate shopping one planned shipment: the cheapest carrier service that meets the order's promise.

The batch planner routes on rate cards; once a shipment is chosen (location, units, weight), live quotes
for it are compared here. A quote meets the promise when the location's handling days plus the carrier's
delivery days are at most the order's promise. The cheapest quote that meets it wins (ties: the faster,
then carrier and service names, so the choice is deterministic); when none meets it, the fastest wins
(ties: the cheaper), because a late parcel costs goodwill that a rate difference does not show. Quotes
with no delivery estimate cannot be shown to meet a promise; they are chosen only when nothing else is
quoted. Amounts are ``Decimal`` (carriers send decimal strings) and quotes in different currencies are
refused rather than compared.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class CarrierQuote:
    """One carrier's price for one service on one parcel (an EasyPost-style rate)."""

    carrier: str
    service: str
    rate: Decimal
    currency: str
    delivery_days: int | None
    quote_id: str = ""


@dataclass(frozen=True)
class RateChoice:
    """The chosen quote, its door-to-door days, whether that meets the promise, the runner-up and why."""

    quote: CarrierQuote
    days: int | None
    on_time: bool
    next_best: CarrierQuote | None
    reason: str


def _days(quote: CarrierQuote, handling_days: int) -> int | None:
    return None if quote.delivery_days is None else handling_days + quote.delivery_days


def _money(amount: Decimal, currency: str) -> str:
    return f"${amount:.2f}" if currency == "USD" else f"{amount:.2f} {currency}"


def _label(quote: CarrierQuote, days: int | None) -> str:
    when = "days unknown" if days is None else f"{days} day{'s' if days != 1 else ''}"
    return f"{quote.carrier} {quote.service} {_money(quote.rate, quote.currency)}, {when}"


def rate_shop(quotes: Sequence[CarrierQuote], promise_days: int, *, location_id: str = "",
              handling_days: int = 0) -> RateChoice:
    """Pick the service for one shipment from its quotes (see the module docstring for the rule).

    ``reason`` reads like ``"DC-EAST UPS ground $8.12, 3 days; next best UPS 2day $11.40, 2 days (+$3.28)"``.
    Raises ``ValueError`` when there are no quotes or they are in more than one currency.
    """
    if not quotes:
        raise ValueError("no quotes to choose from")
    currencies = {q.currency for q in quotes}
    if len(currencies) > 1:
        raise ValueError(f"quotes in several currencies cannot be compared: {sorted(currencies)}")

    def rank(quote: CarrierQuote) -> tuple:
        days = _days(quote, handling_days)
        known = days is not None
        meets = known and days <= promise_days
        if meets:  # on time: cheapest first
            return (0, quote.rate, days, quote.carrier, quote.service)
        if known:  # late: fastest first
            return (1, days, quote.rate, quote.carrier, quote.service)
        return (2, quote.rate, 0, quote.carrier, quote.service)  # no estimate: last resort

    ranked = sorted(quotes, key=rank)
    best, runner_up = ranked[0], (ranked[1] if len(ranked) > 1 else None)
    days = _days(best, handling_days)
    on_time = days is not None and days <= promise_days
    head = f"{location_id} " if location_id else ""
    reason = head + _label(best, days)
    if not on_time:
        reason += (f" (no quote meets the {promise_days}-day promise: fastest)" if days is not None
                   else " (no quote has a delivery estimate)")
    if runner_up is None:
        reason += "; no other quote"
    else:
        delta = runner_up.rate - best.rate
        runner_days = _days(runner_up, handling_days)
        if delta >= 0:
            why = f"+{_money(delta, best.currency)}"
        elif runner_days is None:
            why = f"-{_money(-delta, best.currency)}, but no delivery estimate"
        else:  # cheaper yet ranked lower: it misses the promise (or is slower when nothing meets it)
            why = f"-{_money(-delta, best.currency)}, but {'late' if on_time else 'slower'}"
        reason += f"; next best {_label(runner_up, runner_days)} ({why})"
    return RateChoice(quote=best, days=days, on_time=on_time, next_best=runner_up, reason=reason)

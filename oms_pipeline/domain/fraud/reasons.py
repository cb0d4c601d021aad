"""Plain-words reasons for a fraud score: feature groups and how to say what each one saw.

A reason names what in *this* order pushed the score up, with its value ("3rd order to this address
in 2 h"), never personal data (no names, emails or street lines).
"""

from __future__ import annotations

import math

import numpy as np

from oms_pipeline.domain.fraud.features import FEATURE_INDEX

# Features that an operator reads as one fact are explained together.
REASON_GROUPS: dict[str, tuple[str, ...]] = {
    "value": ("order_value", "value_ratio_customer_mean"),
    "mismatch": ("billing_shipping_country_mismatch", "billing_shipping_zip_mismatch", "billing_shipping_km"),
    "names": ("billing_shipping_name_mismatch",),
    "account": ("account_age_days", "customer_prev_orders", "email_prev_orders"),
    "email": ("email_free_mail", "email_digit_share", "email_entropy", "email_name_match"),
    "address_velocity": ("address_orders_2h", "address_orders_24h"),
    "ip_velocity": ("ip_orders_2h", "ip_orders_24h"),
    "email_velocity": ("email_orders_2h", "email_orders_24h"),
    "new_address": ("address_prev_orders",),
    "shipping": ("shipping_express", "shipping_price", "no_shipping_address"),
    "resale": ("resale_value_share",),
    "gift_cards": ("gift_card_value_share",),
    "quantity": ("total_quantity", "max_line_quantity", "line_count"),
    "discount": ("discount_share", "discount_code_used"),
    "hour": ("shop_local_hour", "customer_local_hour"),
    "locale": ("locale_country_mismatch",),
}
GROUP_COLUMNS: dict[str, np.ndarray] = {
    group: np.array([FEATURE_INDEX[name] for name in names]) for group, names in REASON_GROUPS.items()
}


def ordinal(n: int) -> str:
    """``1 -> "1st"``, ``2 -> "2nd"``, ``11 -> "11th"``."""
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _clock(hour: float) -> str:
    h = int(hour) % 24
    return f"{h % 12 or 12} {'a.m.' if h < 12 else 'p.m.'}"


def _ago(days: float) -> str:
    if days < 1:
        hours = max(1, round(days * 24))
        return f"{hours} hour{'s' if hours != 1 else ''}"
    whole = round(days)
    return f"{whole} day{'s' if whole != 1 else ''}"


def _velocity(row: np.ndarray, kind: str, what: str) -> str | None:
    for window in ("2h", "24h"):
        count = row[FEATURE_INDEX[f"{kind}_orders_{window}"]]
        if count == count and count >= 1:
            return f"{ordinal(int(count) + 1)} order {what} in {window[:-1]} h"
    return None


def describe(group: str, row: np.ndarray) -> str | None:
    """The reason of ``group`` for the order with features ``row``; ``None`` when nothing there is unusual."""

    def v(name: str) -> float:
        return float(row[FEATURE_INDEX[name]])

    def yes(name: str) -> bool:
        return v(name) == 1.0

    if group == "value":
        value, ratio = v("order_value"), v("value_ratio_customer_mean")
        if math.isnan(value):
            return None
        if ratio == ratio and ratio >= 2:
            return f"order value {value:,.2f} is {ratio:.1f}x this customer's usual"
        return f"order value {value:,.2f}"
    if group == "mismatch":
        if yes("billing_shipping_country_mismatch"):
            return "shipping country differs from billing country"
        km = v("billing_shipping_km")
        if km == km and km >= 50:
            return f"billing and shipping addresses are {km:,.0f} km apart"
        if yes("billing_shipping_zip_mismatch"):
            return "billing and shipping postcodes differ"
        return None
    if group == "names":
        return "billing name differs from the recipient's name" if yes("billing_shipping_name_mismatch") else None
    if group == "account":
        age = v("account_age_days")
        if age == age and age < 30:
            return f"account created {_ago(age)} before the order"
        if math.isnan(age):
            return "no customer account"
        if v("customer_prev_orders") == 0 and v("email_prev_orders") in (0.0,):
            return "first order from this customer"
        return None
    if group == "email":
        free, digits, match = yes("email_free_mail"), v("email_digit_share"), v("email_name_match")
        if free and (match == 0 or digits >= 0.3):
            return "free-mail address that looks random"
        if match == 0:
            return "email address does not match the customer's name"
        if digits == digits and digits >= 0.3:
            return "email address is mostly digits"
        return "free-mail address" if free else None
    if group == "address_velocity":
        return _velocity(row, "address", "to this address")
    if group == "ip_velocity":
        return _velocity(row, "ip", "from this IP address")
    if group == "email_velocity":
        return _velocity(row, "email", "with this email address")
    if group == "new_address":
        return "first order to this address" if v("address_prev_orders") == 0 else None
    if group == "shipping":
        if yes("shipping_express"):
            return "express shipping"
        if yes("no_shipping_address"):
            return "nothing to ship (digital goods only)"
        return None
    if group == "resale":
        share = v("resale_value_share")
        return f"high-resale items are {share:.0%} of the order" if share == share and share > 0 else None
    if group == "gift_cards":
        share = v("gift_card_value_share")
        return f"gift cards are {share:.0%} of the order" if share == share and share > 0 else None
    if group == "quantity":
        most, total = v("max_line_quantity"), v("total_quantity")
        if most == most and most >= 3:
            return f"{int(most)} units of one item"
        return f"{int(total)} units in one order" if total == total and total >= 5 else None
    if group == "discount":
        share = v("discount_share")
        if yes("discount_code_used"):
            return f"discount code used ({share:.0%} off)" if share == share and share > 0 else "discount code used"
        return None
    if group == "hour":  # only the small hours are worth an operator's attention
        local, shop = v("customer_local_hour"), v("shop_local_hour")
        if local == local:
            return f"placed at {_clock(local)} the customer's local time" if local < 6 else None
        return f"placed at {_clock(shop)} shop time" if shop == shop and shop < 6 else None
    if group == "locale":
        return "browser language does not match the shipping country" if yes("locale_country_mismatch") else None
    raise KeyError(group)

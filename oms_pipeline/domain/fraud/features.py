"""Fraud features known at order time, from a Shopify REST order element and the history before it.

Everything here reads a raw REST ``orders.json`` element, because that is what both the pipeline and
the offline CLI hold; any field may be missing, null or malformed, and then the feature is missing
(``NaN``), which the gradient-boosted model handles natively. Fields that change after the order is
placed (``financial_status``, ``cancel_reason``, ``customer.orders_count``, ``updated_at``, tags) are
never read: they would leak the outcome into the features.

History features (velocity, reuse, the customer's previous orders) count only orders whose
``created_at`` is strictly before the order's, whatever order the history was fed in, so adding or
changing a later order can never change an earlier order's features.
"""

from __future__ import annotations

import math
import re
from bisect import bisect_left, insort
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

import numpy as np

FREE_MAIL_DOMAINS = frozenset({
    "gmail.com", "googlemail.com", "yahoo.com", "yahoo.co.uk", "yahoo.fr", "hotmail.com", "hotmail.co.uk",
    "hotmail.fr", "outlook.com", "live.com", "msn.com", "aol.com", "icloud.com", "me.com", "mail.com",
    "proton.me", "protonmail.com", "gmx.de", "gmx.net", "web.de", "yandex.ru", "mail.ru", "qq.com", "163.com",
    "orange.fr", "free.fr", "libero.it", "zoho.com", "tutanota.com", "gmx.com",
})
# Goods that resell fast. SKU prefixes of the sandbox catalogue plus title words common in real shops.
HIGH_RESALE_SKU_PREFIXES = ("GRIND-HND", "KETTLE-GN", "BAG-DAY", "LAMP-HD", "DIFF-CER", "HOOD-FL")
HIGH_RESALE_WORDS = re.compile(
    r"\b(?:iphone|ipad|macbook|laptop|phone|console|playstation|xbox|nintendo|camera|lens|headphones?|airpods|"
    r"watch|sneakers?|jordan|yeezy|designer|grinder|kettle|daypack)\b", re.IGNORECASE)
EXPRESS_WORDS = re.compile(r"express|overnight|next[ -]?day|priority|expedited|same[ -]?day|1[ -]?day|rush",
                           re.IGNORECASE)
# Languages spoken in a country, for "browser language vs shipping country" (unknown country: missing).
COUNTRY_LANGUAGES: dict[str, frozenset[str]] = {
    k: frozenset(v.split()) for k, v in {
        "US": "en es", "CA": "en fr", "GB": "en", "IE": "en ga", "AU": "en", "NZ": "en", "DE": "de en",
        "AT": "de", "CH": "de fr it en", "FR": "fr", "BE": "fr nl de", "NL": "nl en", "LU": "fr de lb",
        "ES": "es ca eu gl", "PT": "pt", "IT": "it", "JP": "ja", "CN": "zh", "KR": "ko", "SE": "sv en",
        "NO": "no nb nn en", "DK": "da en", "FI": "fi sv en", "PL": "pl", "CZ": "cs", "MX": "es", "BR": "pt",
        "IN": "en hi", "SG": "en zh ms", "HK": "zh en",
    }.items()
}

HOUR = 3600.0
# Trailing windows for velocity: (name, seconds). Short bursts and a day.
WINDOWS: tuple[tuple[str, float], ...] = (("2h", 2 * HOUR), ("24h", 24 * HOUR))
_KEYS = ("email", "address", "ip")

FEATURE_NAMES: tuple[str, ...] = (
    "order_value",
    "value_ratio_customer_mean",
    "customer_prev_orders",
    "billing_shipping_country_mismatch",
    "billing_shipping_zip_mismatch",
    "billing_shipping_km",
    "billing_shipping_name_mismatch",
    "no_shipping_address",
    "account_age_days",
    "email_free_mail",
    "email_digit_share",
    "email_entropy",
    "email_name_match",
    *(f"{key}_orders_{w}" for key in _KEYS for w, _ in WINDOWS),
    "address_prev_orders",
    "email_prev_orders",
    "shipping_express",
    "shipping_price",
    "resale_value_share",
    "gift_card_value_share",
    "total_quantity",
    "max_line_quantity",
    "line_count",
    "discount_share",
    "discount_code_used",
    "shop_local_hour",
    "customer_local_hour",
    "locale_country_mismatch",
)
FEATURE_INDEX = {name: i for i, name in enumerate(FEATURE_NAMES)}
NAN = float("nan")


def parse_timestamp(value: Any) -> tuple[float, int] | None:
    """``(epoch seconds, hour of day in the timestamp's own offset)`` of a REST timestamp, or ``None``."""
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:  # a naive time cannot be placed on the timeline honestly
        return None
    return moment.timestamp(), moment.hour


def _num(value: Any) -> float:
    """A float from a REST number or decimal string; NaN when absent or unreadable."""
    if isinstance(value, bool) or value is None:
        return NAN
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return NAN
    if isinstance(value, Mapping):  # a money object where a string belongs
        return _num(value.get("amount"))
    return NAN


def _dict(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _text(value: Any) -> str:
    return value.strip().lower() if isinstance(value, str) else ""


def _entropy(text: str) -> float:
    if not text:
        return NAN
    counts = Counter(text)
    n = len(text)
    return -sum(c / n * math.log2(c / n) for c in counts.values())


def _haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0 * math.asin(min(1.0, math.sqrt(a)))


def _address_key(address: Mapping[str, Any]) -> str | None:
    """A normalized street address (lines 1-2, zip, country): one key per doorstep, names ignored."""
    line = re.sub(r"[^a-z0-9]", "", _text(address.get("address1")) + _text(address.get("address2")))
    zip_ = re.sub(r"[^a-z0-9]", "", _text(address.get("zip")))
    if not line:
        return None
    return f"{line}|{zip_}|{_text(address.get('country_code'))}"


def _person(address: Mapping[str, Any]) -> str:
    name = _text(address.get("name")) or f"{_text(address.get('first_name'))} {_text(address.get('last_name'))}"
    return name.strip()


def _flag(a: str, b: str) -> float:
    return NAN if not a or not b else float(a != b)


class _Parsed:
    """What the history needs to remember about an order (kept small: this state is saved with the model)."""

    __slots__ = ("id", "ts", "keys", "customer", "value")

    def __init__(self, id_: str | None, ts: float | None, keys: dict[str, str], customer: str | None, value: float):
        self.id, self.ts, self.keys, self.customer, self.value = id_, ts, keys, customer, value


class FeatureBuilder:
    """Streaming fraud features with history: velocity, reuse and the customer's previous orders.

    Feed history with :meth:`fit_history` (training orders), then call :meth:`features` for one order
    or :meth:`transform` for a batch; each order is recorded into the history after its features are
    computed, so later orders in the same batch see it. History lookups use sorted timestamp lists
    and count only strictly earlier orders, so results do not depend on the order of feeding.
    """

    def __init__(self) -> None:
        # key kind -> key -> sorted timestamps of orders with that email / address / IP
        self._times: dict[str, dict[str, list[float]]] = {k: defaultdict(list) for k in _KEYS}
        # customer -> sorted (timestamp, order value) of their orders
        self._customers: dict[str, list[tuple[float, float]]] = defaultdict(list)
        # Order ids already recorded: re-scoring an order (or a new version of it) must not count it twice.
        self._recorded: set[str] = set()
        self.orders_seen = 0

    # -- history --------------------------------------------------------------------------------

    def fit_history(self, orders: Iterable[Mapping[str, Any]]) -> FeatureBuilder:
        """Record ``orders`` into the history without computing their features; returns ``self``."""
        for order in orders:
            self._record(self._parse(order))
        return self

    def _record(self, parsed: _Parsed) -> None:
        if parsed.ts is None:  # an order we cannot place in time cannot be history for anyone
            return
        if parsed.id is not None:
            if parsed.id in self._recorded:
                return
            self._recorded.add(parsed.id)
        self.orders_seen += 1
        for kind, key in parsed.keys.items():
            insort(self._times[kind][key], parsed.ts)
        if parsed.customer is not None:
            insort(self._customers[parsed.customer], (parsed.ts, parsed.value))

    # -- features -------------------------------------------------------------------------------

    def features(self, order: Mapping[str, Any], *, record: bool = True) -> np.ndarray:
        """The feature vector (``FEATURE_NAMES`` order) of one order; then records it unless ``record=False``."""
        parsed = self._parse(order)
        row = self._row(order, parsed)
        if record:
            self._record(parsed)
        return row

    def transform(self, orders: Sequence[Mapping[str, Any]], *, record: bool = True) -> np.ndarray:
        """Feature matrix of ``orders`` (rows in input order), processed in ``created_at`` order.

        Orders with the same ``created_at`` do not see one another (strictly-before), and all of them
        are recorded after their features are computed. Orders without a readable ``created_at`` get
        missing history features and are not recorded.
        """
        parsed = [self._parse(o) for o in orders]
        out = np.full((len(orders), len(FEATURE_NAMES)), NAN)
        timed = sorted((p.ts, i) for i, p in enumerate(parsed) if p.ts is not None)
        untimed = [i for i, p in enumerate(parsed) if p.ts is None]
        pos = 0
        while pos < len(timed):
            end = pos
            while end < len(timed) and timed[end][0] == timed[pos][0]:
                end += 1
            group = [i for _, i in timed[pos:end]]
            for i in group:
                out[i] = self._row(orders[i], parsed[i])
            if record:
                for i in group:
                    self._record(parsed[i])
            pos = end
        for i in untimed:
            out[i] = self._row(orders[i], parsed[i])
        return out

    def _parse(self, order: Mapping[str, Any]) -> _Parsed:
        stamp = parse_timestamp(order.get("created_at"))
        keys: dict[str, str] = {}
        customer = _dict(order.get("customer"))
        email = _text(order.get("email")) or _text(order.get("contact_email")) or _text(customer.get("email"))
        if email:
            keys["email"] = email
        address = _address_key(_dict(order.get("shipping_address")))
        if address:
            keys["address"] = address
        ip = _text(order.get("browser_ip")) or _text(_dict(order.get("client_details")).get("browser_ip"))
        if ip:
            keys["ip"] = ip
        customer_id = customer.get("id")
        who = f"id:{customer_id}" if customer_id not in (None, "") else (f"email:{email}" if email else None)
        order_id = order.get("id")
        return _Parsed(None if order_id in (None, "") else str(order_id), stamp[0] if stamp else None, keys, who,
                       _order_value(order))

    def _row(self, order: Mapping[str, Any], parsed: _Parsed) -> np.ndarray:
        row = np.full(len(FEATURE_NAMES), NAN)
        f = FEATURE_INDEX
        stamp = parse_timestamp(order.get("created_at"))
        ts = parsed.ts
        value = parsed.value
        row[f["order_value"]] = value

        # The customer's own earlier orders.
        if ts is not None and parsed.customer is not None:
            earlier = self._customers.get(parsed.customer, [])
            k = bisect_left(earlier, (ts, -math.inf))
            row[f["customer_prev_orders"]] = k
            if k:
                mean = sum(v for _, v in earlier[:k] if v == v) / k
                if mean > 0 and value == value:
                    row[f["value_ratio_customer_mean"]] = value / mean

        # Velocity and reuse: orders strictly before this one with the same email / address / IP.
        if ts is not None:
            for kind in _KEYS:
                key = parsed.keys.get(kind)
                times = self._times[kind].get(key, []) if key else []
                before = bisect_left(times, ts)
                for w, seconds in WINDOWS:
                    row[f[f"{kind}_orders_{w}"]] = before - bisect_left(times, ts - seconds) if key else NAN
                if kind == "address" and key:
                    row[f["address_prev_orders"]] = before
                if kind == "email" and key:
                    row[f["email_prev_orders"]] = before

        # Billing vs shipping.
        billing, shipping = _dict(order.get("billing_address")), _dict(order.get("shipping_address"))
        row[f["no_shipping_address"]] = float(not shipping)
        if billing and shipping:
            row[f["billing_shipping_country_mismatch"]] = _flag(_text(billing.get("country_code")),
                                                                _text(shipping.get("country_code")))
            row[f["billing_shipping_zip_mismatch"]] = _flag(re.sub(r"\W", "", _text(billing.get("zip"))),
                                                            re.sub(r"\W", "", _text(shipping.get("zip"))))
            coords = [_num(a.get(c)) for a in (billing, shipping) for c in ("latitude", "longitude")]
            if all(c == c for c in coords):
                row[f["billing_shipping_km"]] = _haversine_km(*coords)
            row[f["billing_shipping_name_mismatch"]] = _flag(_person(billing), _person(shipping))

        # The account and its email.
        customer = _dict(order.get("customer"))
        created = parse_timestamp(customer.get("created_at"))
        if created and ts is not None:
            row[f["account_age_days"]] = max(0.0, (ts - created[0]) / 86400)
        email = parsed.keys.get("email", "")
        if "@" in email:
            local, _, domain = email.rpartition("@")
            row[f["email_free_mail"]] = float(domain in FREE_MAIL_DOMAINS)
            if local:
                row[f["email_digit_share"]] = sum(ch.isdigit() for ch in local) / len(local)
                row[f["email_entropy"]] = _entropy(local)
            names = [_text(customer.get("first_name")), _text(customer.get("last_name")),
                     _text(billing.get("first_name")), _text(billing.get("last_name"))]
            names = [re.sub(r"[^a-z]", "", n) for n in names if n]
            plain = re.sub(r"[^a-z]", "", local)
            if names:
                row[f["email_name_match"]] = float(any(len(n) >= 3 and n[:4] in plain for n in names))

        # Shipping speed and price.
        ship_lines = [line for line in _list(order.get("shipping_lines")) if isinstance(line, Mapping)]
        if ship_lines:
            words = " ".join(f"{line.get('title') or ''} {line.get('code') or ''}" for line in ship_lines)
            row[f["shipping_express"]] = float(bool(EXPRESS_WORDS.search(words)))
            prices = [_num(line.get("discounted_price", line.get("price"))) for line in ship_lines]
            row[f["shipping_price"]] = sum(p for p in prices if p == p)
        elif shipping:
            row[f["shipping_express"]] = 0.0

        # Basket: resale goods, gift cards, quantities, discounts.
        lines = [line for line in _list(order.get("line_items")) if isinstance(line, Mapping)]
        if lines:
            total = resale = gift = 0.0
            quantities = []
            for line in lines:
                qty = _num(line.get("quantity"))
                qty = qty if qty == qty and qty > 0 else 0.0
                amount = _num(line.get("price")) * qty
                amount = amount if amount == amount else 0.0
                quantities.append(qty)
                total += amount
                if line.get("gift_card") is True:
                    gift += amount
                elif str(line.get("sku") or "").upper().startswith(HIGH_RESALE_SKU_PREFIXES) or \
                        HIGH_RESALE_WORDS.search(str(line.get("title") or "")):
                    resale += amount
            if total > 0:
                row[f["resale_value_share"]] = resale / total
                row[f["gift_card_value_share"]] = gift / total
            row[f["total_quantity"]] = sum(quantities)
            row[f["max_line_quantity"]] = max(quantities)
            row[f["line_count"]] = len(lines)
            gross = _num(order.get("total_line_items_price"))
            discounts = _num(order.get("total_discounts"))
            if gross == gross and gross > 0 and discounts == discounts:
                row[f["discount_share"]] = discounts / gross
        codes = order.get("discount_codes")
        if isinstance(codes, list):
            row[f["discount_code_used"]] = float(bool(codes))

        # Time of day: the shop's clock (created_at offset) and the customer's, from the shipping longitude.
        if stamp:
            row[f["shop_local_hour"]] = stamp[1]
            place = shipping or billing
            lon = _num(place.get("longitude")) if place else NAN
            if lon == lon:
                row[f["customer_local_hour"]] = ((ts / HOUR) + round(lon / 15)) % 24

        # Browser language vs the country the goods go to.
        locale = _text(order.get("customer_locale")).replace("_", "-")
        country = _text(shipping.get("country_code") or billing.get("country_code")).upper()
        if locale and country:
            language, _, region = locale.partition("-")
            if region:
                row[f["locale_country_mismatch"]] = float(region.upper() != country)
            elif country in COUNTRY_LANGUAGES:
                row[f["locale_country_mismatch"]] = float(language not in COUNTRY_LANGUAGES[country])
        return row


def _order_value(order: Mapping[str, Any]) -> float:
    value = _num(order.get("total_price"))
    if value != value:
        value = _num(_dict(_dict(order.get("total_price_set")).get("shop_money")).get("amount"))
    return value if value == value and value >= 0 else NAN

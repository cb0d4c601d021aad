"""Seeded labelled order history with a realistic fraud process, for training and benchmarking the fraud model.

Orders come from :class:`~oms_pipeline.sandbox.generator.OrderGenerator` (Shopify REST ``orders.json``
elements); a share of them is then turned into fraud by *campaigns*: a fraudster with a drop address
(and often one browser IP) places one to five orders within a few hours, typically from a brand-new
account with a free-mail address, billing at a stolen card's address (often in another country),
buying high-resale goods or gift cards in bigger baskets, with express shipping, at odd local hours,
sometimes with a welcome discount. Some fraud is account takeover of a real, older customer. Every
signal is also present in legitimate orders at a lower rate (gifts shipped abroad, new customers
with gmail addresses, second orders within the hour, express shipping, gift cards), so the classes
overlap as they do in a real store.

Labels arrive late, as in a store: Shopify Payments disputes (``reason: "fraudulent"``) are initiated
days to weeks after the order, some fraud is never disputed, and a few honest orders get a
``fraudulent`` dispute anyway (friendly fraud); operators review some orders (chosen by simple rules)
within hours to days and record an outcome that is usually, not always, right. The ground truth
stays out of the orders, so a model can only learn from what the store would know.
"""

from __future__ import annotations

import copy
import math
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from oms_pipeline.sandbox.generator import (
    CATALOGUE,
    NAMES,
    PLACES,
    SHOP_CURRENCY,
    STREETS,
    OrderGenerator,
    Place,
    Product,
    convert,
    money_set,
    money_str,
    quantize,
    reprice,
    rest_time,
)

# Goods a fraudster can resell quickly: the dearest hard goods of the catalogue.
HIGH_RESALE_SKUS = ("GRIND-HND", "KETTLE-GN", "BAG-DAY", "LAMP-HD", "DIFF-CER", "HOOD-FL")
FREE_MAIL = ("gmail.com", "yahoo.com", "hotmail.com", "outlook.com", "proton.me", "mail.com", "gmx.de", "icloud.com")
DISPUTE_OTHER_REASONS = ("product_not_received", "product_unacceptable", "duplicate", "credit_not_processed",
                         "subscription_canceled", "general")

_PLACE_BY_CITY = {(p.country_code, p.city): p for p in PLACES}
_RESALE = tuple(p for p in CATALOGUE if p.sku.startswith(HIGH_RESALE_SKUS))
_GIFT_CARDS = tuple(p for p in CATALOGUE if p.gift_card)
# Relative order volume by customer-local hour: quiet at night, busy in the evening.
_LEGIT_HOURS = (2, 1, 1, 1, 1, 2, 4, 6, 8, 9, 10, 10, 11, 10, 10, 10, 10, 11, 12, 13, 13, 11, 8, 4)
# Fraud follows the fraudster's clock, not the cardholder's: much flatter, night-heavy.
_FRAUD_HOURS = (7, 7, 8, 8, 7, 6, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 6, 6, 6, 7, 7)


@dataclass(frozen=True)
class FraudHistory:
    """A labelled history: orders (sorted by ``created_at``), disputes, review outcomes, and the truth.

    ``fraud_ids`` is the generator's ground truth, for measuring label noise only; a model must learn
    from ``disputes`` and ``review_outcomes`` as a store would.
    """

    orders: list[dict[str, Any]]
    disputes: list[dict[str, Any]]
    review_outcomes: list[dict[str, Any]]
    fraud_ids: frozenset[int] = field(default_factory=frozenset)

    def as_tuple(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
        """``(orders, disputes, review_outcomes)``."""
        return self.orders, self.disputes, self.review_outcomes


def generate_fraud_history(
    orders: int = 20_000,
    *,
    seed: int = 0,
    days: int = 120,
    fraud_rate: float = 0.02,
    start: datetime | None = None,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    """``(orders, disputes, review_outcomes)`` of a seeded history; see :func:`build_fraud_history`."""
    return build_fraud_history(orders, seed=seed, days=days, fraud_rate=fraud_rate, start=start).as_tuple()


def build_fraud_history(
    orders: int = 20_000,
    *,
    seed: int = 0,
    days: int = 120,
    fraud_rate: float = 0.02,
    start: datetime | None = None,
    generator: OrderGenerator | None = None,
) -> FraudHistory:
    """A seeded history of ``orders`` REST orders over ``days`` days, about ``fraud_rate`` of them fraud.

    Deterministic per ``seed``. Orders carry no faults (the fraud model is trained on parsed-clean
    payloads; malformed input is the ingestion layer's business). Disputes and reviews may fall after
    the last order, as late labels do. ``generator`` lets a sandbox store draw the history from its own
    order generator, so ids and order numbers never collide with the store's other orders.
    """
    return _HistoryMaker(seed, days, start or datetime(2025, 1, 6, tzinfo=UTC), generator).make(orders, fraud_rate)


class _HistoryMaker:
    def __init__(self, seed: int, days: int, start: datetime, generator: OrderGenerator | None = None):
        self.gen = generator or OrderGenerator(seed=seed, malformed_rate=0.0)
        self.rng = random.Random(seed * 7919 + 17)
        self.days = days
        self.start = start.astimezone(UTC)
        self.seq = 0

    # -- the order stream -----------------------------------------------------------------------

    def make(self, n: int, fraud_rate: float) -> FraudHistory:
        rng = self.rng
        mean_campaign = 0.45 * 1 + 0.55 * 3.0  # sizes: 1 (45%) or 2..4 (55%)
        p_campaign = fraud_rate / mean_campaign
        orders: list[dict[str, Any]] = []
        fraud: set[int] = set()
        while len(orders) < n:
            day = self.start + timedelta(days=rng.randrange(self.days))
            if rng.random() < p_campaign:
                size = 1 if rng.random() < 0.45 else rng.randint(2, 4)
                for order in self._campaign(day, min(size, n - len(orders))):
                    orders.append(order)
                    fraud.add(order["id"])
            else:
                burst = 1 if rng.random() > 0.012 else rng.randint(2, 3)
                orders.extend(self._legit(day, min(burst, n - len(orders))))
        orders.sort(key=lambda o: (o["created_at_ts"], o["id"]))
        disputes, reviews = self._labels(orders, fraud)
        for order in orders:
            del order["created_at_ts"]
        return FraudHistory(orders, disputes, reviews, frozenset(fraud))

    def _new(self, day: datetime) -> dict[str, Any]:
        order, _ = self.gen.new_order(day + timedelta(hours=12))
        return order

    def _legit(self, day: datetime, count: int) -> list[dict[str, Any]]:
        rng = self.rng
        first = self._new(day)
        # Decided by the customer id, so a returning customer keeps one email and doorstep across orders.
        cid = first["customer"]["id"]
        if cid % 100 < 45:
            _set_email_domain(first, FREE_MAIL[cid % len(FREE_MAIL)])
        if cid % 13 == 0:  # handles rather than names: "trailfox84@..."
            _set_email_local(first, f"{_HANDLES[cid % len(_HANDLES)]}{cid % 97}")
        for key in ("shipping_address", "billing_address"):
            _doorstep(first[key], cid)
        if first["shipping_address"] and rng.random() < (0.5 if _countries_differ(first) else 0.04):
            first_name, last_name = _random_name(rng, first["shipping_address"]["country_code"])
            _rename(first["shipping_address"], first_name, last_name)  # a gift, or the office
        customer = first["customer"]
        if rng.random() < 0.06:  # a shopper who signed up just now (or checked out as a new account)
            customer["created_at"] = "pending"
        if rng.random() < 0.04:  # expats and travellers browse in another language
            first["customer_locale"] = rng.choice(PLACES).locale
        if rng.random() < 0.02 and first["shipping_lines"]:
            _set_shipping(first, "Express", "Express International", "29.00")
        if rng.random() < 0.01:
            self._add_lines(first, rng.choice(_GIFT_CARDS), rng.randint(1, 2))
        moment = self._moment(day, first, _LEGIT_HOURS)
        out = [self._stamp(first, moment)]
        for _ in range(count - 1):  # "forgot something": same customer, address and IP within hours
            again = self._new(day)
            for key in ("customer", "email", "contact_email", "browser_ip", "customer_locale", "billing_address"):
                again[key] = copy.deepcopy(first[key])
            if first["shipping_address"] and again["shipping_address"]:
                again["shipping_address"] = copy.deepcopy(first["shipping_address"])
            moment += timedelta(minutes=rng.randint(4, 300))
            out.append(self._stamp(again, moment))
        return out

    def _campaign(self, day: datetime, count: int) -> list[dict[str, Any]]:
        rng = self.rng
        drop_place = rng.choice(PLACES)
        drop_name = _random_name(rng, drop_place.country_code)
        drop = _address(rng, drop_place, *drop_name)
        _doorstep(drop, rng.randrange(10**9))
        ip = _random_ip(rng) if rng.random() < 0.6 else None
        takeover = rng.random() < 0.15
        express = rng.random() < 0.6
        goods = rng.choices(("resale", "gift_cards", "ordinary"), (55, 25, 20))[0]
        moment = None
        out = []
        for _ in range(count):
            order = self._new(day)
            self._defraud(order, drop, drop_place, ip, takeover, express, goods)
            if moment is None:
                moment = self._moment(day, order, _FRAUD_HOURS)
            else:
                moment += timedelta(minutes=rng.randint(3, 150))
            out.append(self._stamp(order, moment))
        return out

    def _defraud(self, order: dict[str, Any], drop: dict[str, Any], drop_place: Place, ip: str | None,
                 takeover: bool, express: bool, goods: str) -> None:
        rng = self.rng
        customer = order["customer"]
        if not takeover:  # a stolen card: a fresh account in the cardholder's name
            card_place = drop_place if rng.random() < 0.4 else rng.choice(PLACES)
            first, last = _random_name(rng, card_place.country_code)
            customer.update(first_name=first, last_name=last, orders_count=1, verified_email=rng.random() < 0.3,
                            id=customer["id"] + 1 + rng.randrange(10**6) * 1000, tags="")
            customer["created_at"] = "pending" if rng.random() < 0.7 else rest_time(
                self.start - timedelta(days=rng.randrange(1, 300)))
            style = rng.random()
            if style < 0.55:
                local = _random_local(rng)
            elif style < 0.85:
                local = f"{first}.{last}{rng.randrange(1, 9999)}".lower().replace(" ", "")
            else:
                local = f"{first[0]}{last}{rng.randrange(10, 99)}".lower().replace(" ", "")
            domain = rng.choice(FREE_MAIL) if rng.random() < 0.85 else f"mail-{rng.randrange(100, 999)}.net"
            order["email"] = order["contact_email"] = customer["email"] = _ascii(f"{local}@{domain}")
            order["billing_address"] = _address(rng, card_place, first, last)
        elif order["billing_address"] is None:
            order["billing_address"] = _address(rng, drop_place, customer["first_name"], customer["last_name"])
        if goods == "resale" or (goods == "ordinary" and rng.random() < 0.3):
            for product in rng.sample(_RESALE, rng.randint(1, 3)):
                self._add_lines(order, product, rng.choices((1, 2, 3, 5), (50, 30, 12, 8))[0])
        elif goods == "gift_cards":
            self._add_lines(order, rng.choice(_GIFT_CARDS), rng.randint(1, 5))
        if any(line["requires_shipping"] for line in order["line_items"]):
            order["shipping_address"] = copy.deepcopy(drop)
            if rng.random() < 0.5:  # the mule ships in the cardholder's name to look like a purchase at home
                billing = order["billing_address"]
                _rename(order["shipping_address"], billing["first_name"], billing["last_name"])
            if not order["shipping_lines"]:
                _set_shipping(order, "Standard", "Standard International", "14.00")
            if express:
                _set_shipping(order, "Express", "Express Shipping" if drop_place.country_code == "US"
                              else "Express International", "18.00" if drop_place.country_code == "US" else "29.00")
        if ip and rng.random() < 0.85:
            order["browser_ip"] = ip
        order["customer_locale"] = rng.choice(PLACES).locale if rng.random() < 0.35 else drop_place.locale
        if rng.random() < 0.3 and not order["discount_codes"]:
            _apply_percentage_discount(order, "WELCOME15", Decimal("0.15"))
        reprice(order)

    def _add_lines(self, order: dict[str, Any], product: Product, qty: int) -> None:
        self.seq += 1
        order["line_items"].append(_line(order, product, qty, 90_000_000_000_000 + self.seq * 8))
        reprice(order)

    def _moment(self, day: datetime, order: dict[str, Any], hours: tuple[int, ...]) -> datetime:
        """A UTC moment on ``day`` at a local hour (of the shipping place) drawn from ``hours``."""
        rng = self.rng
        address = order.get("shipping_address") or order.get("billing_address") or {}
        offset = round((address.get("longitude") or -75.0) / 15)
        local_hour = rng.choices(range(24), hours)[0]
        return day + timedelta(hours=local_hour - offset, seconds=rng.randrange(3600))

    def _stamp(self, order: dict[str, Any], moment: datetime) -> dict[str, Any]:
        stamp = rest_time(moment)
        order["created_at"] = order["processed_at"] = order["updated_at"] = stamp
        customer = order["customer"]
        if customer["created_at"] == "pending":
            customer["created_at"] = rest_time(moment - timedelta(minutes=self.rng.randint(2, 60 * 72)))
        elif customer["created_at"] > stamp:  # both in the shop's offset, so text order is time order
            customer["created_at"] = rest_time(moment - timedelta(hours=self.rng.randint(1, 20)))
        customer["updated_at"] = stamp
        order["created_at_ts"] = moment.timestamp()
        return order

    # -- late labels ----------------------------------------------------------------------------

    def _labels(self, orders: list[dict[str, Any]], fraud: set[int]) -> tuple[list[dict], list[dict]]:
        rng = self.rng
        disputes: list[dict[str, Any]] = []
        reviews: list[dict[str, Any]] = []
        for order in orders:
            created = datetime.fromtimestamp(order["created_at_ts"], UTC)
            is_fraud = order["id"] in fraud
            if is_fraud and rng.random() < 0.75:
                disputes.append(self._dispute(order, created, "fraudulent", is_fraud))
            elif not is_fraud and rng.random() < 0.0015:  # friendly fraud: "I didn't order this"
                disputes.append(self._dispute(order, created, "fraudulent", is_fraud))
            elif not is_fraud and rng.random() < 0.003:
                disputes.append(self._dispute(order, created, rng.choice(DISPUTE_OTHER_REASONS), is_fraud))
            # Operators see what simple rules surface, with limited time, and sometimes judge wrong.
            suspicious = _rule_hits(order)
            if rng.random() < 0.012 * suspicious + 0.001:
                right = rng.random() < (0.85 if is_fraud else 0.97)
                outcome = ("fraud" if is_fraud else "legitimate") if right else ("legitimate" if is_fraud else "fraud")
                reviews.append({
                    "order_id": order["id"],
                    "reviewed_at": rest_time(created + timedelta(minutes=rng.randint(20, 60 * 48))),
                    "outcome": outcome,
                    "reviewer": f"ops-{rng.randint(1, 6)}",
                })
        disputes.sort(key=lambda d: d["initiated_at"])
        reviews.sort(key=lambda r: r["reviewed_at"])
        return disputes, reviews

    def _dispute(self, order: dict[str, Any], created: datetime, reason: str, is_fraud: bool) -> dict[str, Any]:
        rng = self.rng
        delay = min(90.0, max(2.0, rng.lognormvariate(math.log(16), 0.6)))
        initiated = created + timedelta(days=delay, seconds=rng.randrange(86400))
        status = rng.choices(("needs_response", "under_review", "lost", "won", "accepted"),
                             (10, 15, 45, 10 if is_fraud else 45, 20))[0]
        finalized = (initiated + timedelta(days=rng.randint(20, 75))) if status in ("lost", "won", "accepted") else None
        self.seq += 1
        return {
            "id": 98_000_000_000 + self.seq,
            "order_id": order["id"],
            "type": "chargeback",
            "amount": order["total_price"],
            "currency": order["currency"],
            "reason": reason,
            "network_reason_code": "10.4" if reason == "fraudulent" else "13.1",
            "status": status,
            "evidence_due_by": rest_time(initiated + timedelta(days=14)),
            "evidence_sent_on": None,
            "finalized_on": rest_time(finalized) if finalized else None,
            "initiated_at": rest_time(initiated),
        }


# -- helpers -------------------------------------------------------------------------------------


def _rule_hits(order: dict[str, Any]) -> int:
    """How many of the store's old review rules an order trips (what sends it to an operator)."""
    billing, shipping = order.get("billing_address") or {}, order.get("shipping_address") or {}
    hits = int(bool(shipping) and billing.get("country_code") != shipping.get("country_code"))
    hits += int(Decimal(order["total_price"]) >= 400)
    hits += int(any(line["gift_card"] for line in order["line_items"]))
    hits += int(any(line["quantity"] >= 3 for line in order["line_items"]))
    return hits


_HANDLES = ("trailfox", "sunnyday", "coffeelover", "nightowl", "bluefern", "jk", "mm", "thewanderer")


def _countries_differ(order: dict[str, Any]) -> bool:
    billing, shipping = order.get("billing_address") or {}, order.get("shipping_address") or {}
    return billing.get("country_code") != shipping.get("country_code")


def _doorstep(address: dict[str, Any] | None, salt: int) -> None:
    """A house number per customer, so two customers in one city do not share a doorstep."""
    if address is not None and not address.get("address2"):
        address["address2"] = f"No. {salt % 997 + 1}"


def _rename(address: dict[str, Any], first: str, last: str) -> None:
    address.update(first_name=first, last_name=last, name=f"{first} {last}")


def _set_email_local(order: dict[str, Any], local: str) -> None:
    domain = (order.get("email") or "customer@example.com").split("@")[-1]
    order["email"] = order["contact_email"] = order["customer"]["email"] = f"{local}@{domain}"


def _ascii(text: str) -> str:
    for a, b in (("ü", "ue"), ("ö", "oe"), ("é", "e"), ("è", "e"), ("í", "i"), ("á", "a"), ("ñ", "n"), ("ç", "c")):
        text = text.replace(a, b)
    return text


def _random_name(rng: random.Random, country: str) -> tuple[str, str]:
    firsts, lasts = NAMES[country]
    return rng.choice(firsts), rng.choice(lasts)


def _random_local(rng: random.Random) -> str:
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
    return "".join(rng.choice(alphabet) for _ in range(rng.randint(7, 13)))


def _random_ip(rng: random.Random) -> str:
    return f"{rng.randrange(23, 223)}.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"


def _address(rng: random.Random, place: Place, first: str, last: str) -> dict[str, Any]:
    jitter = rng.randrange(-400, 400) / 10000
    return {
        "first_name": first, "address1": rng.choice(STREETS[place.country_code]), "phone": None,
        "city": place.city, "zip": place.zip, "province": place.province, "country": place.country,
        "last_name": last, "address2": None, "company": None,
        "latitude": round(place.latitude + jitter, 4), "longitude": round(place.longitude + jitter, 4),
        "name": f"{first} {last}", "country_code": place.country_code, "province_code": place.province_code,
    }


def _set_email_domain(order: dict[str, Any], domain: str) -> None:
    local = (order.get("email") or "customer@example.com").split("@")[0]
    order["email"] = order["contact_email"] = order["customer"]["email"] = f"{local}@{domain}"


def _set_shipping(order: dict[str, Any], code: str, title: str, price: str) -> None:
    cur = order["presentment_currency"]
    amount = Decimal(price)
    pres = convert(amount, cur)
    line = order["shipping_lines"][0] if order["shipping_lines"] else {
        "id": 4_800_000_000_000 + order["id"] % 10**9, "carrier_identifier": None, "phone": None,
        "source": "shopify", "tax_lines": [], "discount_allocations": []}
    line.update(code=code, title=title, price=money_str(amount, SHOP_CURRENCY),
                discounted_price=money_str(amount, SHOP_CURRENCY), price_set=money_set(amount, pres, cur),
                discounted_price_set=money_set(amount, pres, cur))
    order["shipping_lines"] = [line]
    reprice(order)


def _line(order: dict[str, Any], product: Product, qty: int, line_id: int) -> dict[str, Any]:
    cur = order["presentment_currency"]
    price = Decimal(product.price)
    zero = money_set(Decimal(0), Decimal(0), cur)
    place = _PLACE_BY_CITY.get(((order.get("shipping_address") or order.get("billing_address") or {})
                                .get("country_code"), (order.get("shipping_address") or order.get("billing_address")
                                                       or {}).get("city")))
    taxed = product.taxable and place is not None and place.tax_rate
    return {
        "id": line_id, "admin_graphql_api_id": f"gid://shopify/LineItem/{line_id}", "fulfillable_quantity": qty,
        "fulfillment_service": "manual", "fulfillment_status": None, "gift_card": product.gift_card,
        "grams": product.grams,
        "name": f"{product.title} - {product.variant_title}" if product.variant_title else product.title,
        "price": money_str(price, SHOP_CURRENCY), "price_set": money_set(price, convert(price, cur), cur),
        "product_exists": True, "product_id": 8_000_000_000_000 + CATALOGUE.index(product) * 4099,
        "properties": [], "quantity": qty, "requires_shipping": product.requires_shipping, "sku": product.sku,
        "taxable": product.taxable, "title": product.title, "total_discount": "0.00", "total_discount_set": zero,
        "variant_id": 44_000_000_000_000 + 6151 * (CATALOGUE.index(product) + 1),
        "variant_title": product.variant_title, "vendor": product.vendor,
        "tax_lines": ([{"title": "VAT" if place.taxes_included else "Sales Tax", "rate": float(place.tax_rate),
                        "channel_liable": False}] if taxed else []),
        "discount_allocations": [],
    }


def _apply_percentage_discount(order: dict[str, Any], code: str, rate: Decimal) -> None:
    cur = order["presentment_currency"]
    for line in order["line_items"]:
        if line["gift_card"]:
            continue
        qty = line["quantity"]
        shop = quantize(Decimal(line["price_set"]["shop_money"]["amount"]) * qty * rate, SHOP_CURRENCY)
        pres = quantize(Decimal(line["price_set"]["presentment_money"]["amount"]) * qty * rate, cur)
        line["total_discount"] = money_str(shop, SHOP_CURRENCY)
        line["total_discount_set"] = money_set(shop, pres, cur)
        line["discount_allocations"] = [{"amount": line["total_discount"],
                                         "amount_set": copy.deepcopy(line["total_discount_set"]),
                                         "discount_application_index": 0}]
    reprice(order)
    order["discount_codes"] = [{"code": code, "amount": order["total_discounts"], "type": "percentage"}]



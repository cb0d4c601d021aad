"""Seeded order generator: Shopify REST ``orders.json`` elements (API 2025-01) and their lifecycle.

The REST shape is the sandbox's internal truth; the GraphQL view is rendered from it. Money is
``Decimal`` end to end and rounded per line in each currency's minor unit, so in shop money
``subtotal_price == sum(price * quantity - total_discount) == total_line_items_price - total_discounts``
and ``total_price == subtotal_price + shipping + total_tax`` hold exactly (and likewise in
presentment money). Malformed orders are made at render time from a clean truth plus a recorded
list of fault kinds, so edits keep the arithmetic of the truth consistent and the fault in place.
Payments, refunds and fulfillments are recorded as REST ``transactions`` (shop money), ``refunds``
(lines, shipping refund, refund transaction) and ``fulfillments`` (with a tracking number from
:func:`tracking_number`), with ids from counters so the seeded history is unchanged. The order-level
``transactions`` stay in the truth but are not served on REST order objects (Shopify does not put
them there): :func:`served_order` drops them, and they are read through ``orders/<id>/transactions.json``
(:func:`rest_transactions`) or GraphQL ``Order.transactions``.
"""

from __future__ import annotations

import copy
import random
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

SHOP_CURRENCY = "USD"
SHOP_TZ = timezone(timedelta(hours=-5))  # the shop's time zone (EST; no DST in the sandbox)

# Shop money (USD) -> presentment money, fixed so orders are reproducible.
RATES: dict[str, Decimal] = {
    "USD": Decimal("1"), "EUR": Decimal("0.9312"), "GBP": Decimal("0.7891"), "CAD": Decimal("1.3642"),
    "AUD": Decimal("1.5318"), "JPY": Decimal("151.37"),
}
MINOR_UNITS = {"JPY": 0}  # every other currency used here has 2 decimals

FAULT_KINDS = (
    "missing_line_items", "missing_created_at", "missing_currency", "missing_id", "quantity_not_integer",
    "total_price_object", "created_at_unparseable", "unknown_currency", "negative_quantity",
    "duplicate_line_item_id", "negative_total",
)

CANCEL_REASONS = ("customer", "fraud", "inventory", "declined", "other")


@dataclass(frozen=True)
class Product:
    """One sellable variant of the catalogue."""

    sku: str
    title: str
    variant_title: str | None
    vendor: str
    price: str  # shop money
    grams: int
    requires_shipping: bool = True
    taxable: bool = True
    gift_card: bool = False


def _variants(sku: str, title: str, vendor: str, price: str, grams: int,
              variants: tuple[str, ...], **kw: Any) -> list[Product]:
    return [Product(f"{sku}-{v[:3].upper()}", title, v, vendor, price, grams, **kw) for v in variants]


CATALOGUE: tuple[Product, ...] = tuple(
    _variants("SCARF-MER", "Merino Scarf", "Nordwool", "39.99", 220, ("Charcoal", "Oat", "Forest"))
    + _variants("BEANIE-WL", "Wool Beanie", "Nordwool", "29.99", 120, ("Sand", "Navy", "Rust"))
    + _variants("MITT-ALP", "Alpaca Mittens", "Nordwool", "34.50", 140, ("Grey", "Cream"))
    + _variants("TEE-ORG", "Organic Cotton Tee", "Field & Loom", "24.00", 180, ("S", "M", "L", "XL"))
    + _variants("HOOD-FL", "Fleece Hoodie", "Field & Loom", "68.00", 620, ("S", "M", "L"))
    + _variants("SOCK-HK", "Hiking Socks (3-pack)", "Trailmark", "18.95", 210, ("S/M", "L/XL"))
    + _variants("BOTTLE-IN", "Insulated Bottle 750 ml", "Trailmark", "32.00", 410, ("Black", "Sage", "Sky"))
    + _variants("MUG-ENM", "Enamel Camp Mug", "Trailmark", "16.50", 260, ("White", "Blue"))
    + _variants("LAMP-HD", "Headlamp 400 lm", "Trailmark", "44.90", 95, ("Standard",))
    + _variants("CANDLE-SOY", "Soy Candle", "Hearth & Wick", "22.00", 340, ("Cedar", "Fig", "Sea Salt"))
    + _variants("DIFF-CER", "Ceramic Diffuser", "Hearth & Wick", "54.00", 780, ("Matte White",))
    + _variants("OIL-ESS", "Essential Oil 10 ml", "Hearth & Wick", "12.75", 40, ("Lavender", "Eucalyptus", "Orange"))
    + _variants("BEAN-ESP", "Espresso Beans 1 kg", "Roastery North", "27.40", 1000, ("Whole", "Ground"))
    + _variants("BEAN-FLT", "Filter Coffee 250 g", "Roastery North", "11.90", 250, ("Ethiopia", "Colombia", "Kenya"))
    + _variants("GRIND-HND", "Hand Grinder", "Roastery North", "89.00", 690, ("Steel",))
    + _variants("KETTLE-GN", "Gooseneck Kettle", "Roastery North", "72.00", 950, ("Black", "Copper"))
    + _variants("BAG-TOTE", "Canvas Tote", "Field & Loom", "19.00", 230, ("Natural", "Black"))
    + _variants("BAG-DAY", "Daypack 20 L", "Trailmark", "96.00", 840, ("Olive", "Graphite"))
    + _variants("BOOK-GUIDE", "Trail Guide (paperback)", "Northbound Press", "21.00", 480, ("English", "Deutsch"))
    + [
        Product("EBOOK-GUIDE", "Trail Guide (e-book)", None, "Northbound Press", "9.99", 0,
                requires_shipping=False),
        Product("GIFT-25", "Gift Card", "$25", "oms-sandbox", "25.00", 0,
                requires_shipping=False, taxable=False, gift_card=True),
        Product("GIFT-50", "Gift Card", "$50", "oms-sandbox", "50.00", 0,
                requires_shipping=False, taxable=False, gift_card=True),
        Product("GIFT-100", "Gift Card", "$100", "oms-sandbox", "100.00", 0,
                requires_shipping=False, taxable=False, gift_card=True),
    ]
)


@dataclass(frozen=True)
class Place:
    """A city to ship to, with what comes with it."""

    country_code: str
    country: str
    city: str
    province: str | None
    province_code: str | None
    zip: str
    latitude: float
    longitude: float
    phone_prefix: str
    currency: str
    locale: str
    tax_rate: Decimal
    taxes_included: bool


PLACES: tuple[Place, ...] = (
    Place("US", "United States", "New York", "New York", "NY", "10001", 40.7506, -73.9972, "+1 212", "USD", "en",
          Decimal("0.08875"), False),
    Place("US", "United States", "Austin", "Texas", "TX", "78701", 30.2711, -97.7437, "+1 512", "USD", "en",
          Decimal("0.0825"), False),
    Place("US", "United States", "Portland", "Oregon", "OR", "97205", 45.5202, -122.6869, "+1 503", "USD", "en",
          Decimal("0"), False),
    Place("US", "United States", "Chicago", "Illinois", "IL", "60601", 41.8857, -87.6228, "+1 312", "USD", "en",
          Decimal("0.1025"), False),
    Place("CA", "Canada", "Toronto", "Ontario", "ON", "M5V 2T6", 43.6426, -79.3871, "+1 416", "CAD", "en-CA",
          Decimal("0.13"), False),
    Place("CA", "Canada", "Montréal", "Quebec", "QC", "H2Y 1C6", 45.5048, -73.5566, "+1 514", "CAD", "fr-CA",
          Decimal("0.14975"), False),
    Place("GB", "United Kingdom", "London", "England", "ENG", "SW1A 1AA", 51.5010, -0.1416, "+44 20", "GBP", "en-GB",
          Decimal("0.20"), True),
    Place("GB", "United Kingdom", "Edinburgh", "Scotland", "SCT", "EH1 1YZ", 55.9486, -3.1999, "+44 131", "GBP",
          "en-GB", Decimal("0.20"), True),
    Place("DE", "Germany", "Berlin", None, None, "10115", 52.5320, 13.3840, "+49 30", "EUR", "de-DE",
          Decimal("0.19"), True),
    Place("DE", "Germany", "München", None, None, "80331", 48.1374, 11.5755, "+49 89", "EUR", "de",
          Decimal("0.19"), True),
    Place("FR", "France", "Paris", None, None, "75004", 48.8546, 2.3477, "+33 1", "EUR", "fr",
          Decimal("0.20"), True),
    Place("FR", "France", "Lyon", None, None, "69002", 45.7578, 4.8320, "+33 4", "EUR", "fr-FR",
          Decimal("0.20"), True),
    Place("NL", "Netherlands", "Amsterdam", None, None, "1012 JS", 52.3731, 4.8922, "+31 20", "EUR", "nl",
          Decimal("0.21"), True),
    Place("ES", "Spain", "Madrid", "Madrid", "M", "28013", 40.4168, -3.7038, "+34 91", "EUR", "es",
          Decimal("0.21"), True),
    Place("AU", "Australia", "Sydney", "New South Wales", "NSW", "2000", -33.8688, 151.2093, "+61 2", "AUD", "en-AU",
          Decimal("0.10"), True),
    Place("JP", "Japan", "Tokyo", "Tokyo", "JP-13", "100-0005", 35.6812, 139.7671, "+81 3", "JPY", "ja",
          Decimal("0.10"), True),
)

NAMES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "US": (("Emma", "Liam", "Olivia", "Noah", "Ava", "Mason", "Sofia", "Ethan"),
           ("Johnson", "Martinez", "Nguyen", "Brown", "Davis", "Wilson", "Garcia", "Clark")),
    "CA": (("Chloé", "Liam", "Maya", "Owen", "Léa", "Lucas"), ("Tremblay", "Roy", "Smith", "Gagnon", "Li", "Wong")),
    "GB": (("Oliver", "Amelia", "Harry", "Isla", "George", "Poppy"), ("Smith", "Jones", "Taylor", "Evans", "Patel")),
    "DE": (("Lena", "Jonas", "Mia", "Lukas", "Hannah", "Felix"), ("Schmidt", "Müller", "Weber", "Fischer", "Becker")),
    "FR": (("Camille", "Louis", "Manon", "Hugo", "Inès", "Jules"), ("Martin", "Bernard", "Dubois", "Lefèvre")),
    "NL": (("Sanne", "Daan", "Fleur", "Bram"), ("de Jong", "Jansen", "de Vries", "van Dijk")),
    "ES": (("Lucía", "Hugo", "Martina", "Pablo"), ("García", "Fernández", "López", "Martínez")),
    "AU": (("Charlotte", "Jack", "Ruby", "William"), ("Wilson", "Thompson", "White", "Walker")),
    "JP": (("Yui", "Haruto", "Aoi", "Sota"), ("Sato", "Suzuki", "Takahashi", "Tanaka")),
}
STREETS: dict[str, tuple[str, ...]] = {
    "US": ("350 5th Ave", "1100 Congress Ave", "1120 NW Couch St", "233 S Wacker Dr", "77 Market St"),
    "CA": ("290 Bremner Blvd", "1 Rue Notre-Dame O", "100 Queen St W"),
    "GB": ("10 Downing Street", "221B Baker Street", "1 Princes Street"),
    "DE": ("Hauptstraße 5", "Marienplatz 8", "Torstraße 49"),
    "FR": ("12 Rue de Rivoli", "3 Place Bellecour", "45 Rue Oberkampf"),
    "NL": ("Damrak 1", "Prinsengracht 263"),
    "ES": ("Calle Mayor 10", "Gran Vía 28"),
    "AU": ("1 Macquarie St", "200 George St"),
    "JP": ("1-9-1 Marunouchi", "2-2-1 Ginza"),
}
EMAIL_TLD = {"CA": "ca", "GB": "co.uk", "DE": "de", "FR": "fr", "NL": "nl", "ES": "es", "AU": "com.au", "JP": "jp"}
UNITS = ("Apt 4B", "Suite 210", "3. OG", "Flat 2", "Bâtiment B", "Unit 7", "2F")
COMPANIES = ("Acme Outfitters", "Hollow Oak Café", "Studio Nord GmbH", "Blue Fern Ltd", "Maison Lumière SARL")

NOTES = (
    "Please leave the parcel with the concierge.",
    "Gift for my sister, please don't include the receipt.",
    "please don't ship before the 12th",
    "Happy birthday Sam! Love, Jo",
    "Deliver to the back door, the dog is friendly.",
    "Can you cancel this order? I ordered the wrong size.",
    "Please cancel, duplicate order.",
    "Call before delivery: +1 212 555 0134",
    "Bitte nicht vor dem 12. versenden, es ist ein Geschenk.",
    "Bitte beim Nachbarn im 2. Stock abgeben.",
    "Merci de livrer après 18h, je travaille la journée.",
    "C'est un cadeau, merci de ne pas mettre la facture dans le colis.",
    "Por favor, entregar en la portería.",
    "Es un regalo: ¡feliz aniversario!",
    "Leave at front desk. Building code 4411.",
    "Wrapped separately please — two different gifts.",
)
TAGS = ("vip", "wholesale", "gift", "first-order", "repeat", "subscription", "influencer", "b2b", "priority",
        "review-requested", "preorder", "fragile")
SOURCES = ("web",) * 12 + ("pos",) * 3 + ("shopify_draft_order", "iphone", "android", "580111", "1354745")
DISCOUNTS = (("WINTER10", "percentage", Decimal("0.10")), ("WELCOME15", "percentage", Decimal("0.15")),
             ("SAVE5", "fixed_amount", Decimal("5.00")), ("VIP20", "percentage", Decimal("0.20")))
SHIPPING = (("Standard", "Standard Shipping", "7.50"), ("Express", "Express Shipping", "18.00"),
            ("Standard", "Standard International", "14.00"), ("Free", "Free Shipping", "0.00"))
NOTE_ATTRIBUTES = (("gift_wrap", "yes"), ("delivery_date", "2025-01-24"), ("how_did_you_hear", "Instagram"),
                   ("po_number", "PO-55812"))

ORDER_ID_BASE = 5_000_000_000_000
LINE_ID_BASE = 14_000_000_000_000
SHIPPING_ID_BASE = 4_700_000_000_000
CUSTOMER_ID_BASE = 7_000_000_000_000
PRODUCT_ID_BASE = 8_000_000_000_000
VARIANT_ID_BASE = 44_000_000_000_000
FULFILLMENT_ID_BASE = 5_600_000_000_000
REFUND_ID_BASE = 9_800_000_000_000
TRANSACTION_ID_BASE = 6_900_000_000_000
GATEWAY = "shopify_payments"
# Labels the store makes itself (not the 3PL) are numbered from here, apart from the 3PL's shipment ids.
STORE_LABEL_BASE = 900_000_000


def tracking_number(label_id: int, order_ref: int) -> str:
    """The UPS-style tracking number of one label: ``1Z`` + label id (10 digits) + order ref (6 digits).

    The one rule for every sandbox label: the 3PL (shipment id, its order id) and the store's own
    fulfillments, so a store fulfillment and the 3PL shipment it reports carry the same number."""
    return f"1Z{label_id:010d}{order_ref % 10**6:06d}"


def quantize(amount: Decimal, currency: str) -> Decimal:
    """``amount`` rounded half-up to the minor unit of ``currency``."""
    return amount.quantize(Decimal(1).scaleb(-MINOR_UNITS.get(currency, 2)), rounding=ROUND_HALF_UP)


def money_str(amount: Decimal, currency: str) -> str:
    """REST money: a string with the currency's decimals (``"12.50"``, ``"1500"`` for JPY)."""
    return str(quantize(amount, currency))


def money_set(shop: Decimal, presentment: Decimal, presentment_currency: str) -> dict[str, Any]:
    """A REST ``*_set`` twin: the same amount in shop and presentment money."""
    return {"shop_money": {"amount": money_str(shop, SHOP_CURRENCY), "currency_code": SHOP_CURRENCY},
            "presentment_money": {"amount": money_str(presentment, presentment_currency),
                                  "currency_code": presentment_currency}}


def convert(shop_amount: Decimal, presentment_currency: str) -> Decimal:
    """Shop money to presentment money at the fixed rate, rounded to the presentment minor unit."""
    return quantize(shop_amount * RATES[presentment_currency], presentment_currency)


def rest_time(moment: datetime) -> str:
    """REST timestamps: the shop's UTC offset, second precision (``2025-01-10T12:34:56-05:00``)."""
    return moment.astimezone(SHOP_TZ).replace(microsecond=0).isoformat()


# Keys of the order truth that Shopify serves as resources of their own, not on REST order objects.
NOT_ON_REST_ORDER = ("transactions",)


def served_order(order: dict[str, Any]) -> dict[str, Any]:
    """The REST order object as Shopify serves it: the truth without its own-resource keys (a shallow copy)."""
    return {k: v for k, v in order.items() if k not in NOT_ON_REST_ORDER}


def rest_transaction(record: dict[str, Any]) -> dict[str, Any]:
    """One recorded transaction in Shopify's REST ``Transaction`` shape (``orders/<id>/transactions.json``).

    The resource has no ``refund_id`` (a refund lists its own transactions); what the sandbox does not
    model (device, location, receipt, staff user) is served as Shopify serves it for an online payment.
    """
    return {
        "id": record.get("id"), "order_id": record.get("order_id"), "kind": record.get("kind"),
        "gateway": record.get("gateway"), "status": record.get("status"), "message": None,
        "created_at": record.get("created_at"), "test": record.get("test", False), "authorization": None,
        "location_id": None, "user_id": None, "parent_id": record.get("parent_id"),
        "processed_at": record.get("processed_at"), "device_id": None, "error_code": record.get("error_code"),
        "source_name": "web", "receipt": {}, "currency_exchange_adjustment": None,
        "amount": record.get("amount"), "currency": record.get("currency"),
        "payment_id": f"c{record.get('order_id')}.{record.get('id')}", "total_unsettled_set": None,
        "manual_payment_gateway": False, "admin_graphql_api_id": record.get("admin_graphql_api_id"),
    }


def rest_transactions(order: dict[str, Any]) -> list[dict[str, Any]]:
    """The order's transactions as ``orders/<id>/transactions.json`` lists them (oldest first)."""
    return [rest_transaction(t) for t in order.get("transactions") or () if isinstance(t, dict)]


def _shop(set_: dict[str, Any]) -> Decimal:
    return Decimal(set_["shop_money"]["amount"])


def _presentment(set_: dict[str, Any]) -> Decimal:
    return Decimal(set_["presentment_money"]["amount"])


def reprice(order: dict[str, Any]) -> None:
    """Recompute tax lines and every order total from the lines and shipping lines, in both currencies.

    Called after any change to quantities, discounts or shipping so the identities keep holding.
    """
    cur = order["presentment_currency"]
    included = order["taxes_included"]
    gross = [Decimal(0), Decimal(0)]
    discounts = [Decimal(0), Decimal(0)]
    tax = [Decimal(0), Decimal(0)]
    weight = 0
    for line in order["line_items"]:
        qty = line["quantity"]
        line_gross = (_shop(line["price_set"]) * qty, _presentment(line["price_set"]) * qty)
        line_disc = (_shop(line["total_discount_set"]), _presentment(line["total_discount_set"]))
        for i in (0, 1):
            gross[i] += line_gross[i]
            discounts[i] += line_disc[i]
        for tax_line in line["tax_lines"]:
            rate = Decimal(str(tax_line["rate"]))  # a JSON number, as Shopify sends it
            shop_tax = Decimal(0) if included else quantize((line_gross[0] - line_disc[0]) * rate, SHOP_CURRENCY)
            pres_tax = Decimal(0) if included else quantize((line_gross[1] - line_disc[1]) * rate, cur)
            tax_line["price"] = money_str(shop_tax, SHOP_CURRENCY)
            tax_line["price_set"] = money_set(shop_tax, pres_tax, cur)
            tax[0] += shop_tax
            tax[1] += pres_tax
        weight += line["grams"] * qty
    shipping = [sum((_shop(s["discounted_price_set"]) for s in order["shipping_lines"]), Decimal(0)),
                sum((_presentment(s["discounted_price_set"]) for s in order["shipping_lines"]), Decimal(0))]
    subtotal = [gross[i] - discounts[i] for i in (0, 1)]
    total = [subtotal[i] + shipping[i] + tax[i] for i in (0, 1)]
    for name, pair in (("subtotal_price", subtotal), ("total_line_items_price", gross),
                       ("total_discounts", discounts), ("total_tax", tax), ("total_price", total)):
        order[name] = money_str(pair[0], SHOP_CURRENCY)
        order[f"{name}_set"] = money_set(pair[0], pair[1], cur)
    order["total_shipping_price_set"] = money_set(shipping[0], shipping[1], cur)
    order["current_subtotal_price"] = order["subtotal_price"]
    order["current_total_price"] = order["total_price"]
    order["total_weight"] = weight


def apply_faults(order: dict[str, Any], faults: tuple[str, ...]) -> dict[str, Any]:
    """The order as served: a copy of the clean truth with each recorded fault applied verbatim."""
    bad = copy.deepcopy(order)
    for fault in faults:
        _FAULTS[fault](bad)
    return bad


def _drop(*keys: str):
    def fault(order: dict[str, Any]) -> None:
        for key in keys:
            order.pop(key, None)
    return fault


def _first_line(change):
    def fault(order: dict[str, Any]) -> None:
        if order.get("line_items"):
            change(order["line_items"][0])
    return fault


def _unknown_currency(order: dict[str, Any]) -> None:
    order["currency"] = "XYZ"
    for value in order.values():
        if isinstance(value, dict) and "shop_money" in value:
            value["shop_money"]["currency_code"] = "XYZ"


def _total_price_object(order: dict[str, Any]) -> None:
    # A serializer bug: the money object where a decimal string belongs, in both shapes of the field.
    wrong = {"amount": order["total_price"], "currency_code": order["currency"]}
    order["total_price"] = wrong
    order["total_price_set"]["shop_money"]["amount"] = dict(wrong)


def _negative_total(order: dict[str, Any]) -> None:
    order["total_price"] = f"-{order['total_price']}"
    order["total_price_set"]["shop_money"]["amount"] = order["total_price"]


def _duplicate_line_id(order: dict[str, Any]) -> None:
    lines = order.get("line_items") or []
    if len(lines) == 1:
        lines.append(copy.deepcopy(lines[0]))
    if len(lines) >= 2:
        lines[1]["id"] = lines[0]["id"]
        lines[1]["admin_graphql_api_id"] = lines[0]["admin_graphql_api_id"]


_FAULTS = {
    "missing_line_items": _drop("line_items"),
    "missing_created_at": _drop("created_at"),
    "missing_currency": _drop("currency"),
    "missing_id": _drop("id", "admin_graphql_api_id"),
    "quantity_not_integer": _first_line(lambda line: line.__setitem__("quantity", "two")),
    "total_price_object": _total_price_object,
    "created_at_unparseable": lambda order: order.__setitem__("created_at", "yesterday"),
    "unknown_currency": _unknown_currency,
    "negative_quantity": _first_line(lambda line: line.__setitem__("quantity", -1)),
    "duplicate_line_item_id": _duplicate_line_id,
    "negative_total": _negative_total,
}


class OrderGenerator:
    """Makes orders and their changes from one seeded ``random.Random`` (deterministic in call order)."""

    def __init__(self, seed: int = 0, malformed_rate: float = 0.03):
        self.rng = random.Random(seed)
        self.malformed_rate = malformed_rate
        self.orders_made = 0
        self._line_seq = 0
        self._shipping_seq = 0
        self._customers: list[tuple[dict[str, Any], Place]] = []
        self._seq: dict[str, int] = {}  # ids of transactions, refunds and fulfillments

    # -- new orders ---------------------------------------------------------------------------

    def new_order(self, created: datetime) -> tuple[dict[str, Any], tuple[str, ...]]:
        """A fresh order created at ``created`` and the fault kinds it will be served with (often none)."""
        rng = self.rng
        n = self.orders_made
        self.orders_made += 1
        order_id = ORDER_ID_BASE + n * 1000 + rng.randrange(1, 1000)
        customer, place = self._customer(created)
        presentment = place.currency if rng.random() < 0.85 else SHOP_CURRENCY
        stamp = rest_time(created)
        discount = rng.choice(DISCOUNTS) if rng.random() < 0.3 else None
        lines = self._lines(order_id, presentment, place, discount)
        ships = any(line["requires_shipping"] for line in lines)
        shipping_address = self._address(place, customer) if ships else None
        billing_address = (self._address(rng.choice(PLACES), customer) if rng.random() < 0.15
                           else copy.deepcopy(shipping_address) if shipping_address
                           else self._address(place, customer))
        if billing_address is not shipping_address and billing_address and rng.random() < 0.5:
            billing_address["phone"] = None
        financial = rng.choices(("paid", "authorized", "pending", "partially_paid"), (78, 12, 7, 3))[0]
        order: dict[str, Any] = {
            "id": order_id,
            "admin_graphql_api_id": f"gid://shopify/Order/{order_id}",
            "app_id": 580111,
            "browser_ip": f"{rng.randrange(23, 223)}.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}",
            "buyer_accepts_marketing": rng.random() < 0.4,
            "cancel_reason": None,
            "cancelled_at": None,
            "closed_at": None,
            "confirmation_number": "".join(rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ23456789") for _ in range(9)),
            "confirmed": True,
            "contact_email": customer["email"],
            "created_at": stamp,
            "currency": SHOP_CURRENCY,
            "customer_locale": place.locale,
            "discount_codes": [],
            "email": customer["email"],
            "estimated_taxes": False,
            "financial_status": financial,
            "fulfillment_status": None,
            "name": f"#{1001 + n}",
            "note": rng.choice(NOTES) if rng.random() < 0.25 else None,
            "note_attributes": [{"name": k, "value": v}
                                for k, v in rng.sample(NOTE_ATTRIBUTES, rng.choice((0, 0, 0, 1, 2)))],
            "number": n + 1,
            "order_number": 1001 + n,
            "phone": customer["phone"] if rng.random() < 0.3 else None,
            "presentment_currency": presentment,
            "processed_at": stamp,
            "source_name": rng.choice(SOURCES),
            "tags": ", ".join(sorted(rng.sample(TAGS, rng.choice((0, 0, 1, 1, 2))))),
            "taxes_included": place.taxes_included,
            "test": False,
            "total_weight": 0,
            "updated_at": stamp,
            "billing_address": billing_address,
            "customer": customer,
            "line_items": lines,
            "shipping_address": shipping_address,
            "shipping_lines": self._shipping(place, presentment) if ships else [],
        }
        reprice(order)
        if discount:
            code, kind, value = discount
            amount = value if kind == "fixed_amount" else Decimal(order["total_discounts"])
            order["discount_codes"] = [{"code": code, "amount": money_str(amount, SHOP_CURRENCY), "type": kind}]
        # Money the customer paid at checkout (no draw from the generator: the seeded history stays put).
        order["transactions"] = []
        if financial in ("paid", "authorized"):
            self.add_transaction(order, "sale" if financial == "paid" else "authorization",
                                 Decimal(order["total_price"]), created)
        faults: tuple[str, ...] = ()
        if rng.random() < self.malformed_rate:
            faults = (rng.choice(FAULT_KINDS),)
        return order, faults

    def _customer(self, created: datetime) -> tuple[dict[str, Any], Place]:
        """A returning customer (and where they live) or a new one somewhere."""
        rng = self.rng
        if self._customers and rng.random() < 0.3:
            customer, place = rng.choice(self._customers)
            customer["orders_count"] += 1
            customer["updated_at"] = rest_time(created)
            return copy.deepcopy(customer), place
        place = rng.choice(PLACES)
        first, last = rng.choice(NAMES[place.country_code][0]), rng.choice(NAMES[place.country_code][1])
        local = f"{first}.{last}".lower().replace(" ", "").replace("ü", "ue").replace("é", "e").replace("è", "e") \
            .replace("í", "i").replace("á", "a").replace("ñ", "n")
        since = created - timedelta(days=rng.randrange(0, 900), seconds=rng.randrange(86400))
        customer = {
            "id": CUSTOMER_ID_BASE + len(self._customers) * 977 + rng.randrange(1, 977),
            "email": f"{local}{rng.randrange(1, 99)}@example.{EMAIL_TLD.get(place.country_code, 'com')}",
            "created_at": rest_time(since),
            "updated_at": rest_time(created),
            "first_name": first,
            "last_name": last,
            "state": "enabled",
            "note": None,
            "verified_email": rng.random() < 0.9,
            "tax_exempt": False,
            "phone": (f"{place.phone_prefix} {rng.randrange(100, 999)} {rng.randrange(1000, 9999)}"
                      if rng.random() < 0.5 else None),
            "currency": place.currency,
            "tags": rng.choice(("", "", "vip", "newsletter", "wholesale")),
            "orders_count": 1 if created - since < timedelta(days=1) else rng.randrange(1, 12),
        }
        self._customers.append((customer, place))
        return copy.deepcopy(customer), place

    def _address(self, place: Place, customer: dict[str, Any]) -> dict[str, Any]:
        rng = self.rng
        jitter = rng.randrange(-400, 400) / 10000
        return {
            "first_name": customer["first_name"],
            "address1": rng.choice(STREETS[place.country_code]),
            "phone": customer["phone"],
            "city": place.city,
            "zip": place.zip,
            "province": place.province,
            "country": place.country,
            "last_name": customer["last_name"],
            "address2": rng.choice(UNITS) if rng.random() < 0.3 else None,
            "company": rng.choice(COMPANIES) if rng.random() < 0.12 else None,
            "latitude": round(place.latitude + jitter, 4),
            "longitude": round(place.longitude + jitter, 4),
            "name": f"{customer['first_name']} {customer['last_name']}",
            "country_code": place.country_code,
            "province_code": place.province_code,
        }

    def _lines(self, order_id: int, presentment: str, place: Place,
               discount: tuple[str, str, Decimal] | None) -> list[dict[str, Any]]:
        rng = self.rng
        count = rng.choice((1, 1, 1, 2, 2, 2, 3, 3, 4, 5, 6)) if rng.random() > 0.04 else rng.randrange(11, 16)
        products = rng.sample(CATALOGUE, count)
        lines = []
        fixed_left = discount[2] if discount and discount[1] == "fixed_amount" else Decimal(0)
        for product in products:
            qty = 1 if product.gift_card else rng.choices((1, 2, 3, 4), (70, 20, 7, 3))[0]
            price = Decimal(product.price)
            pres_price = convert(price, presentment)
            shop_disc = pres_disc = Decimal(0)
            if discount and not product.gift_card:
                if discount[1] == "percentage":
                    shop_disc = quantize(price * qty * discount[2], SHOP_CURRENCY)
                    pres_disc = quantize(pres_price * qty * discount[2], presentment)
                elif fixed_left > 0:
                    shop_disc = min(fixed_left, price * qty)
                    pres_disc = min(convert(shop_disc, presentment), pres_price * qty)
                    fixed_left -= shop_disc
            self._line_seq += 1
            line_id = LINE_ID_BASE + self._line_seq * 32 + rng.randrange(32)
            index = CATALOGUE.index(product)
            allocations = [] if shop_disc == 0 else [{
                "amount": money_str(shop_disc, SHOP_CURRENCY),
                "amount_set": money_set(shop_disc, pres_disc, presentment),
                "discount_application_index": 0,
            }]
            lines.append({
                "id": line_id,
                "admin_graphql_api_id": f"gid://shopify/LineItem/{line_id}",
                "fulfillable_quantity": qty,
                "fulfillment_service": "manual",
                "fulfillment_status": None,
                "gift_card": product.gift_card,
                "grams": product.grams,
                "name": f"{product.title} - {product.variant_title}" if product.variant_title else product.title,
                "price": money_str(price, SHOP_CURRENCY),
                "price_set": money_set(price, pres_price, presentment),
                "product_exists": True,
                "product_id": PRODUCT_ID_BASE + 4099 * (index // 3 + 1),
                "properties": ([{"name": "Engraving", "value": rng.choice(("J & M", "Für Oma", "2025"))}]
                               if product.sku.startswith("BOTTLE") and rng.random() < 0.3 else []),
                "quantity": qty,
                "requires_shipping": product.requires_shipping,
                "sku": product.sku,
                "taxable": product.taxable,
                "title": product.title,
                "total_discount": money_str(shop_disc, SHOP_CURRENCY),
                "total_discount_set": money_set(shop_disc, pres_disc, presentment),
                "variant_id": VARIANT_ID_BASE + 6151 * (index + 1),
                "variant_title": product.variant_title,
                "vendor": product.vendor,
                # reprice() fills in each tax line's price.
                "tax_lines": ([{"title": "VAT" if place.taxes_included else "Sales Tax", "rate": float(place.tax_rate),
                                "channel_liable": False}] if product.taxable and place.tax_rate else []),
                "discount_allocations": allocations,
            })
        return lines

    def _shipping(self, place: Place, presentment: str) -> list[dict[str, Any]]:
        rng = self.rng
        international = place.country_code not in ("US",)
        code, title, price = rng.choice(SHIPPING[2:] if international else (SHIPPING[0], SHIPPING[1], SHIPPING[3]))
        self._shipping_seq += 1
        amount = Decimal(price)
        pres = convert(amount, presentment)
        return [{
            "id": SHIPPING_ID_BASE + self._shipping_seq * 64 + rng.randrange(64),
            "carrier_identifier": None,
            "code": code,
            "discounted_price": money_str(amount, SHOP_CURRENCY),
            "discounted_price_set": money_set(amount, pres, presentment),
            "phone": None,
            "price": money_str(amount, SHOP_CURRENCY),
            "price_set": money_set(amount, pres, presentment),
            "source": "shopify",
            "title": title,
            "tax_lines": [],
            "discount_allocations": [],
        }]

    # -- changes ------------------------------------------------------------------------------

    def edit(self, order: dict[str, Any]) -> str:
        """A merchant edit: a line quantity, a note or tags; returns what changed."""
        rng = self.rng
        kind = rng.choice(("quantity", "note", "tags"))
        editable = [line for line in order["line_items"]
                    if not line["gift_card"] and line["fulfillment_status"] is None]
        if kind == "quantity" and editable and order["fulfillment_status"] is None:
            line = rng.choice(editable)
            old = line["quantity"]
            new = max(1, old + rng.choice((-1, 1, 1, 2))) if old > 1 else old + 1
            cur = order["presentment_currency"]
            shop = quantize(_shop(line["total_discount_set"]) / old * new, SHOP_CURRENCY)
            pres = quantize(_presentment(line["total_discount_set"]) / old * new, cur)
            line["quantity"] = line["fulfillable_quantity"] = new
            line["total_discount"] = money_str(shop, SHOP_CURRENCY)
            line["total_discount_set"] = money_set(shop, pres, cur)
            for allocation in line["discount_allocations"]:
                allocation["amount"] = line["total_discount"]
                allocation["amount_set"] = copy.deepcopy(line["total_discount_set"])
            reprice(order)
            return "edit_quantity"
        if kind == "note" or kind == "quantity":
            note = rng.choice(NOTES)
            order["note"] = f"{order['note']}\n{note}" if order["note"] else note
            return "edit_note"
        tags = set(filter(None, (t.strip() for t in order["tags"].split(","))))
        tags.add(rng.choice(TAGS))
        order["tags"] = ", ".join(sorted(tags))
        return "edit_tags"

    # -- money and fulfillment records (REST ``transactions``, ``refunds``, ``fulfillments``) ----------
    # Ids come from counters, never from the random generator, so adding the records keeps every
    # seeded order history as it was.

    def _next(self, kind: str) -> int:
        self._seq[kind] = self._seq.get(kind, 0) + 1
        return self._seq[kind]

    def add_transaction(self, order: dict[str, Any], kind: str, amount: Decimal, moment: datetime,
                        *, refund_id: int | None = None, parent_id: int | None = None) -> dict[str, Any]:
        """Record a successful transaction (shop money) on the truth's ``transactions``; returns it.

        The record keeps ``refund_id`` so the refund's copy can be made; the served shapes are
        :func:`rest_transaction` and the GraphQL view."""
        tid = TRANSACTION_ID_BASE + self._next("transaction")
        stamp = rest_time(moment)
        transaction = {
            "id": tid, "admin_graphql_api_id": f"gid://shopify/OrderTransaction/{tid}", "order_id": order["id"],
            "kind": kind, "status": "success", "amount": money_str(amount, SHOP_CURRENCY),
            "currency": SHOP_CURRENCY, "gateway": GATEWAY, "created_at": stamp, "processed_at": stamp,
            "parent_id": parent_id, "refund_id": refund_id, "test": False, "error_code": None,
        }
        order.setdefault("transactions", []).append(transaction)
        return transaction

    def capture(self, order: dict[str, Any], now: datetime) -> str:
        """Capture an authorized payment in full."""
        parent = next((t["id"] for t in order.get("transactions", ()) if t["kind"] == "authorization"), None)
        self.add_transaction(order, "capture", Decimal(order["total_price"]), now, parent_id=parent)
        order["financial_status"] = "paid"
        return "capture"

    def refund(self, order: dict[str, Any], now: datetime | None = None) -> str:
        """A partial (one unit of the first line still refundable) or full refund of a paid order,
        recorded as a REST ``refunds`` element with its refund transaction."""
        full = self.rng.random() < 0.4
        order["financial_status"] = "refunded" if full else "partially_refunded"
        self._record_refund(order, full, now or datetime.fromisoformat(order["updated_at"]))
        return "refund_full" if full else "refund_partial"

    def _record_refund(self, order: dict[str, Any], full: bool, now: datetime) -> None:
        refunded: dict[int, int] = {}
        for earlier in order.get("refunds", ()):
            for item in earlier["refund_line_items"]:
                refunded[item["line_item_id"]] = refunded.get(item["line_item_id"], 0) + item["quantity"]
        cur = order["presentment_currency"]
        rid = REFUND_ID_BASE + self._next("refund")
        items, total = [], Decimal(0)
        for line in order["line_items"]:
            left = line["quantity"] - refunded.get(line["id"], 0)
            if left <= 0:
                continue
            units = left if full else 1
            share = Decimal(units) / Decimal(line["quantity"])
            gross = _shop(line["price_set"]) * line["quantity"] - _shop(line["total_discount_set"])
            subtotal = quantize(gross * share, SHOP_CURRENCY)
            tax = quantize(sum((Decimal(t["price"]) for t in line["tax_lines"]), Decimal(0)) * share, SHOP_CURRENCY)
            total += subtotal + tax
            items.append({
                "id": rid * 10 + len(items), "line_item_id": line["id"], "quantity": units,
                "restock_type": "no_restock", "location_id": None,
                "subtotal": money_str(subtotal, SHOP_CURRENCY),
                "subtotal_set": money_set(subtotal, convert(subtotal, cur), cur),
                "total_tax": money_str(tax, SHOP_CURRENCY), "total_tax_set": money_set(tax, convert(tax, cur), cur),
                "line_item": {"id": line["id"], "sku": line["sku"], "name": line["name"], "quantity": line["quantity"]},
            })
            if not full:
                break
        adjustments = []
        if full:
            shipping = sum((_shop(s["discounted_price_set"]) for s in order["shipping_lines"]), Decimal(0))
            if shipping > 0:
                total += shipping
                adjustments.append({"id": rid * 10 + 9, "order_id": order["id"], "refund_id": rid,
                                    "kind": "shipping_refund", "reason": "Shipping refund",
                                    "amount": money_str(-shipping, SHOP_CURRENCY), "tax_amount": "0.00"})
        parent = next((t["id"] for t in order.get("transactions", ()) if t["kind"] in ("sale", "capture")), None)
        transaction = self.add_transaction(order, "refund", total, now, refund_id=rid, parent_id=parent)
        order.setdefault("refunds", []).append({
            "id": rid, "admin_graphql_api_id": f"gid://shopify/Refund/{rid}", "order_id": order["id"],
            "created_at": rest_time(now), "processed_at": rest_time(now), "note": None, "restock": False,
            "refund_line_items": items, "transactions": [copy.deepcopy(transaction)],
            "order_adjustments": adjustments,
        })

    def record_fulfillment(self, order: dict[str, Any], quantities: list[tuple[dict[str, Any], int]],
                           now: datetime, tracking: str | None = None, company: str = "UPS") -> dict[str, Any]:
        """Mark ``quantities`` (line, units) shipped and record a REST ``fulfillments`` element for them.

        ``tracking`` defaults to a label of the store's own (:func:`tracking_number`); the 3PL passes
        the number of its shipment. Sets the order's ``fulfillment_status``; returns the element."""
        fid = FULFILLMENT_ID_BASE + self._next("fulfillment")
        if tracking is None:
            tracking = tracking_number(STORE_LABEL_BASE + fid - FULFILLMENT_ID_BASE, order["id"])
        for line, units in quantities:
            line["fulfillable_quantity"] = max(0, line["fulfillable_quantity"] - units)
            line["fulfillment_status"] = "fulfilled" if line["fulfillable_quantity"] == 0 else "partial"
        done = all(line["fulfillable_quantity"] == 0 for line in order["line_items"])
        order["fulfillment_status"] = "fulfilled" if done else "partial"
        fulfillment = {
            "id": fid, "admin_graphql_api_id": f"gid://shopify/Fulfillment/{fid}", "order_id": order["id"],
            "status": "success", "created_at": rest_time(now), "updated_at": rest_time(now),
            "service": "manual", "shipment_status": "in_transit", "location_id": None,
            "name": f"{order['name']}.{len(order.get('fulfillments', ())) + 1}",
            "tracking_company": company, "tracking_number": tracking, "tracking_numbers": [tracking],
            "tracking_url": f"https://www.ups.com/track?tracknum={tracking}",
            "tracking_urls": [f"https://www.ups.com/track?tracknum={tracking}"],
            "line_items": [{"id": line["id"], "sku": line["sku"], "name": line["name"], "quantity": units,
                            "variant_id": line["variant_id"], "fulfillment_status": line["fulfillment_status"]}
                           for line, units in quantities],
        }
        order.setdefault("fulfillments", []).append(fulfillment)
        return fulfillment

    def fulfill(self, order: dict[str, Any], now: datetime) -> str:
        """Ship some or all of what is left to ship; a fully shipped, paid order may be archived."""
        pending = [line for line in order["line_items"] if line["fulfillable_quantity"] > 0]
        if len(pending) > 1 and self.rng.random() < 0.35:
            pending = pending[: len(pending) // 2]
        self.record_fulfillment(order, [(line, line["fulfillable_quantity"]) for line in pending], now)
        done = all(line["fulfillable_quantity"] == 0 for line in order["line_items"])
        order["fulfillment_status"] = "fulfilled" if done else "partial"
        if done and order["financial_status"] == "paid" and self.rng.random() < 0.5:
            order["closed_at"] = rest_time(now)
        return "fulfillment" if done else "fulfillment_partial"

    def cancel(self, order: dict[str, Any], now: datetime) -> str:
        """Cancel an unfulfilled order: money voided or refunded, stock maybe restocked, order archived."""
        rng = self.rng
        order["cancelled_at"] = order["closed_at"] = rest_time(now)
        order["cancel_reason"] = rng.choices(CANCEL_REASONS, (50, 15, 15, 10, 10))[0]
        paid = order["financial_status"] in ("paid", "partially_paid", "partially_refunded")
        order["financial_status"] = "refunded" if paid else "voided"
        for line in order["line_items"]:
            line["fulfillable_quantity"] = 0
        if rng.random() < 0.6:
            order["fulfillment_status"] = "restocked"
        return "cancellation"

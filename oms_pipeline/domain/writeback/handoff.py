"""The 3PL handoff a released plan asks for. Pure: decisions, planned shipments and orders in, actions out.

The rule: a location is the 3PL's when the network says its ``kind`` is ``3pl`` (the caller passes their
ids). Every order whose latest decision is ``ready`` or ``released`` and
whose plan puts lines at a 3PL location gets ONE ``createorder`` action: the ShipStation order for
those lines (all 3PL locations of the order together, since they are one ShipStation account), keyed
by ``orderKey`` = the store order id, which is also what reconciliation joins the 3PL's shipments on.
Lines planned at the store's own locations are not the 3PL's business and are left out.

The action is audited, so it carries no personal data: ``shipTo``/``billTo`` hold only the order
number, state and country, and the executor merges the store's current addresses and email into
the body when it sends it.

The payload holds nothing that changes between runs for the same decision (no trace id, no clock), so
the same decision maps to the same idempotency key and is handed off once; a new order version (its
decision fingerprint changes) updates the same ShipStation order, since ShipStation upserts on
``orderKey``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping
from decimal import Decimal
from typing import Any

from oms_pipeline.domain.orders import Address, Order
from oms_pipeline.domain.writeback.actions import ActionKind, Workflow, WriteAction

HANDOFF_STATES = frozenset({"ready", "released"})


def _region(address: Address | None, fallback_name: str) -> dict[str, Any]:
    """The part of an address that identifies no one: name placeholder, state and country. The
    executor fills in the rest from the store at send time, so the audited action holds no PII."""
    a = address or Address()
    return {"name": fallback_name, "state": a.province_code, "country": a.country_code}


def _money(value: Decimal) -> float:
    return float(value)


def createorder_body(order: Order, lines: Iterable[Mapping[str, Any]], *,
                     unit_weight_kg: Mapping[str, float] | None = None,
                     gift_message: str | None = None) -> dict[str, Any]:
    """The ShipStation ``createorder`` body for an order's 3PL lines (planned-shipment rows)."""
    by_sku: dict[str, dict[str, Any]] = {}
    for line in order.line_items:
        if line.sku:
            by_sku.setdefault(line.sku, {"key": line.id, "name": line.title, "price": line.unit_price.amount})
    quantities: dict[tuple[str, str], int] = defaultdict(int)
    for row in lines:
        quantities[(str(row["sku"]), str(row["service_id"]))] += int(row["quantity"])
    items, grams, services, locations = [], 0.0, set(), set()
    for row in lines:
        locations.add(str(row["location_id"]))
    for (sku, service), quantity in sorted(quantities.items()):
        known = by_sku.get(sku)  # a bundle's component is not a line of its own in the store
        item = {"lineItemKey": known["key"] if known else f"sku:{sku}", "sku": sku,
                "name": known["name"] if known else sku, "quantity": quantity}
        if known:
            item["unitPrice"] = _money(known["price"])
        items.append(item)
        grams += 1000.0 * (unit_weight_kg or {}).get(sku, 0.0) * quantity
        services.add(service)
    body = {
        "orderNumber": order.name.lstrip("#"),
        "orderKey": order.id,
        "orderDate": order.created_at.isoformat(),
        "paymentDate": (order.processed_at or order.created_at).isoformat(),
        "orderStatus": "awaiting_shipment",
        "billTo": _region(order.billing_address or order.shipping_address, order.name),
        "shipTo": _region(order.shipping_address, order.name),
        "items": items,
        "amountPaid": _money(order.total_price.amount),
        "taxAmount": _money(order.total_tax.amount),
        "shippingAmount": _money(order.total_shipping.amount),
        "requestedShippingService": sorted(services)[0] if services else None,
        "weight": {"value": round(grams, 1), "units": "grams"},
        "gift": gift_message is not None,
        "advancedOptions": {"source": "oms-pipeline", "customField1": ",".join(sorted(locations))},
    }
    if gift_message is not None:
        body["giftMessage"] = gift_message
    return body


def handoff_actions(decisions: Iterable[Mapping[str, Any]], shipments: Iterable[Mapping[str, Any]],
                    orders: Mapping[str, Order], shop: str, *,
                    unit_weight_kg: Mapping[str, float] | None = None,
                    gift_messages: Mapping[str, str | None] | None = None,
                    tpl_locations: Collection[str]) -> list[WriteAction]:
    """One handoff action per ready/released order with lines at a 3PL location (``tpl_locations``).

    ``decisions`` are ``order_decisions`` rows, ``shipments`` ``planned_shipments`` rows (the plan of
    the same decisions: matched on order id and trace id); an order without its parsed ``Order`` in
    ``orders`` is skipped (the caller reports it).
    """
    tpl_lines: dict[tuple[str, str], list[Mapping[str, Any]]] = defaultdict(list)
    for row in shipments:
        if str(row["location_id"]) in tpl_locations and int(row["quantity"]) > 0:
            tpl_lines[(str(row["order_id"]), str(row["trace_id"]))].append(row)
    actions = []
    for decision in decisions:
        order_id, trace_id = str(decision["order_id"]), str(decision["trace_id"])
        lines = tpl_lines.get((order_id, trace_id))
        order = orders.get(order_id)
        if str(decision["state"]) not in HANDOFF_STATES or not lines or order is None:
            continue
        gift = (gift_messages or {}).get(order_id)
        payload = createorder_body(order, lines, unit_weight_kg=unit_weight_kg, gift_message=gift)
        units = sum(item["quantity"] for item in payload["items"])
        actions.append(WriteAction(
            shop_domain=shop, order_id=order_id, order_name=order.name,
            order_version=str(decision["order_fingerprint"]), workflow=Workflow.FULFILLMENT_HANDOFF,
            kind=ActionKind.HANDOFF_TO_3PL, payload=payload, confidence=float(decision["confidence"]),
            trace_id=trace_id, rules_version=str(decision["rules_version"]),
            model_versions=f"fraud={decision['fraud_model_version']};notes={decision['notes_engine']}",
            financial_status=order.financial_status.value,
            why=f"plan released: {units} units at {payload['advancedOptions']['customField1']}"))
    return actions

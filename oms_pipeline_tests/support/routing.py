"""The feasibility check every fulfillment plan must pass, shared by the routing tests."""

from __future__ import annotations

from oms_pipeline.domain.routing import Instance, Plan


def check_feasible(instance: Instance, plan: Plan) -> None:
    """Never more than inventory, never more than ordered, ship-complete and capacity respected."""
    locs = {x.id: x for x in instance.locations}
    used: dict[tuple[str, str], int] = {}
    per_loc: dict[str, int] = {}
    shipped: dict[tuple[str, str], int] = {}
    pairs = set()
    for s in plan.shipments:
        assert (s.order_id, s.location_id) not in pairs, "one shipment per (order, location)"
        pairs.add((s.order_id, s.location_id))
        per_loc[s.location_id] = per_loc.get(s.location_id, 0) + 1
        for line in s.lines:
            assert line.qty > 0
            used[(s.location_id, line.sku)] = used.get((s.location_id, line.sku), 0) + line.qty
            shipped[(s.order_id, line.sku)] = shipped.get((s.order_id, line.sku), 0) + line.qty
    for (lid, sku), q in used.items():
        assert q <= locs[lid].inventory.get(sku, 0)
    for lid, n in per_loc.items():
        assert locs[lid].max_orders is None or n <= locs[lid].max_orders
    missing = {(u.order_id, u.sku): u.qty for u in plan.unfulfilled}
    for order in instance.orders:
        ordered: dict[str, int] = {}
        for line in order.lines:
            ordered[line.sku] = ordered.get(line.sku, 0) + line.qty
        for sku, q in ordered.items():
            assert shipped.get((order.id, sku), 0) + missing.get((order.id, sku), 0) == q
        if order.ship_complete:
            n = sum(1 for s in plan.shipments if s.order_id == order.id)
            assert n == 0 or (n == 1 and not any(o == order.id for o, _ in missing))

"""The fulfillment network a store ships from, and how store orders become routing orders.

``FulfillmentNetwork`` is INSTANCE.json without its orders (the documented ``locations`` and
``services`` shapes) plus what a store's orders do not carry: unit weights per SKU, inbound stock
(what turns a shortage into a backorder), the countries the carriers deliver to and the default
delivery promise. Pure functions only; reading the file is the caller's business.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from oms_pipeline.domain.decisions.signals import FulfillmentOutlook
from oms_pipeline.domain.decisions.triage import expand_bundles
from oms_pipeline.domain.orders import Order as StoreOrder
from oms_pipeline.domain.routing.model import (
    Instance,
    Location,
    LocationKind,
    Order,
    OrderLine,
    Plan,
    Service,
    describe_validation_error,
)


class FulfillmentNetwork(BaseModel):
    """Locations with stock, carrier services, and the per-SKU facts routing needs (NETWORK.json)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    locations: list[Location] = Field(min_length=1)
    services: list[Service] = Field(min_length=1)
    unfulfilled_penalty_per_unit: float = Field(default=30.0, ge=0)
    late_penalty_per_day: float = Field(default=3.0, ge=0)
    unit_weight_kg: dict[str, float] = Field(default_factory=dict)
    default_unit_weight_kg: float = Field(default=0.5, ge=0)
    incoming: dict[str, int] = Field(default_factory=dict)  # units on inbound purchase orders
    ship_to_countries: list[str] | None = None  # ISO codes carriers deliver to; None = anywhere
    default_promise_days: int = Field(default=5, ge=0)

    @field_validator("locations")
    @classmethod
    def _every_location_has_a_kind(cls, locations: list[Location]) -> list[Location]:
        unkind = [loc.id for loc in locations if loc.kind is None]
        if unkind:
            raise ValueError(f"location {unkind[0]!r} has no kind (one of "
                             f"{', '.join(k.value for k in LocationKind)})"
                             + (f", nor have {len(unkind) - 1} more" if len(unkind) > 1 else ""))
        return locations

    def locations_of_kind(self, kind: LocationKind) -> frozenset[str]:
        """The ids of the locations of one kind (``3pl``: where handoffs go)."""
        return frozenset(loc.id for loc in self.locations if loc.kind is kind)

    def kind_of(self, location_id: str) -> LocationKind | None:
        """The kind of a location of this network (None for an id it does not have)."""
        return next((loc.kind for loc in self.locations if loc.id == location_id), None)

    def available(self, sku: str) -> int:
        """Units of ``sku`` at every location together."""
        return sum(loc.inventory.get(sku, 0) for loc in self.locations)


class NetworkError(ValueError):
    """A network file that does not validate; each line starts with the field it concerns."""


def parse_network(text: str | bytes, source: str = "<network>") -> FulfillmentNetwork:
    """Parse NETWORK.json text; raises :class:`NetworkError` naming each bad field."""
    try:
        return FulfillmentNetwork.model_validate_json(text)
    except ValidationError as error:
        raise NetworkError(f"invalid fulfillment network in {source}:\n{describe_validation_error(error)}") from error


def ships_to(network: FulfillmentNetwork, order: StoreOrder) -> bool:
    """Whether carriers deliver to the order's shipping address (it has a street and a served country)."""
    address = order.shipping_address
    if address is None or not address.address1 or not address.country_code:
        return False
    return network.ship_to_countries is None or address.country_code in network.ship_to_countries


def fulfillment_outlook(order: StoreOrder, network: FulfillmentNetwork,
                        bundles: Mapping[str, Mapping[str, int]]) -> FulfillmentOutlook:
    """What triage needs from inventory for one order: stock per SKU, inbound stock, and whether one
    location can ship everything (bundles expanded to their components)."""
    needed = expand_bundles(order, bundles)
    one_location = bool(needed) and any(
        all(loc.inventory.get(sku, 0) >= qty for sku, qty in needed) for loc in network.locations)
    return FulfillmentOutlook(
        available_by_sku={sku: network.available(sku) for sku, _ in needed},
        incoming_by_sku={sku: network.incoming[sku] for sku, _ in needed if sku in network.incoming},
        one_location_ships_all=one_location or not needed,
        address_shippable=ships_to(network, order) if needed else True,
    )


def routing_order(order: StoreOrder, network: FulfillmentNetwork, bundles: Mapping[str, Mapping[str, int]], *,
                  ship_complete: bool, promise_days: int | None = None) -> Order | None:
    """The order as the router sees it, or None when it has nothing to ship or no coordinates to ship to."""
    address = order.shipping_address
    needed = expand_bundles(order, bundles)
    if not needed or address is None or address.latitude is None or address.longitude is None:
        return None
    lines = [OrderLine(sku=sku, qty=qty, unit_weight_kg=network.unit_weight_kg.get(sku, network.default_unit_weight_kg))
             for sku, qty in needed]
    return Order(id=order.id, lat=float(address.latitude), lon=float(address.longitude),
                 promise_days=network.default_promise_days if promise_days is None else promise_days,
                 ship_complete=ship_complete, lines=lines)


def routing_instance(network: FulfillmentNetwork, orders: Iterable[Order]) -> Instance:
    """A routing batch of ``orders`` over the network."""
    return Instance(locations=network.locations, services=network.services, orders=list(orders),
                    unfulfilled_penalty_per_unit=network.unfulfilled_penalty_per_unit,
                    late_penalty_per_day=network.late_penalty_per_day)


def plan_summaries(plan: Plan) -> dict[str, str]:
    """One line per order for operators: where each shipment goes from, how, and what is short."""
    parts: dict[str, list[str]] = {}
    for shipment in plan.shipments:
        units = sum(line.qty for line in shipment.lines)
        parts.setdefault(shipment.order_id, []).append(
            f"{shipment.location_id} {shipment.service_id} ({units} units, {shipment.transit_days} d, "
            f"{shipment.cost:.2f})")
    for short in plan.unfulfilled:
        parts.setdefault(short.order_id, []).append(f"backorder {short.qty} x {short.sku}")
    return {order_id: "; ".join(items) for order_id, items in parts.items()}


def draw_stock(network: FulfillmentNetwork, plan: Plan) -> FulfillmentNetwork:
    """The network after the plan's shipments take their units: the next batch plans on what is left."""
    taken: dict[tuple[str, str], int] = {}
    for shipment in plan.shipments:
        for line in shipment.lines:
            key = (shipment.location_id, line.sku)
            taken[key] = taken.get(key, 0) + line.qty
    locations = [
        loc.model_copy(update={"inventory": {sku: qty - taken.get((loc.id, sku), 0)
                                             for sku, qty in loc.inventory.items()}})
        for loc in network.locations
    ]
    return network.model_copy(update={"locations": locations})


def stock_of(network: FulfillmentNetwork, location_id: str, sku: str) -> int:
    """Units of ``sku`` at one location (0 for an unknown location)."""
    for loc in network.locations:
        if loc.id == location_id:
            return loc.inventory.get(sku, 0)
    return 0


__all__: Sequence[str] = (
    "FulfillmentNetwork", "NetworkError", "draw_stock", "fulfillment_outlook", "parse_network", "plan_summaries",
    "routing_instance", "routing_order", "ships_to", "stock_of",
)

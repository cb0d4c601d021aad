"""The documented INSTANCE.json and PLAN.json formats of ``oms route``, as Pydantic models.

Amounts here are floats because the format says "number" and the optimizer works in floats; they are
rounded to cents only where a person reads them (explanations). Unknown keys are refused so that a
misspelt key is reported rather than silently ignored.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LocationKind(StrEnum):
    """Who runs a location: the merchant's own DC, a 3PL (orders are handed off to it), a retail store
    that ships, or a dropship supplier."""

    OWN_DC = "own_dc"
    THIRD_PARTY_LOGISTICS = "3pl"
    STORE = "store"
    DROPSHIP = "dropship"


class Location(_Strict):
    """A location that can ship: who runs it, its stock, pick cost, handling time and batch capacity.

    ``kind`` is required in NETWORK.json (it decides what is handed off to a 3PL) and optional in
    INSTANCE.json (the optimizer does not use it)."""

    id: str = Field(min_length=1)
    kind: LocationKind | None = None
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    pick_cost_per_unit: float = Field(ge=0)
    handling_days: int = Field(ge=0)
    max_orders: int | None = Field(default=None, ge=0)
    inventory: dict[str, int] = Field(default_factory=dict)

    @field_validator("inventory")
    @classmethod
    def _non_negative(cls, inventory: dict[str, int]) -> dict[str, int]:
        for sku, qty in inventory.items():
            if qty < 0:
                raise ValueError(f"inventory of {sku!r} is negative ({qty})")
        return inventory


class Service(_Strict):
    """A carrier service level with a rate card: base + per kg + per 1000 km; days from distance."""

    id: str = Field(min_length=1)
    base: float = Field(ge=0)
    per_kg: float = Field(ge=0)
    per_1000km: float = Field(ge=0)
    base_days: int = Field(ge=0)
    km_per_day: float = Field(gt=0)


class OrderLine(_Strict):
    """One ordered SKU."""

    sku: str = Field(min_length=1)
    qty: int = Field(gt=0)
    unit_weight_kg: float = Field(ge=0)


class Order(_Strict):
    """An order to route: destination, delivery promise in days, ship-complete flag, lines."""

    id: str = Field(min_length=1)
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    promise_days: int = Field(ge=0)
    ship_complete: bool = False
    lines: list[OrderLine] = Field(min_length=1)


class Instance(_Strict):
    """A routing batch: INSTANCE.json."""

    locations: list[Location] = Field(min_length=1)
    services: list[Service] = Field(min_length=1)
    orders: list[Order]
    unfulfilled_penalty_per_unit: float = Field(ge=0)
    late_penalty_per_day: float = Field(ge=0)

    @field_validator("locations", "services", "orders")
    @classmethod
    def _unique_ids(cls, items: list) -> list:
        seen: set[str] = set()
        for index, item in enumerate(items):
            if item.id in seen:
                raise ValueError(f"duplicate id {item.id!r} at [{index}]")
            seen.add(item.id)
        return items


class PlanLine(_Strict):
    """Units of one SKU in a shipment."""

    sku: str
    qty: int


class Shipment(_Strict):
    """One shipment: ``cost`` is freight + pick (what is paid); lateness penalties count in the total only."""

    order_id: str
    location_id: str
    service_id: str
    lines: list[PlanLine]
    cost: float
    transit_days: int
    reason: str


class Unfulfilled(_Strict):
    """Ordered units left unshipped (backordered) by the plan."""

    order_id: str
    sku: str
    qty: int


class SolverInfo(_Strict):
    """How the plan was found. ``lower_bound`` (the solver's proven bound) is kept out of PLAN.json."""

    status: str
    gap: float | None
    seconds: float
    lower_bound: float | None = Field(default=None, exclude=True)


class Plan(_Strict):
    """PLAN.json. ``total_cost`` = shipment costs + lateness penalties + unfulfilled penalties."""

    shipments: list[Shipment]
    unfulfilled: list[Unfulfilled]
    total_cost: float
    solver: SolverInfo


def field_path(loc: tuple[int | str, ...]) -> str:
    """Pydantic's error location as a path a person reads: ``orders[3].lines[0].qty``."""
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path or "(root)"


def describe_validation_error(error: ValidationError) -> str:
    """One line per problem, each starting with the field it concerns."""
    return "\n".join(f"{field_path(e['loc'])}: {e['msg']}" for e in error.errors())


def parse_instance(text: str | bytes) -> Instance:
    """Parse INSTANCE.json text (raises ``ValidationError``; see ``describe_validation_error``)."""
    return Instance.model_validate_json(text)

"""The sandbox store's fulfillment network: where its catalogue is stocked and how it ships.

A seeded, realistic default for the demo and tests: two US DCs and an EU 3PL; most SKUs are stocked
in depth at one or two sites (so some orders split), one SKU waits on inbound stock (backorders)
and one is sold out with nothing inbound (an exception). Real stores point ``OMS_NETWORK_FILE`` at
their own NETWORK.json instead.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from oms_pipeline.domain.routing.model import Location, LocationKind, Service
from oms_pipeline.domain.routing.network import FulfillmentNetwork
from oms_pipeline.sandbox.generator import CATALOGUE, PLACES

# id, lat, lon, pick cost per unit, handling days, batch capacity (None = none)
_SITES = (
    ("DC-EAST", 40.52, -74.41, 0.45, 0, None),      # Edison, NJ
    ("DC-WEST", 34.06, -117.65, 0.50, 0, None),     # Ontario, CA
    ("3PL-EU", 51.37, 6.17, 0.80, 1, 400),          # Venlo, NL
)
_KINDS = {"DC-EAST": LocationKind.OWN_DC, "DC-WEST": LocationKind.OWN_DC,
          "3PL-EU": LocationKind.THIRD_PARTY_LOGISTICS}
# id, base, per kg, per 1000 km, base days, km per day
_SERVICES = (
    ("ground", 5.80, 0.55, 1.20, 1, 800.0),
    ("2day", 9.50, 0.95, 1.60, 1, 2500.0),
    ("express", 21.00, 1.70, 2.10, 0, 6000.0),
)
BACKORDERED_SKU = "KETTLE-GN-COP"  # sold out now, a purchase order on its way
SOLD_OUT_SKU = "LAMP-HD-STA"  # sold out everywhere, nothing inbound


def sandbox_network(seed: int = 0) -> FulfillmentNetwork:
    """The seeded network that stocks the sandbox catalogue."""
    rng = np.random.default_rng(seed + 7919)
    shippable = [p for p in CATALOGUE if p.requires_shipping]
    inventory: dict[str, dict[str, int]] = {site[0]: {} for site in _SITES}
    for product in shippable:
        if product.sku in (BACKORDERED_SKU, SOLD_OUT_SKU):
            continue
        # Each SKU is stocked at one to three sites; the EU 3PL carries a narrower range.
        sites = [s[0] for s in _SITES if rng.random() < (0.45 if s[0] == "3PL-EU" else 0.85)]
        for site in sites or [_SITES[int(rng.integers(0, 2))][0]]:
            inventory[site][product.sku] = int(rng.integers(40, 400))
    locations = [Location(id=sid, kind=_KINDS[sid], lat=lat, lon=lon, pick_cost_per_unit=pick, handling_days=handling,
                          max_orders=cap, inventory=inventory[sid])
                 for sid, lat, lon, pick, handling, cap in _SITES]
    services = [Service(id=s[0], base=s[1], per_kg=s[2], per_1000km=s[3], base_days=s[4], km_per_day=s[5])
                for s in _SERVICES]
    return FulfillmentNetwork(
        locations=locations,
        services=services,
        unit_weight_kg={p.sku: p.grams / 1000 for p in shippable},
        incoming={BACKORDERED_SKU: 60},
        ship_to_countries=sorted({place.country_code for place in PLACES}),
        default_promise_days=6,
    )


def write_sandbox_network(path: Path, seed: int = 0) -> Path:
    """Write the sandbox's network as NETWORK.json (what ``OMS_NETWORK_FILE`` names); returns ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(sandbox_network(seed).model_dump_json(indent=2), encoding="utf-8")
    return path

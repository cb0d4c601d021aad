"""Seeded, realistic routing batches for the benchmark and the tests.

Locations are US DCs and 3PLs at real-ish coordinates; destinations cluster around US metros;
SKU demand is skewed (a few best sellers) and stock is spread unevenly with a total a little below
demand for the best sellers, so orders contend for the last units. 3PLs cap their batch shipments.
"""

from __future__ import annotations

import numpy as np

from oms_pipeline.domain.routing.model import Instance, Location, Order, OrderLine, Service

_SITES = [  # id, lat, lon, pick cost per unit, handling days, is 3PL
    ("DC-EAST", 40.52, -74.41, 0.45, 0, False),       # Edison, NJ
    ("DC-WEST", 34.06, -117.65, 0.50, 0, False),      # Ontario, CA
    ("DC-CENTRAL", 32.90, -96.97, 0.40, 1, False),    # Dallas-Fort Worth, TX
    ("3PL-MIDWEST", 39.96, -82.90, 0.70, 1, True),    # Columbus, OH
    ("3PL-SOUTHEAST", 33.64, -84.43, 0.65, 1, True),  # Atlanta, GA
    ("3PL-NORTHWEST", 47.38, -122.23, 0.75, 1, True),  # Kent, WA
    ("DC-MOUNTAIN", 40.76, -111.89, 0.45, 1, False),  # Salt Lake City, UT
    ("3PL-CHICAGO", 41.88, -87.63, 0.70, 1, True),    # Chicago, IL
]
_SERVICES = [  # id, base, per kg, per 1000 km, base days, km per day
    ("ground", 5.80, 0.55, 1.20, 1, 800.0),
    ("2day", 9.50, 0.95, 1.60, 1, 2500.0),
    ("overnight", 21.00, 1.70, 2.10, 0, 6000.0),
    ("economy", 4.20, 0.45, 0.90, 2, 500.0),
]
_METROS = [  # lat, lon, weight
    (40.71, -74.01, 19), (34.05, -118.24, 13), (41.88, -87.63, 9), (29.76, -95.37, 7), (33.45, -112.07, 5),
    (39.95, -75.17, 6), (32.78, -96.80, 7), (37.77, -122.42, 6), (47.61, -122.33, 4), (25.76, -80.19, 6),
    (33.75, -84.39, 6), (42.36, -71.06, 5), (39.74, -104.99, 3), (44.98, -93.27, 4), (45.52, -122.68, 2),
    (36.17, -115.14, 2), (35.23, -80.84, 3), (38.91, -77.04, 6), (42.33, -83.05, 4), (30.27, -97.74, 2),
]


def generate_instance(orders: int, locations: int = 5, services: int = 3, seed: int = 1,
                      skus: int | None = None) -> Instance:
    """A seeded batch of ``orders`` orders over ``locations`` (<= 8) sites and ``services`` (<= 4) services."""
    if not 1 <= locations <= len(_SITES) or not 1 <= services <= len(_SERVICES):
        raise ValueError(f"locations must be 1..{len(_SITES)} and services 1..{len(_SERVICES)}")
    rng = np.random.default_rng(seed)
    n_skus = skus or max(8, min(400, orders // 5))
    popularity = 1.0 / np.arange(1, n_skus + 1) ** 0.9
    popularity /= popularity.sum()
    sku_ids = [f"SKU-{k:04d}" for k in range(n_skus)]
    weights = np.round(rng.lognormal(mean=-0.2, sigma=0.8, size=n_skus).clip(0.05, 20.0), 3)

    metro_w = np.array([m[2] for m in _METROS], dtype=float)
    metro_w /= metro_w.sum()
    order_list: list[Order] = []
    demand = np.zeros(n_skus)
    for n in range(orders):
        lat, lon, _ = _METROS[rng.choice(len(_METROS), p=metro_w)]
        n_lines = int(rng.choice([1, 1, 1, 2, 2, 3, 4]))
        picked = rng.choice(n_skus, size=n_lines, replace=False, p=popularity)
        lines = []
        for k in picked:
            qty = int(rng.choice([1, 1, 1, 1, 2, 2, 3, 5]))
            demand[k] += qty
            lines.append(OrderLine(sku=sku_ids[k], qty=qty, unit_weight_kg=float(weights[k])))
        order_list.append(Order(id=f"ORD-{n + 1:06d}", lat=round(lat + rng.normal(0, 0.6), 4),
                                lon=round(lon + rng.normal(0, 0.8), 4),
                                promise_days=int(rng.choice([2, 3, 3, 4, 5, 5, 6])),
                                ship_complete=bool(rng.random() < 0.15), lines=lines))

    site_share = rng.dirichlet(np.full(locations, 1.5), size=n_skus)  # [sku, location]
    cover = rng.uniform(0.8, 1.5, size=n_skus)  # some SKUs short overall: contention
    stock = np.floor(site_share * (demand * cover)[:, None] + rng.random((n_skus, locations)) * 1.5).astype(int)
    location_list = []
    for j, (sid, lat, lon, pick, handling, is_3pl) in enumerate(_SITES[:locations]):
        inventory = {sku_ids[k]: int(stock[k, j]) for k in range(n_skus) if stock[k, j] > 0}
        cap = max(1, int(orders * rng.uniform(0.15, 0.3))) if is_3pl else None
        location_list.append(Location(id=sid, lat=lat, lon=lon, pick_cost_per_unit=pick, handling_days=handling,
                                      max_orders=cap, inventory=inventory))
    service_list = [Service(id=s[0], base=s[1], per_kg=s[2], per_1000km=s[3], base_days=s[4], km_per_day=s[5])
                    for s in _SERVICES[:services]]
    return Instance(locations=location_list, services=service_list, orders=order_list,
                    unfulfilled_penalty_per_unit=30.0, late_penalty_per_day=3.0)

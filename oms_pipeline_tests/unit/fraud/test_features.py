"""Order-time features: robustness, velocity correctness, and no leakage from later orders."""

from __future__ import annotations

import copy
import math
import random

import numpy as np
import pytest

from oms_pipeline.domain.fraud.features import FEATURE_INDEX, FEATURE_NAMES, FeatureBuilder

F = FEATURE_INDEX


def order(i: int, at: str, **extra) -> dict:
    base = {
        "id": i, "created_at": at, "email": "ann.lee@gmail.com", "total_price": "100.00",
        "browser_ip": "10.0.0.1", "customer": {"id": 77, "created_at": "2025-01-01T00:00:00+00:00",
                                               "first_name": "Ann", "last_name": "Lee"},
        "shipping_address": {"address1": "1 Main St", "zip": "10001", "country_code": "US", "name": "Ann Lee",
                             "latitude": 40.75, "longitude": -74.0},
        "billing_address": {"address1": "1 Main St", "zip": "10001", "country_code": "US", "name": "Ann Lee",
                            "latitude": 40.75, "longitude": -74.0},
        "line_items": [{"price": "100.00", "quantity": 1, "sku": "TEE", "title": "Tee"}],
        "shipping_lines": [{"title": "Standard Shipping", "code": "Standard", "price": "5.00"}],
    }
    base.update(extra)
    return base


def test_every_field_may_be_missing_or_null() -> None:
    builder = FeatureBuilder()
    for payload in ({}, {"id": None, "created_at": None, "customer": None, "line_items": None},
                    {"id": 1, "created_at": "yesterday", "total_price": {"amount": "x"}, "line_items": ["x", None],
                     "shipping_lines": "fast", "billing_address": [], "email": 5, "customer_locale": None}):
        row = builder.features(payload)
        assert row.shape == (len(FEATURE_NAMES),)
    assert builder.orders_seen == 0  # none of them could be placed in time


def test_basic_features() -> None:
    row = FeatureBuilder().features(order(
        1, "2025-03-01T03:30:00-05:00", email="x7k2q9z1@gmail.com", customer_locale="ja",
        billing_address={"address1": "Gran Via 28", "zip": "28013", "country_code": "ES", "name": "Jo Diaz",
                         "latitude": 40.42, "longitude": -3.70},
        shipping_lines=[{"title": "Express International", "code": "Express", "price": "29.00"}],
        customer={"id": 9, "created_at": "2025-03-01T02:30:00-05:00", "first_name": "Jo", "last_name": "Diaz"},
        line_items=[{"price": "25.00", "quantity": 4, "gift_card": True}, {"price": "100.00", "quantity": 1,
                                                                            "sku": "GRIND-HND-STE"}],
    ))
    assert row[F["billing_shipping_country_mismatch"]] == 1 and row[F["billing_shipping_zip_mismatch"]] == 1
    assert 5000 < row[F["billing_shipping_km"]] < 6500  # New York - Madrid
    assert row[F["account_age_days"]] == pytest.approx(1 / 24)
    assert row[F["email_free_mail"]] == 1 and row[F["email_name_match"]] == 0
    assert row[F["email_digit_share"]] == pytest.approx(0.5)
    assert row[F["shipping_express"]] == 1
    assert row[F["gift_card_value_share"]] == pytest.approx(0.5) and row[F["resale_value_share"]] == pytest.approx(0.5)
    assert row[F["max_line_quantity"]] == 4 and row[F["total_quantity"]] == 5
    assert row[F["shop_local_hour"]] == 3 and row[F["customer_local_hour"]] == pytest.approx(3.5)
    assert row[F["locale_country_mismatch"]] == 1
    assert row[F["customer_prev_orders"]] == 0 and math.isnan(row[F["value_ratio_customer_mean"]])


def test_velocity_counts_only_earlier_orders_in_the_window() -> None:
    times = ["2025-03-01T10:00:00+00:00", "2025-03-01T11:00:00+00:00", "2025-03-01T11:30:00+00:00",
             "2025-03-01T11:30:00+00:00", "2025-03-02T09:00:00+00:00"]
    orders = [order(i, t, total_price=str(100 * (i + 1))) for i, t in enumerate(times)]
    X = FeatureBuilder().transform(list(reversed(orders)))[::-1]  # feeding order must not matter
    assert X[:, F["address_orders_2h"]].tolist() == [0, 1, 2, 2, 0]  # same-time orders do not see each other
    assert X[:, F["address_orders_24h"]].tolist() == [0, 1, 2, 2, 4]
    assert X[:, F["ip_orders_2h"]].tolist() == [0, 1, 2, 2, 0]
    assert X[:, F["email_prev_orders"]].tolist() == [0, 1, 2, 2, 4]
    assert X[4, F["value_ratio_customer_mean"]] == pytest.approx(500 / 250)


def test_rescoring_an_order_does_not_count_it_twice() -> None:
    builder = FeatureBuilder()
    first = order(1, "2025-03-01T10:00:00+00:00")
    builder.features(first)
    builder.features(first)
    assert builder.features(order(2, "2025-03-01T10:30:00+00:00"))[F["address_orders_2h"]] == 1


def test_no_feature_uses_later_orders(history) -> None:
    """Adding, changing or removing any later order never changes an order's features."""
    orders = history.orders[:3000]
    base = FeatureBuilder().transform(orders)
    rng = random.Random(3)
    for _ in range(5):
        cut = rng.randrange(500, 2900)
        # Same-time neighbours are not "later": keep the cut after the last order sharing its timestamp.
        while cut < len(orders) and orders[cut]["created_at"] == orders[cut - 1]["created_at"]:
            cut += 1
        later = copy.deepcopy(orders[cut:])
        for o in later:  # later orders copy the earlier ones' email/address/IP and grow in value
            twin = orders[rng.randrange(cut)]
            o.update(email=twin["email"], browser_ip=twin["browser_ip"], shipping_address=twin["shipping_address"],
                     customer=twin["customer"], total_price="99999.00")
        extra = [copy.deepcopy(o) | {"id": o["id"] + 1} for o in later[:50]]
        for variant in (orders[:cut], orders[:cut] + later, orders[:cut] + later + extra):
            X = FeatureBuilder().transform(variant)
            np.testing.assert_array_equal(X[:cut], base[:cut])
    # Training history works the same way: an order scored after fit_history sees only earlier orders.
    streamed = FeatureBuilder().fit_history(orders[2000:]).transform(orders[:2000])
    np.testing.assert_array_equal(streamed, base[:2000])

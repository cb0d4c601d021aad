"""The Great Expectations suite on canonical orders: a good batch passes, each rule names its breaker."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pandas as pd
import pytest

from oms_pipeline.quality import QualityReport, validate_orders

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def _orders(n: int = 3) -> pd.DataFrame:
    rows = []
    for i in range(n):
        rows.append(
            {
                "shop_domain": "oms-sandbox.myshopify.com",
                "order_id": str(5000 + i),
                "order_name": f"#{1001 + i}",
                "created_at": T0 + timedelta(hours=i),
                "updated_at": T0 + timedelta(hours=i, minutes=5),
                "currency": "USD",
                "presentment_currency": "EUR",
                "subtotal_price": Decimal("30.0000"),
                "total_discounts": Decimal("2.5000"),
                "total_shipping": Decimal("5.0000"),
                "total_tax": Decimal("2.4000"),
                "total_price": Decimal("37.4000"),
            }
        )
    return pd.DataFrame(rows)


def _lines(orders: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for order in orders.itertuples():
        # 10.00 + 20.00 = the 30.00 subtotal
        for line_id, amount in ((1, "10.0000"), (2, "20.0000")):
            rows.append(
                {
                    "shop_domain": order.shop_domain,
                    "order_id": order.order_id,
                    "line_id": f"{order.order_id}-{line_id}",
                    "line_total": Decimal(amount),
                }
            )
    return pd.DataFrame(rows)


def _plant_naive(orders: pd.DataFrame, column: str, row: int) -> None:
    # As a database driver may hand back a mix: Python datetimes, one of them without tzinfo.
    values = list(orders[column].astype(object))
    values[row] = datetime(2025, 3, 1, 11, 0)
    orders[column] = pd.Series(values, index=orders.index, dtype=object)


def _failed(report: QualityReport) -> dict[tuple[str, str | None], list[str]]:
    return {(r.expectation, r.column): r.unexpected_sample for r in report.results if not r.success}


def test_good_orders_pass():
    orders = _orders()
    report = validate_orders(orders, _lines(orders))
    assert report.success, report.summary()
    assert report.row_count == 3
    assert len(report.results) >= 15
    summary = report.summary()
    assert summary == {
        "success": True,
        "row_count": 3,
        "evaluated": len(report.results),
        "failed": 0,
        "failures": [],
    }


def test_tz_aware_datetime64_columns_and_float_money_pass():
    orders = _orders()
    orders["created_at"] = pd.to_datetime(orders["created_at"], utc=True)
    orders["updated_at"] = pd.to_datetime(orders["updated_at"], utc=True)
    for column in ("subtotal_price", "total_discounts", "total_shipping", "total_tax", "total_price"):
        orders[column] = orders[column].astype(float)
    orders.index = [10, 20, 30]  # a non-default index must not misalign helper columns
    report = validate_orders(orders, _lines(orders))
    assert report.success, report.summary()


def test_empty_frames_succeed_with_zero_rows():
    report = validate_orders(pd.DataFrame(), pd.DataFrame())
    assert report.success
    assert report.row_count == 0
    assert all(r.success and r.unexpected_count == 0 for r in report.results)


@pytest.mark.parametrize(
    ("plant", "expectation", "column"),
    [
        (
            lambda o, ln: o.__setitem__("order_id", ["5000", "5001", "5001"]),
            "expect_compound_columns_to_be_unique",
            "shop_domain,order_id",
        ),
        (
            lambda o, ln: o.at.__setitem__((1, "order_name"), None),
            "expect_column_values_to_not_be_null",
            "order_name",
        ),
        (
            lambda o, ln: o.at.__setitem__((1, "subtotal_price"), "not a number"),
            "expect_column_values_to_not_be_null",
            "subtotal_price",
        ),
        (
            lambda o, ln: o.at.__setitem__((1, "total_price"), Decimal("-1.0000")),
            "expect_column_values_to_be_between",
            "total_price",
        ),
        (
            lambda o, ln: o.at.__setitem__((1, "total_tax"), Decimal("-0.0100")),
            "expect_column_values_to_be_between",
            "total_tax",
        ),
        (
            lambda o, ln: o.at.__setitem__((1, "total_shipping"), Decimal("-5")),
            "expect_column_values_to_be_between",
            "total_shipping",
        ),
        (
            lambda o, ln: o.at.__setitem__((1, "total_discounts"), Decimal("-2")),
            "expect_column_values_to_be_between",
            "total_discounts",
        ),
        (
            lambda o, ln: o.at.__setitem__((1, "currency"), "XYZ"),
            "expect_column_values_to_be_in_set",
            "currency",
        ),
        (
            lambda o, ln: o.at.__setitem__((1, "presentment_currency"), "usd"),
            "expect_column_values_to_be_in_set",
            "presentment_currency",
        ),
        (lambda o, ln: _plant_naive(o, "created_at", 1), "expect_column_values_to_be_in_set", "created_at"),
        (
            lambda o, ln: o.at.__setitem__((1, "updated_at"), T0 - timedelta(days=1)),
            "expect_column_pair_values_a_to_be_greater_than_b",
            "updated_at",
        ),
    ],
    ids=[
        "duplicate-id",
        "null-name",
        "unparseable-subtotal",
        "negative-total",
        "negative-tax",
        "negative-shipping",
        "negative-discounts",
        "unknown-currency",
        "lowercase-presentment",
        "naive-created",
        "updated-before-created",
    ],
)
def test_each_rule_fails_on_a_planted_row_and_names_it(plant, expectation, column):
    orders = _orders()
    lines = _lines(orders)
    plant(orders, lines)
    report = validate_orders(orders, lines)
    assert not report.success
    failed = _failed(report)
    assert (expectation, column) in failed, report.summary()
    assert "5001" in failed[(expectation, column)]
    outcome = next(r for r in report.failures if (r.expectation, r.column) == (expectation, column))
    assert outcome.unexpected_count >= 1
    assert outcome.detail


def test_naive_datetime64_column_fails_every_row():
    orders = _orders()
    orders["created_at"] = pd.to_datetime(orders["created_at"]).dt.tz_localize(None)
    report = validate_orders(orders, _lines(orders))
    outcome = next(r for r in report.failures if r.column == "created_at")
    assert outcome.unexpected_count == 3
    assert outcome.unexpected_sample == ["5000", "5001", "5002"]


def test_line_totals_must_match_subtotal_within_a_cent():
    orders = _orders()
    lines = _lines(orders)
    # Exactly one cent off passes (per-line rounding); 1.01 cent off fails.
    lines.loc[lines["order_id"] == "5000", "line_total"] = [Decimal("10.0100"), Decimal("20.0000")]
    lines.loc[lines["order_id"] == "5001", "line_total"] = [Decimal("10.0101"), Decimal("20.0000")]
    report = validate_orders(orders, lines)
    failed = _failed(report)
    assert failed == {("expect_column_values_to_be_between", "subtotal_price"): ["5001"]}


def test_an_order_without_lines_fails_the_line_total_rule():
    orders = _orders()
    lines = _lines(orders)
    lines = lines[lines["order_id"] != "5002"]
    failed = _failed(validate_orders(orders, lines))
    assert failed == {("expect_column_values_to_be_between", "subtotal_price"): ["5002"]}


def test_samples_name_at_most_five_orders():
    orders = _orders(8)
    orders["currency"] = "???"
    report = validate_orders(orders, _lines(orders))
    outcome = next(r for r in report.failures if r.column == "currency")
    assert outcome.unexpected_count == 8
    assert len(outcome.unexpected_sample) == 5
    assert report.summary()["failures"][0]["unexpected_sample"] == outcome.unexpected_sample


def test_missing_column_is_a_clear_error():
    with pytest.raises(ValueError, match="total_tax"):
        validate_orders(_orders().drop(columns=["total_tax"]), pd.DataFrame())

"""Three orders landed in a warehouse, and the `orders_daily` rows the dbt project must make of them:
what the dbt project's tests on DuckDB (Dagster) and on PostgreSQL (dbt alone) both check."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import sqlalchemy as sa

from oms_pipeline.storage.schema import metadata, order_lines, orders

SHOP = "oms-sandbox.myshopify.com"
DAY = datetime(2025, 3, 1, 10, 0, tzinfo=UTC)


def order_row(order_id: str, created_at: datetime, **overrides) -> dict:
    """One `orders` row as the ingestion job lands it, with `overrides`."""
    row = {
        "shop_domain": SHOP,
        "order_id": order_id,
        "order_name": f"#{order_id}",
        "created_at": created_at,
        "updated_at": created_at + timedelta(minutes=5),
        "currency": "USD",
        "presentment_currency": "USD",
        "subtotal_price": Decimal("30.0000"),
        "total_discounts": Decimal("2.5000"),
        "total_shipping": Decimal("5.0000"),
        "total_tax": Decimal("2.4000"),
        "total_price": Decimal("34.9000"),
        "presentment_total_price": Decimal("34.9000"),
        "line_items_total": Decimal("30.0000"),
        "line_count": 2,
        "unit_count": 3,
        # Every row names every column: executemany takes its column list from the first row.
        "cancelled_at": None,
        "cancel_reason": None,
        "financial_status": "paid",
        "fulfillment_status": "unfulfilled",
        "source_name": "web",
        "tags": "",
        "is_test": False,
        "source_event_key": f"{order_id}@{created_at.isoformat()}",
        "ingested_at": created_at,
        "run_id": "test-run",
    }
    return row | overrides


def order_line_rows(order_id: str, created_at: datetime) -> list[dict]:
    """The two `order_lines` rows of an order (1 mug, 2 teas)."""
    common = {
        "shop_domain": SHOP,
        "order_id": order_id,
        "currency": "USD",
        "requires_shipping": True,
        "is_gift_card": False,
        "order_updated_at": created_at + timedelta(minutes=5),
        "total_discount": Decimal("0.0000"),
    }
    return [
        common
        | {
            "line_id": f"{order_id}1",
            "position": 0,
            "title": "Mug",
            "quantity": 1,
            "unit_price": Decimal("10.0000"),
            "line_total": Decimal("10.0000"),
        },
        common
        | {
            "line_id": f"{order_id}2",
            "position": 1,
            "title": "Tea",
            "quantity": 2,
            "unit_price": Decimal("10.0000"),
            "line_total": Decimal("20.0000"),
        },
    ]


def load_warehouse(url: str) -> None:
    """Three orders: two web/paid on 1 March (one cancelled), one without channel on 2 March UTC."""
    late_evening_new_york = datetime(2025, 3, 1, 21, 30, tzinfo=timezone(timedelta(hours=-5)))  # 2 March UTC
    rows = [
        order_row("1001", DAY),
        order_row(
            "1002", DAY + timedelta(hours=2), cancelled_at=DAY + timedelta(hours=3), cancel_reason="customer"
        ),
        order_row("1003", late_evening_new_york, source_name=None, financial_status="pending"),
    ]
    engine = sa.create_engine(url, poolclass=sa.NullPool)
    metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(sa.insert(orders), rows)
        conn.execute(
            sa.insert(order_lines), [line for r in rows for line in order_line_rows(r["order_id"], r["created_at"])]
        )
    engine.dispose()  # DuckDB: the dbt subprocess must be the only process holding the file


def mart_rows(url: str, schema: str) -> list[tuple]:
    engine = sa.create_engine(url, poolclass=sa.NullPool)
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "select order_date, channel, financial_status, currency, order_count, unit_count, "
                f"gross_sales, discounts, shipping, tax, cancelled_count from {schema}.orders_daily "
                "order by order_date, channel"
            )
        ).all()
    engine.dispose()
    return [tuple(r) for r in rows]


EXPECTED_MART = [
    (
        date(2025, 3, 1),
        "web",
        "paid",
        "USD",
        2,
        6,
        Decimal("69.8"),
        Decimal("5.0"),
        Decimal("10.0"),
        Decimal("4.8"),
        1,
    ),
    (
        date(2025, 3, 2),
        "unknown",
        "pending",
        "USD",
        1,
        3,
        Decimal("34.9"),
        Decimal("2.5"),
        Decimal("5.0"),
        Decimal("2.4"),
        0,
    ),
]


def normalise(rows: list[tuple]) -> list[tuple]:
    # Drivers differ in date/decimal scale representation; compare values.
    out = []
    for row in rows:
        day = row[0] if isinstance(row[0], date) else date.fromisoformat(str(row[0])[:10])
        out.append((day, *row[1:6], *(Decimal(str(v)).normalize() for v in row[6:10]), row[10]))
    return out

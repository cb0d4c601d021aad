"""The reconciliation input assets over the sandbox (real HTTP): store settlements, 3PL shipments and
carrier invoices land with their cursors and report bad records; end to end, an order handed to the
sandbox 3PL ships, the store records the same tracking number, the carrier bills it, and the marts
show no variance for the clean order and the planted ones for the others."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import sqlalchemy as sa
from dagster import Definitions, instance_for_test, materialize

from oms_pipeline.cli.jobs import QUIET_CONSOLE
from oms_pipeline.connectors.shipstation import ShipStationClient
from oms_pipeline.defs.ingestion.assets import normalized_orders, raw_order_events
from oms_pipeline.defs.reconciliation.assets import carrier_invoices, store_settlements, tpl_shipments
from oms_pipeline.defs.reconciliation.definitions import LANDING_JOB, build_reconciliation_definitions
from oms_pipeline.defs.reconciliation.resources import reconciliation_resource
from oms_pipeline.resources import resources_from_settings
from oms_pipeline.sandbox.carrier_billing import write_shipped_label_invoices
from oms_pipeline.sandbox.server import SandboxServer
from oms_pipeline.sandbox.shipstation import DEFAULT_SHIPSTATION_KEY, DEFAULT_SHIPSTATION_SECRET
from oms_pipeline.sandbox.store import SandboxStore
from oms_pipeline.services.reconcile_files import DBT_SCHEMA, run_reconciliation_models
from oms_pipeline.settings import OmsSettings
from oms_pipeline.storage.warehouse import Warehouse

LANDING = [store_settlements, tpl_shipments, carrier_invoices]
HEADER = "invoice_number,invoice_date,tracking_number,service,billed_weight_kg,charge_type,amount,currency\n"


class Clock:
    """The store's clock, moved by the test."""

    def __init__(self) -> None:
        self.at = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.at


def _settings(tmp_path: Path, sandbox: SandboxServer) -> OmsSettings:
    return OmsSettings(data_dir=tmp_path, warehouse_url=f"duckdb:///{tmp_path / 'wh.duckdb'}",
                       shopify_url=sandbox.url, shop_domain=sandbox.shop_domain, shopify_token=sandbox.token,
                       shopify_api="rest")


def _materialize(assets, settings: OmsSettings, instance) -> dict[str, dict]:
    resources = {**resources_from_settings(settings), "reconciliation": reconciliation_resource(settings)}
    result = materialize(assets, resources=resources, instance=instance, run_config=QUIET_CONSOLE)
    assert result.success
    return {e.materialization.asset_key.to_user_string():
            {k: getattr(v, "value", v) for k, v in e.materialization.metadata.items()}
            for e in result.get_asset_materialization_events()}


def _handoff(client: ShipStationClient, order: dict, *, drop_last_line: bool = False) -> None:
    """Hand a store order to the 3PL as the gateway's handoff does (ShipStation ``createorder``)."""
    lines = order["line_items"][:-1] if drop_last_line else order["line_items"]
    client.create_order({
        "orderKey": str(order["id"]), "orderNumber": order["name"].lstrip("#"), "orderDate": order["created_at"],
        "orderStatus": "awaiting_shipment", "requestedShippingService": "ground",
        "shipTo": {"name": order["shipping_address"]["name"], "street1": order["shipping_address"]["address1"],
                   "city": order["shipping_address"]["city"], "postalCode": order["shipping_address"]["zip"],
                   "country": order["shipping_address"]["country_code"]},
        "items": [{"lineItemKey": str(line["id"]), "sku": line["sku"], "name": line["name"],
                   "quantity": line["quantity"]} for line in lines],
        "weight": {"value": sum(line["grams"] * line["quantity"] for line in lines), "units": "grams"},
    })


def _shippable(store: SandboxStore, lines_at_least: int = 1) -> list[dict]:
    """Paid, open, unfulfilled orders with only shippable lines and no refund: clean to hand off."""
    with store.lock:
        return [r.order for r in store.records()
                if not r.faults and r.order["financial_status"] == "paid" and r.order["cancelled_at"] is None
                and r.order["fulfillment_status"] is None and not r.order.get("refunds")
                and len(r.order["line_items"]) >= lines_at_least
                and all(line["requires_shipping"] for line in r.order["line_items"])]


def test_landing_assets_over_the_sandbox_with_cursors_and_bad_records(tmp_path):
    clock = Clock()
    store = SandboxStore(seed=21, orders=40, rate_per_min=0.0, malformed_rate=0.15, clock=clock)
    with SandboxServer(store, seed=21) as sandbox, instance_for_test() as instance, \
            ShipStationClient(sandbox.url, DEFAULT_SHIPSTATION_KEY, DEFAULT_SHIPSTATION_SECRET) as tpl:
        settings = _settings(tmp_path, sandbox)
        for order in _shippable(store)[:3]:
            _handoff(tpl, order)
        clock.at += timedelta(days=1, hours=1)
        assert sandbox.shipstation.ship_due() == 3
        ship_day = (clock.at - timedelta(hours=1)).date()
        inbox = reconciliation_resource(settings).inbox
        files, planted = write_shipped_label_invoices(sandbox.shipstation.shipments(), ship_day, inbox)
        billed = sum(len(p.read_text(encoding="utf-8").splitlines()) - 1 for p in files.values())
        (inbox / "garbage.csv").write_text("not,an,invoice\n1,2,3\n", encoding="utf-8")
        (inbox / "one_bad_row.csv").write_text(
            HEADER + f"INV-X,{ship_day},1ZX1,ground,1.0,base,7.10,USD\nINV-X,{ship_day},1ZX2,ground,1.0,teleport,"
            "3.00,USD\n", encoding="utf-8")

        meta = _materialize(LANDING, settings, instance)

        served = len([r for r in store.records() if r.served_id])
        settled = meta["store_settlements"]
        assert settled["read"] == len(store.records()) and settled["cursor"]
        # Malformed orders are reported by order and field, never fatal; the rest landed.
        bad = store.malformed()
        assert 0 < settled["errors"] <= len(bad) and any("currency" in e or "id" in e for e in settled["error_list"])
        assert settled["rows"]["store_shipping_lines"] > 0 and settled["rows"]["store_fulfillments"] > 0
        assert settled["rows"]["store_refunds"] > 0 and settled["rows"]["store_transactions"] > 0
        shipped = meta["tpl_shipments"]
        assert shipped["read"] == 3 and shipped["rows"]["tpl_shipments"] == 3 and shipped["errors"] == 0
        assert shipped["cursor"] == ship_day.isoformat()
        invoices = meta["carrier_invoices"]
        assert sorted(invoices["files"]) == sorted([p.name for p in files.values()] + ["one_bad_row.csv"])
        assert [b.split(":")[0] for b in invoices["bad_files"]] == ["garbage.csv"]
        assert invoices["errors"] == 1 and "teleport" in invoices["error_list"][0]
        assert (inbox / "landed" / "one_bad_row.csv").exists() and (inbox / "rejected" / "garbage.csv").exists()
        assert not list(inbox.glob("*.csv"))
        wh = Warehouse(settings.resolved_warehouse_url)
        with wh.engine.connect() as conn:
            lines = conn.execute(sa.text("select count(*) from carrier_invoice_lines")).scalar_one()
            refunds = conn.execute(sa.text("select count(*) from store_refunds")).scalar_one()
        wh.dispose()
        assert lines == billed + 1  # and the good row of the file with a bad one
        assert planted and served > 0

        # Another pass: only what changed since the cursors is read; nothing is landed twice.
        store.advance(5)
        again = _materialize(LANDING, settings, instance)
        assert 0 < again["store_settlements"]["read"] < served
        assert again["carrier_invoices"]["files"] == [] and again["carrier_invoices"]["read"] == 0
        with wh.engine.connect() as conn:
            assert conn.execute(sa.text("select count(*) from carrier_invoice_lines")).scalar_one() == lines
            assert conn.execute(sa.text("select count(*) from store_refunds")).scalar_one() >= refunds
            assert conn.execute(sa.text("select count(*) from tpl_shipments")).scalar_one() == 3
        wh.dispose()


def test_definitions_have_the_landing_job(tmp_path):
    settings = OmsSettings(data_dir=tmp_path)
    # Wired as the code location does: with the shared resources beside.
    defs = Definitions.merge(build_reconciliation_definitions(settings),
                             Definitions(resources=resources_from_settings(settings)))
    job = defs.resolve_job_def(LANDING_JOB)
    assert {k.to_user_string() for k in job.asset_layer.executable_asset_keys} == {
        "store_settlements", "tpl_shipments", "carrier_invoices"}
    assert reconciliation_resource(OmsSettings(data_dir=tmp_path)).inbox == \
        (tmp_path / "carrier_invoices" / "inbox").resolve()


def test_handoff_to_marts_end_to_end(tmp_path):
    clock = Clock()
    store = SandboxStore(seed=8, orders=30, rate_per_min=0.0, malformed_rate=0.0, clock=clock)
    with SandboxServer(store, seed=8) as sandbox, instance_for_test() as instance, \
            ShipStationClient(sandbox.url, DEFAULT_SHIPSTATION_KEY, DEFAULT_SHIPSTATION_SECRET) as tpl:
        settings = _settings(tmp_path, sandbox)
        candidates = _shippable(store)
        multi = next(o for o in candidates if len(o["line_items"]) >= 2)
        clean, weight, surcharge, duplicate = [o for o in candidates if o is not multi][:4]
        # Handoff order = shipment id order = the bill's problem slots: clean, weight, surcharge, duplicate, clean.
        for order in (clean, weight, surcharge, duplicate):
            _handoff(tpl, order)
        _handoff(tpl, multi, drop_last_line=True)  # the 3PL is sent one line short: a quantity mismatch
        clock.at += timedelta(days=1, hours=1)
        assert sandbox.shipstation.ship_due() == 5
        shipments = {s["orderKey"]: s for s in sandbox.shipstation.shipments()}
        # The store recorded each 3PL shipment as a fulfillment with the label's tracking number.
        for order in (clean, weight, surcharge, duplicate, multi):
            fulfillment = store.get(order["id"]).order["fulfillments"][-1]
            assert fulfillment["tracking_number"] == shipments[str(order["id"])]["trackingNumber"]
        assert store.get(multi["id"]).order["fulfillment_status"] == "partial"
        ship_day = (clock.at - timedelta(hours=1)).date()
        inbox = reconciliation_resource(settings).inbox
        _files, planted = write_shipped_label_invoices(shipments.values(), ship_day, inbox)

        _materialize([raw_order_events, normalized_orders, *LANDING], settings, instance)
        wh = Warehouse(settings.resolved_warehouse_url)
        with wh.engine.connect() as conn:
            tracking = dict(conn.execute(sa.text(
                "select order_id, tracking_number from store_fulfillments where order_id = :o"),
                {"o": str(clean["id"])}).all())
        wh.dispose()
        assert tracking == {str(clean["id"]): shipments[str(clean["id"])]["trackingNumber"]}

        run_reconciliation_models(settings.resolved_warehouse_url, clock.at.date(), tmp_path / "dbt")
        with wh.engine.connect() as conn:
            rows = conn.execute(sa.text(
                f"select order_id, variance_type, amount from {DBT_SCHEMA}.reconciliation_variances")).all()
        wh.dispose()
        found = {(order_id, kind, Decimal(amount).quantize(Decimal("0.01"))) for order_id, kind, amount in rows}
        by_order = {order_id for order_id, _, _ in found}
        assert str(clean["id"]) not in by_order and str(multi["id"]) in by_order
        for charge in planted:
            assert (charge.order_key, charge.variance_type, charge.amount) in found, charge
        assert {kind for order_id, kind, _ in found if order_id == str(multi["id"])} == {"quantity_mismatch"}
        missing = multi["line_items"][-1]
        expected = Decimal(missing["price"]) * missing["quantity"]
        assert (str(multi["id"]), "quantity_mismatch", expected) in found
        for order in (weight, surcharge, duplicate):
            assert {kind for order_id, kind, _ in found if order_id == str(order["id"])} == \
                {c.variance_type for c in planted if c.order_key == str(order["id"])}

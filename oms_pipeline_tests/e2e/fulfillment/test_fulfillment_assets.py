"""The fulfillment assets on Dagster after the order flow, against the sandbox store and its 3PL: released
plans with 3PL lines are handed off once, every released shipment gets a slip, and a bulk PDF is written."""

from __future__ import annotations

from pathlib import Path

import pypdfium2 as pdfium
from dagster import AssetSelection, Definitions, define_asset_job, in_process_executor, instance_for_test

from oms_pipeline.cli.jobs import QUIET_CONSOLE
from oms_pipeline.definitions import build_definitions
from oms_pipeline.defs.fulfillment.definitions import build_fulfillment_definitions
from oms_pipeline.resources import shipstation_resource
from oms_pipeline.sandbox.server import SandboxServer
from oms_pipeline.sandbox.store import SandboxStore
from oms_pipeline.settings import OmsSettings
from oms_pipeline.storage.fulfillment import FulfillmentStore
from oms_pipeline.storage.warehouse import Warehouse

# The order flow up to the writeback, then the fulfillment assets.
FLOW = AssetSelection.assets("packing_slips").upstream().required_multi_asset_neighbors()


def _run(settings: OmsSettings, instance) -> tuple[str, dict[str, dict]]:
    base = build_definitions(settings)
    job = define_asset_job("flow_with_fulfillment", selection=FLOW,
                           executor_def=in_process_executor)
    wired = any(key.to_user_string() == "tpl_handoff" for a in base.assets for key in a.keys)
    extra = [] if wired else build_fulfillment_definitions().assets  # until the lead wires them in
    defs = Definitions.merge(base, Definitions(assets=extra, jobs=[job]))
    result = defs.resolve_job_def("flow_with_fulfillment").execute_in_process(run_config=QUIET_CONSOLE,
                                                                             instance=instance)
    assert result.success
    meta = {}
    for event in result.get_asset_materialization_events():
        mat = event.materialization
        meta[mat.asset_key.to_user_string()] = {k: getattr(v, "value", v) for k, v in mat.metadata.items()}
    return result.run_id, meta


def test_handoff_and_slips_after_the_order_flow(tmp_path):
    store = SandboxStore(seed=11, orders=24, rate_per_min=0.0, malformed_rate=0.0)
    with SandboxServer(store, seed=11) as sandbox, instance_for_test() as instance:
        settings = OmsSettings(data_dir=tmp_path, warehouse_url=f"duckdb:///{tmp_path / 'wh.duckdb'}",
                               shopify_url=sandbox.url, shop_domain=sandbox.shop_domain,
                               shopify_token=sandbox.token, rollout_handoff="auto")
        assert shipstation_resource(settings).url == sandbox.url  # the sandbox's own 3PL
        run_id, meta = _run(settings, instance)
        handoff, slips = meta["tpl_handoff"], meta["packing_slips"]
        wh = Warehouse(settings.resolved_warehouse_url)
        decisions, shipments = FulfillmentStore(wh.engine).released_plans(run_id)
        tpl_orders = set(shipments.loc[shipments["location_kind"] == "3pl", "order_id"])
        assert len(decisions) > 0 and meta["fulfillment_plans"]["handoffs_to_3pl"] == len(tpl_orders) > 0
        assert handoff["handed_off"] == len(tpl_orders) == sandbox.shipstation.order_count()
        assert handoff["earlier_writes_finished"] == 0 and handoff["left_open"] == 0
        # One slip per released shipment (order, location, service), and a bulk PDF of them all.
        expected = len(shipments.groupby(["order_id", "location_id", "service_id"]))
        assert slips["slips"] == expected
        bulk = Path(slips["bulk_pdf"])
        assert bulk.parent.parent == tmp_path.resolve() / "packing_slips"
        assert len(pdfium.PdfDocument(bulk.read_bytes())) == expected
        assert all(Path(p).is_file() for p in slips["slip_files"])
        first = pdfium.PdfDocument(Path(slips["first_slip"]).read_bytes())[0].get_textpage().get_text_range()
        names = set(wh.decisions.decisions_of_run(run_id)["order_name"])
        assert "Oms Sandbox" in first and "Packing slip" in first
        assert any(f"Order {name}" in first for name in names)
        # The 3PL got the full address, read from the store at send time; the audit trail has none of it.
        audit = wh.writeback.audit().to_json()
        for order_id in tpl_orders:
            truth = store.get(int(order_id)).order["shipping_address"]
            ship_to = sandbox.shipstation.get_order(order_id)["shipTo"]
            assert ship_to["street1"] == truth["address1"] and ship_to["postalCode"] == truth["zip"]
            assert truth["address1"] not in audit
        # Another pass decides nothing new and hands nothing off again.
        _, again = _run(settings, instance)
        assert again["tpl_handoff"]["handed_off"] == 0 and sandbox.shipstation.order_count() == len(tpl_orders)
        wh.dispose()

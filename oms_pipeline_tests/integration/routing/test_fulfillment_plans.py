"""The planning step over the warehouse: the batch optimizer against greedy, stored reasons, plan writes,
rate shopping against the sandbox's carrier API over HTTP, and migration 6."""

from __future__ import annotations

import functools
from datetime import UTC, datetime
from decimal import Decimal

import pytest
import sqlalchemy as sa

from oms_pipeline.connectors.carrier_rates import CarrierRatesClient, RateCache
from oms_pipeline.domain.decisions import load_triage_rules
from oms_pipeline.domain.notes.local import LocalNoteEngine
from oms_pipeline.domain.writeback.actions import Workflow, WriteAction
from oms_pipeline.quality.decision_expectations import validate_decisions
from oms_pipeline.sandbox.carriers import DEFAULT_CARRIER_API_KEY
from oms_pipeline.sandbox.network import sandbox_network
from oms_pipeline.sandbox.server import SandboxServer
from oms_pipeline.sandbox.store import SandboxStore
from oms_pipeline.services.decisions import DecisionPolicy, triage_pending
from oms_pipeline.services.notes import parse_pending_notes
from oms_pipeline.services.planning import PLANNABLE_STATES, RoutingPolicy, plan_decided
from oms_pipeline.storage import schema
from oms_pipeline.storage.warehouse import Warehouse
from oms_pipeline_tests.support.landing import land

SHOP = "oms-sandbox.myshopify.com"
NOW = datetime(2026, 11, 24, 12, tzinfo=UTC)
POLICY = DecisionPolicy(rules=load_triage_rules(), network=sandbox_network())
NOTES = functools.cache(LocalNoteEngine.train)  # the notes step's model, trained once per module


def _triage(wh, shop, policy, run_id, now):
    """The order flow's notes step, then its triage step (which only reads the note tags stored)."""
    parse_pending_notes(wh, shop, NOTES(), now, run_id)
    return triage_pending(wh, shop, policy, run_id, now)
FIGURES = {"total_cost", "greedy_cost", "cost_saved", "split_rate", "on_time_share", "solver_gap", "solver_status",
           "solver_seconds", "lower_bound", "seconds"}


@pytest.fixture(scope="module")
def store() -> SandboxStore:
    return SandboxStore(seed=3, orders=120, rate_per_min=0.0, malformed_rate=0.0,
                        clock=lambda: datetime(2026, 11, 20, tzinfo=UTC))


@pytest.fixture
def triaged(tmp_path, store) -> Warehouse:
    """A warehouse whose orders run-1 decided (triage only: nothing planned yet)."""
    wh = Warehouse(f"duckdb:///{tmp_path / 'wh.duckdb'}")
    wh.migrate()
    land(wh, [r.rest() for r in store.records()])
    summary = _triage(wh, SHOP, POLICY, "run-1", NOW)
    assert summary.decided == 120 and len(wh.decisions.shipments_of_run("run-1")) == 0
    return wh


def _plan_writes(wh: Warehouse, run_id: str) -> dict[str, WriteAction]:
    return {a.order_id: a for a in wh.outbox.of_run(run_id) if a.workflow is Workflow.ROUTING}


def test_the_batch_optimizer_plans_ready_orders_no_costlier_than_greedy(triaged):
    wh = triaged
    summary = plan_decided(wh, SHOP, POLICY.network, POLICY.rules, "run-1", RoutingPolicy(time_limit_s=5.0))
    decisions = wh.decisions.decisions_of_run("run-1")
    ready = decisions[decisions["state"].isin(PLANNABLE_STATES)]
    assert summary.to_plan == summary.planned == len(ready) > 0 and summary.skipped == []
    figures = summary.metadata()
    assert FIGURES <= set(figures)
    # The optimizer is never worse than greedy on the same batch, and says how far from its bound it is.
    assert figures["total_cost"] <= figures["greedy_cost"] and figures["cost_saved"] >= 0
    assert figures["solver_status"] in ("optimal", "time_limit") and 0 <= figures["solver_gap"] <= 0.01
    assert 0 <= figures["split_rate"] <= 1 and 0 <= figures["on_time_share"] <= 1

    shipments = wh.decisions.shipments_of_run("run-1")
    # Only ready orders are planned: held and exception orders take no stock.
    assert set(shipments["order_id"]) <= set(ready["order_id"]) and len(shipments) >= summary.shipments > 0
    assert shipments["reason"].str.contains("; next best ").all()
    assert shipments["carrier"].isna().all()  # no carrier rates API configured: nothing rate-shopped
    assert validate_decisions(decisions, shipments).success
    # The decision rows carry the plan summary; the plan write shows every shipment's reason.
    planned = decisions.set_index("order_id").loc[list(set(shipments["order_id"]))]
    assert planned["plan_summary"].notna().all() and (planned["planned_units"] > 0).all()
    writes = _plan_writes(wh, "run-1")
    assert set(writes) == set(decisions.loc[decisions["plan_summary"].notna(), "order_id"])
    some = shipments.iloc[0]
    kind, text = writes[some["order_id"]].payload["metafields"]["plan"]
    assert kind == "multi_line_text_field" and some["reason"] in text

    # Planning the run again (a retried step) replaces what it stored: no doubled lines or writes.
    again = plan_decided(wh, SHOP, POLICY.network, POLICY.rules, "run-1", RoutingPolicy(time_limit_s=5.0))
    assert again.planned == summary.planned
    assert len(wh.decisions.shipments_of_run("run-1")) == len(shipments)
    assert len(_plan_writes(wh, "run-1")) == len(writes)
    keys = [a.idempotency_key for a in wh.outbox.of_run("run-1")]
    assert len(keys) == len(set(keys))


def test_a_later_run_plans_what_a_run_killed_after_triage_decided(triaged):
    wh = triaged  # run-1 decided, then died before its planning step
    summary = plan_decided(wh, SHOP, POLICY.network, POLICY.rules, "run-2", RoutingPolicy(time_limit_s=5.0))
    decisions = wh.decisions.decisions_of_run("run-1")
    ready = decisions[decisions["state"].isin(PLANNABLE_STATES)]
    assert summary.planned == summary.earlier_decisions == len(ready) > 0
    assert set(decisions.loc[decisions["state"].isin(PLANNABLE_STATES), "plan_run_id"]) == {"run-2"}
    # The plan's writes (and the 3PL handoffs) wait in the outbox under the run that planned them, for its gate.
    assert set(_plan_writes(wh, "run-2")) == set(decisions.loc[decisions["plan_summary"].notna(), "order_id"])
    handoffs = [a for a in wh.outbox.of_run("run-2") if a.workflow is Workflow.FULFILLMENT_HANDOFF]
    assert len(handoffs) == summary.handoffs > 0
    assert wh.outbox.counts() == {"awaiting_gate": len(wh.outbox.of_run("run-1")) + len(wh.outbox.of_run("run-2"))}
    gated, lines = wh.decisions.checked_by_gate("run-2")
    assert set(gated["order_id"]) == set(ready["order_id"]) and len(lines) > 0
    # Nothing is left to plan: a third run plans nothing.
    assert plan_decided(wh, SHOP, POLICY.network, POLICY.rules, "run-3", RoutingPolicy(time_limit_s=5.0)).planned == 0


def test_rate_shopping_against_the_sandbox_carrier_api(triaged, store):
    wh = triaged
    ticks = [0.0]
    cache = RateCache(ttl_s=60.0, clock=lambda: ticks[0])
    with SandboxServer(store) as sandbox:
        routing = RoutingPolicy(time_limit_s=5.0, carrier_rates_url=sandbox.url,
                                carrier_rates_api_key=DEFAULT_CARRIER_API_KEY)
        with CarrierRatesClient(sandbox.url, DEFAULT_CARRIER_API_KEY, cache=cache) as client:
            summary = plan_decided(wh, SHOP, POLICY.network, POLICY.rules, "run-1", routing, client)
            asked = sandbox.carriers.shipments_created
            assert summary.rate_shopped == summary.shipments > 0 and summary.rates_unavailable is None
            assert asked == cache.misses > 0
            shipments = wh.decisions.shipments_of_run("run-1")
            assert shipments["carrier"].notna().all() and shipments["rate_reason"].notna().all()
            # The chosen quote meets the promise (the sandbox's network promises 5 days) at the lowest rate quoted.
            first = shipments.iloc[0]
            assert isinstance(first["carrier_rate"], Decimal) and first["carrier_rate"] > 0
            assert first["rate_reason"].startswith(f"{first['location_id']} {first['carrier']} "
                                                   f"{first['carrier_service']} ${first['carrier_rate']:.2f}")
            kind, text = _plan_writes(wh, "run-1")[first["order_id"]].payload["metafields"]["plan"]
            assert f"carrier: {first['rate_reason']}" in text

            # Within the cache's expiry, planning again asks the carrier nothing; after it, it asks again.
            plan_decided(wh, SHOP, POLICY.network, POLICY.rules, "run-1", routing, client)
            assert sandbox.carriers.shipments_created == asked
            ticks[0] += 61.0
            plan_decided(wh, SHOP, POLICY.network, POLICY.rules, "run-1", routing, client)
            assert sandbox.carriers.shipments_created == 2 * asked

        # A refused key: the plan is still stored, with its rate-card services, and the step says why.
        with CarrierRatesClient(sandbox.url, "EZTKwrong", cache=RateCache()) as client:
            refused = plan_decided(wh, SHOP, POLICY.network, POLICY.rules, "run-1", routing, client)
    assert refused.rate_shopped == 0 and "APIKEY.INACTIVE" in refused.rates_unavailable
    assert refused.shipments == summary.shipments
    assert wh.decisions.shipments_of_run("run-1")["carrier"].isna().all()


def _rate_columns(wh: Warehouse) -> dict[str, object]:
    with wh.engine.connect() as conn:
        cols = ", ".join(name for name, _ in schema.PLANNED_SHIPMENT_RATE_COLUMNS)
        return dict(conn.execute(sa.text(f"SELECT {cols} FROM planned_shipments")).mappings().first() or {})


@pytest.mark.parametrize("backend", ["duckdb", "postgresql"])
def test_migration_6_adds_the_rate_columns_to_an_older_warehouse(backend, request):
    url = request.getfixturevalue("duckdb_url" if backend == "duckdb" else "postgres_schema_url")
    wh = Warehouse(url)
    wh.migrate()
    # A warehouse from before migration 6: planned_shipments without the rate columns.
    with wh.engine.begin() as conn:
        for name, _ in schema.PLANNED_SHIPMENT_RATE_COLUMNS:
            conn.execute(sa.text(f"ALTER TABLE planned_shipments DROP COLUMN {name}"))
        conn.execute(sa.delete(schema.schema_migrations).where(schema.schema_migrations.c.version == 6))
        conn.execute(sa.insert(schema.planned_shipments).values(
            shop_domain=SHOP, order_id="1", trace_id="t", location_id="DC", service_id="ground", sku="A",
            quantity=1, stock_at_location=1, shipment_cost=1.0, transit_days=1, reason="r", run_id="old"))
    assert wh.migrate() == [6]
    assert _rate_columns(wh) == dict.fromkeys(name for name, _ in schema.PLANNED_SHIPMENT_RATE_COLUMNS)
    assert wh.migrate() == []
    wh.dispose()

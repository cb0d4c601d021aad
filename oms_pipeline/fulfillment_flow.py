"""Fulfillment after a plan is released: hand the 3PL its orders (through the gateway) and print
packing slips. Loads from the warehouse, calls the pure builders, writes files; assets stay thin."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd

from oms_pipeline.documents.packing_slips import write_slips
from oms_pipeline.domain.decisions.signals import NoteTag
from oms_pipeline.domain.notes.model import NoteParse
from oms_pipeline.domain.packing_slips import PackingSlip, packing_slips
from oms_pipeline.domain.writeback.handoff import handoff_actions, is_tpl_location
from oms_pipeline.gateway.gateway import GatewayReport, WritebackGateway
from oms_pipeline.storage.fulfillment import FulfillmentStore
from oms_pipeline.storage.notes import NoteTagStore
from oms_pipeline.storage.warehouse import Warehouse


@dataclass
class HandoffRun:
    """What one handoff pass did."""

    released_orders: int = 0
    tpl_orders: int = 0  # released orders with lines at a 3PL location: one action each
    unreadable: list[str] = field(default_factory=list)
    report: GatewayReport = field(default_factory=GatewayReport)


@dataclass
class SlipRun:
    """The packing slips of one run: files written and what they show."""

    paths: list[Path] = field(default_factory=list)
    bulk: Path | None = None
    without_prices: int = 0
    with_gift_message: int = 0
    unreadable: list[str] = field(default_factory=list)


def _notes(wh: Warehouse, shop: str, order_ids: list[str]) -> dict[str, NoteParse]:
    return {oid: stored.parse for oid, stored in NoteTagStore(wh.engine).latest(shop, order_ids).items()}


def _gift_messages(notes: Mapping[str, NoteParse]) -> dict[str, str | None]:
    """The gift message of each order whose note was tagged gift (and had one)."""
    return {oid: p.gift_message for oid, p in notes.items() if NoteTag.GIFT in p.tags and p.gift_message}


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return frame.to_dict("records") if not frame.empty else []


def handoff_released(wh: Warehouse, gateway: WritebackGateway, shop: str, run_id: str,
                     unit_weight_kg: Mapping[str, float] | None = None) -> HandoffRun:
    """Hand the 3PL every order this run released with lines at a 3PL location, through the gateway
    (audited, idempotent by ledger key, subject to the fulfillment_handoff rollout mode)."""
    store = FulfillmentStore(wh.engine)
    decisions, shipments = store.released_plans(run_id)
    run = HandoffRun(released_orders=len(decisions))
    if decisions.empty:
        return run
    tpl_ids = sorted({str(o) for o, loc in zip(shipments["order_id"], shipments["location_id"], strict=True)
                      if is_tpl_location(str(loc))}) if not shipments.empty else []
    orders, run.unreadable = store.orders(shop, tpl_ids)
    actions = handoff_actions(_records(decisions), _records(shipments), orders, shop,
                              unit_weight_kg=unit_weight_kg, gift_messages=_gift_messages(_notes(wh, shop, tpl_ids)))
    run.tpl_orders = len(actions)
    run.report = gateway.run(actions, run_id, batch_orders=max(1, len(decisions)))
    return run


def packing_slips_of_run(wh: Warehouse, shop: str, run_id: str, store_name: str) -> tuple[list[PackingSlip], list[str]]:
    """The slips of every shipment this run released (all locations), and orders that could not be read."""
    store = FulfillmentStore(wh.engine)
    decisions, shipments = store.released_plans(run_id)
    if decisions.empty or shipments.empty:
        return [], []
    ids = sorted({str(o) for o in decisions["order_id"]})
    orders, unreadable = store.orders(shop, ids)
    notes = _notes(wh, shop, ids)
    slips: list[PackingSlip] = []
    for order_id, planned in shipments.groupby("order_id", sort=True):
        order = orders.get(str(order_id))
        if order is None:
            continue
        note = notes.get(str(order_id))
        slips += packing_slips(order, _records(planned), store_name, note_tags=note.tags if note else (),
                               gift_message=note.gift_message if note else None)
    return slips, unreadable


def write_packing_slips(wh: Warehouse, shop: str, run_id: str, store_name: str, data_dir: Path,
                        day: date) -> SlipRun:
    """Render the run's slips under ``<data_dir>/packing_slips/<day>/``: one PDF each and a bulk PDF."""
    slips, unreadable = packing_slips_of_run(wh, shop, run_id, store_name)
    folder = data_dir / "packing_slips" / day.isoformat()
    paths, bulk = write_slips(slips, folder, f"bulk_{run_id[:8]}")
    return SlipRun(paths=paths, bulk=bulk, without_prices=sum(not s.show_prices for s in slips),
                   with_gift_message=sum(s.gift_message is not None for s in slips), unreadable=unreadable)

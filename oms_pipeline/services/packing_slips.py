"""Fulfillment after a plan is released: packing slips. (The 3PL handoff is a write the plan records in
the outbox; the writeback sends it.) Loads from the warehouse, calls the pure builders, writes files;
assets stay thin."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd

from oms_pipeline.documents.packing_slips import write_slips
from oms_pipeline.domain.notes.model import NoteParse
from oms_pipeline.domain.packing_slips import PackingSlip, packing_slips
from oms_pipeline.storage.fulfillment import FulfillmentStore
from oms_pipeline.storage.notes import NoteTagStore
from oms_pipeline.storage.warehouse import Warehouse


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


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return frame.to_dict("records") if not frame.empty else []


def packing_slips_of_run(wh: Warehouse, shop: str, run_id: str, store_name: str) -> tuple[list[PackingSlip], list[str]]:
    """The slips of every shipment this run planned and released (all locations), and orders that could not
    be read."""
    store = FulfillmentStore(wh.engine)
    decisions, shipments = store.released_plans(run_id)
    if decisions.empty or shipments.empty:
        return [], []
    ids = sorted({str(o) for o in decisions["order_id"]})
    current = wh.current_orders(shop, order_ids=ids)
    orders, unreadable = current.by_id(), [u.order_id for u in current.unreadable]
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

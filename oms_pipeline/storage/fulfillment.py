"""Reads the fulfillment steps need: the plans a run released and the orders they are for."""

from __future__ import annotations

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from oms_pipeline.storage import schema
from oms_pipeline.storage.bulk import read_frame

RELEASED_STATES = ("ready", "released")


class FulfillmentStore:
    """Released decisions with their planned shipments, and the orders as last landed."""

    def __init__(self, engine: Engine):
        self.engine = engine

    def released_plans(self, run_id: str) -> tuple[pd.DataFrame, pd.DataFrame]:
        """(decisions, planned shipment lines) of the releasing decisions the run planned (its own, and
        any an earlier run made and did not live to plan)."""
        d, p = schema.order_decisions, schema.planned_shipments
        decisions = read_frame(self.engine, sa.select(d).where(d.c.plan_run_id == run_id,
                                                              d.c.state.in_(RELEASED_STATES)))
        shipments = read_frame(self.engine, sa.select(p).where(p.c.run_id == run_id))
        if not decisions.empty and not shipments.empty:
            keys = set(zip(decisions["order_id"], decisions["trace_id"], strict=True))
            mask = [(o, t) in keys for o, t in zip(shipments["order_id"], shipments["trace_id"], strict=True)]
            shipments = shipments[mask]
        return decisions, shipments

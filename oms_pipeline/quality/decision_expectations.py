"""Great Expectations suite on a run's decisions and fulfillment plans: the gate before any writeback.

One decision per order; fraud scores and confidences in [0, 1]; outcomes from the known set; every
exception with a reason; no plan ships more units of a SKU than were ordered, or draws more from a
location than it had in stock (which also refuses a location without stock).
"""

from __future__ import annotations

import json
from functools import lru_cache

import pandas as pd

from oms_pipeline.quality.order_expectations import ORDER_REF, GxSuite, QualityReport, SuiteRule

OUTCOMES = ("standard", "flagged", "exception")
DECISION_COLUMNS = ("shop_domain", "order_id", "outcome", "reasons", "fraud_score", "confidence", "trace_id")
SHIPMENT_COLUMNS = ("order_id", "trace_id", "location_id", "sku", "quantity", "stock_at_location")
PLANNED_COLUMNS = ("order_id", "trace_id", "sku", "ordered")


def _rules() -> list[SuiteRule]:
    import great_expectations.expectations as gxe

    return [
        SuiteRule(gxe.ExpectCompoundColumnsToBeUnique(column_list=["shop_domain", "order_id"]), "shop_domain,order_id",
              "one decision per order in a run"),
        SuiteRule(gxe.ExpectColumnValuesToNotBeNull(column="fraud_score"), "fraud_score", "fraud_score is set"),
        SuiteRule(gxe.ExpectColumnValuesToBeBetween(column="fraud_score", min_value=0, max_value=1), "fraud_score",
              "fraud_score is in [0, 1]"),
        SuiteRule(gxe.ExpectColumnValuesToBeBetween(column="confidence", min_value=0, max_value=1), "confidence",
              "confidence is in [0, 1]"),
        SuiteRule(gxe.ExpectColumnValuesToBeInSet(column="outcome", value_set=list(OUTCOMES)), "outcome",
              "outcome is standard, flagged or exception"),
        SuiteRule(gxe.ExpectColumnValuesToBeInSet(column="exception_without_reason", value_set=[False]), "reasons",
              "every exception has a reason"),
        SuiteRule(gxe.ExpectColumnValuesToBeBetween(column="units_beyond_order", max_value=0), "planned_shipments",
              "no plan ships more units of a SKU than the order asks for"),
        SuiteRule(gxe.ExpectColumnValuesToBeBetween(column="units_beyond_stock", max_value=0), "planned_shipments",
              "no plan draws more units from a location than it has in stock"),
    ]


@lru_cache(maxsize=1)
def _suite() -> GxSuite:
    return GxSuite("order_decisions", _rules())


def _validation_frame(decisions: pd.DataFrame, shipments: pd.DataFrame, ordered: pd.DataFrame) -> pd.DataFrame:
    frame = decisions[list(DECISION_COLUMNS)].copy()
    reason_count = frame["reasons"].map(lambda text: len(json.loads(text or "[]")))
    frame["exception_without_reason"] = (frame["outcome"] == "exception") & (reason_count == 0)
    beyond_order = pd.Series(0, index=frame.index, dtype="int64")
    beyond_stock = pd.Series(0, index=frame.index, dtype="int64")
    if len(shipments):
        key = ["order_id", "trace_id"]
        planned = shipments.groupby([*key, "sku"], as_index=False)["quantity"].sum()
        asked = ordered.groupby([*key, "sku"], as_index=False)["ordered"].sum() if len(ordered) else \
            pd.DataFrame(columns=[*key, "sku", "ordered"])
        merged = planned.merge(asked, on=[*key, "sku"], how="left").fillna({"ordered": 0})
        merged["beyond"] = merged["quantity"] - merged["ordered"]
        per_order = merged.groupby(key)["beyond"].max()
        # Units drawn per (location, SKU) across the whole run's plan, against that location's stock.
        drawn = shipments.groupby(["location_id", "sku"], as_index=False).agg(
            quantity=("quantity", "sum"), stock=("stock_at_location", "max"))
        drawn["beyond"] = drawn["quantity"] - drawn["stock"]
        lines = shipments.merge(drawn[["location_id", "sku", "beyond"]], on=["location_id", "sku"])
        per_order_stock = lines.groupby(key)["beyond"].max()
        index = pd.MultiIndex.from_frame(frame[key])
        beyond_order = pd.Series(per_order.reindex(index).fillna(0).to_numpy(), index=frame.index).astype("int64")
        beyond_stock = pd.Series(per_order_stock.reindex(index).fillna(0).to_numpy(),
                                 index=frame.index).astype("int64")
    frame["units_beyond_order"] = beyond_order
    frame["units_beyond_stock"] = beyond_stock
    frame[ORDER_REF] = frame["order_id"].astype(str)
    return frame


def ordered_units(decisions: pd.DataFrame) -> pd.DataFrame:
    """Ordered units per SKU of each decision (bundles expanded), from ``order_decisions.ordered_by_sku``."""
    rows = [{"order_id": d.order_id, "trace_id": d.trace_id, "sku": sku, "ordered": qty}
            for d in decisions.itertuples() for sku, qty in json.loads(d.ordered_by_sku or "{}").items()]
    return pd.DataFrame(rows, columns=list(PLANNED_COLUMNS))


def validate_decisions(decisions: pd.DataFrame, shipments: pd.DataFrame,
                       ordered: pd.DataFrame | None = None) -> QualityReport:
    """Validate a run's decisions (rows of ``order_decisions``), planned shipment lines (rows of
    ``planned_shipments``) and ordered units per SKU (``order_id, trace_id, sku, ordered``; default:
    from the decisions' ``ordered_by_sku``).

    Raises:
        ValueError: a column the suite needs is missing from a non-empty frame.
    """
    suite = _suite()
    if len(decisions) == 0:
        return suite.passing()
    ordered = ordered_units(decisions) if ordered is None else ordered
    for frame, columns, name in ((decisions, DECISION_COLUMNS, "decisions"), (shipments, SHIPMENT_COLUMNS,
                                 "shipments"), (ordered, PLANNED_COLUMNS, "ordered")):
        missing = [c for c in columns if c not in frame.columns]
        if len(frame) and missing:
            raise ValueError(f"{name} frame lacks columns: {', '.join(missing)}")
    return suite.validate(_validation_frame(decisions, shipments, ordered))

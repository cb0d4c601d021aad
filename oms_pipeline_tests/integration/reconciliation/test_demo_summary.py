"""The demo's reconciliation summary matches planted carrier problems to the variances found."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pandas as pd

from oms_pipeline.cli.demo import _reconciliation_summary
from oms_pipeline.sandbox.carrier_billing import PlantedCharge


def test_planted_problems_are_matched_by_order_type_and_amount_including_unknown_labels():
    planted = [PlantedCharge("1ZA", "1001", "weight_overbilled", Decimal("3.10")),
               PlantedCharge("1ZUNKNOWN", None, "charge_without_shipment", Decimal("9.99")),
               PlantedCharge("1ZB", "1002", "duplicate_charge", Decimal("4.00"))]
    # As read back from the mart: a missing order id comes back as NaN, amounts as decimals/floats.
    variances = pd.DataFrame({"order_id": ["1001", np.nan, "1002"],
                              "variance_type": ["weight_overbilled", "charge_without_shipment", "duplicate_charge"],
                              "amount": [Decimal("3.1000"), 9.99, Decimal("4.50")]})
    finance = {"success": True, "as_of": "2026-11-04", "variances": variances, "by_type": {}, "totals": {}}
    summary = _reconciliation_summary(3, planted, {"success": True}, finance)
    assert summary["planted"] == 3
    assert summary["planted_found"] == 2  # the duplicate was found with another amount: not a match
    assert "variances" not in summary and summary["success"]
    assert not _reconciliation_summary(0, [], {"success": False}, {**finance, "variances": None})["success"]

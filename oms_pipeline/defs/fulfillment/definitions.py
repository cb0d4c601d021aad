"""Fulfillment (3PL handoff and packing slips) as one Definitions object."""

from dagster import Definitions

from oms_pipeline.defs.fulfillment.assets import packing_slips, tpl_handoff


def build_fulfillment_definitions() -> Definitions:
    """The ``tpl_handoff`` and ``packing_slips`` assets (they run after ``store_writeback`` in the order flow)."""
    return Definitions(assets=[tpl_handoff, packing_slips])

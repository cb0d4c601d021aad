"""The Shopify access scopes each part of the pipeline needs (Admin API 2025-01).

Reading orders always needs ``read_orders``; holds read the fulfillment orders they hold. A workflow
that writes (rollout mode ``assisted`` or ``auto``) needs the write scope of its mutations: tags,
metafields and note lines are ``orderUpdate``-family writes (``write_orders``); holds and their
release act on merchant-managed fulfillment orders. Fraud labels come from Shopify Payments disputes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from oms_pipeline.domain.writeback.actions import RolloutMode, Workflow

ALWAYS = {"read_orders": "reading orders", "read_shopify_payments_disputes": "fraud labels (disputes)"}
WRITES: dict[Workflow, tuple[str, ...]] = {
    Workflow.TRIAGE_TAGS: ("write_orders",),
    Workflow.HOLDS: ("read_merchant_managed_fulfillment_orders", "write_merchant_managed_fulfillment_orders"),
    Workflow.ROUTING: ("write_orders",),
    Workflow.NOTIFICATIONS: ("write_orders",),
    Workflow.FULFILLMENT_HANDOFF: (),  # reads the order's addresses only (read_orders)
}


def required_scopes(modes: Mapping[Workflow, RolloutMode]) -> dict[str, list[str]]:
    """Each scope the deployment needs -> what needs it (workflows in shadow mode write nothing)."""
    needed: dict[str, list[str]] = {scope: [why] for scope, why in ALWAYS.items()}
    for workflow, mode in modes.items():
        if mode is not RolloutMode.SHADOW:
            for scope in WRITES[workflow]:
                needed.setdefault(scope, []).append(f"{workflow.value} ({mode.value})")
    return needed


def missing_scopes(granted: Iterable[str], modes: Mapping[Workflow, RolloutMode]) -> dict[str, list[str]]:
    """The needed scopes the app was not granted, each with what needs it. A ``write_`` scope implies
    its ``read_`` one, as in Shopify."""
    have = set(granted)
    have |= {"read_" + s.removeprefix("write_") for s in have if s.startswith("write_")}
    return {scope: why for scope, why in required_scopes(modes).items() if scope not in have}

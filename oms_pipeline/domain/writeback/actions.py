"""What the gateway can be asked to do: workflows, rollout modes, action kinds, and one action.

An action's idempotency key is derived from (shop, order id, order version, action, payload): the
same intent, asked for again by any later run, maps to the same key and is never sent twice.
"""

from __future__ import annotations

import hashlib
import json
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class Workflow(StrEnum):
    """The rollout unit: each workflow has its own mode."""

    TRIAGE_TAGS = "triage_tags"
    HOLDS = "holds"
    ROUTING = "routing"
    NOTIFICATIONS = "notifications"
    FULFILLMENT_HANDOFF = "fulfillment_handoff"


class RolloutMode(StrEnum):
    """``shadow``: decide and audit, write nothing. ``assisted``: queue for review, act on approval.
    ``auto``: act when confidence clears the threshold, else queue for review."""

    SHADOW = "shadow"
    ASSISTED = "assisted"
    AUTO = "auto"


# The setting (``OMS_ROLLOUT_<NAME>``) that holds each workflow's rollout mode.
ROLLOUT_SETTINGS: dict[Workflow, str] = {
    Workflow.TRIAGE_TAGS: "rollout_triage_tags", Workflow.HOLDS: "rollout_holds", Workflow.ROUTING: "rollout_routing",
    Workflow.NOTIFICATIONS: "rollout_notifications", Workflow.FULFILLMENT_HANDOFF: "rollout_handoff"}


def rollout_modes(config: object) -> dict[Workflow, RolloutMode]:
    """Each workflow's mode, read from anything with the ``rollout_*`` fields (the settings, the policy
    resource)."""
    return {workflow: RolloutMode(getattr(config, field)) for workflow, field in ROLLOUT_SETTINGS.items()}


class ActionKind(StrEnum):
    """The external writes the gateway knows."""

    ADD_TAGS = "add_tags"  # Shopify tagsAdd
    SET_METAFIELDS = "set_metafields"  # Shopify metafieldsSet
    PLACE_HOLD = "place_hold"  # Shopify fulfillmentOrderHold
    RELEASE_HOLD = "release_hold"  # Shopify fulfillmentOrderReleaseHold
    UPDATE_NOTE = "update_note"  # Shopify orderUpdate (note)
    CHAT_ALERT = "chat_alert"  # Slack incoming webhook
    HELPDESK_TICKET = "helpdesk_ticket"  # Zendesk POST /api/v2/tickets.json
    CANCEL_ORDER = "cancel_order"  # never automatic (policy)
    REFUND_ORDER = "refund_order"  # never automatic (policy)
    HANDOFF_TO_3PL = "handoff_to_3pl"  # ShipStation POST /orders/createorder (upsert on orderKey)

    @property
    def resendable(self) -> bool:
        """Whether sending it again after a lost answer is harmless: the receiver deduplicates it (Zendesk's
        ``Idempotency-Key``, ShipStation's ``orderKey``), the write sets a state (tags, metafields), or the
        executor reads the store first (holds by handle, note lines by marker). A chat message is none
        of these."""
        return self is not ActionKind.CHAT_ALERT

    @property
    def dedupe_across_versions(self) -> bool:
        """Alerts are about the order, not one version of it: the same alert is sent once, ever."""
        return self in (ActionKind.CHAT_ALERT, ActionKind.HELPDESK_TICKET)


AUTOMATION = "oms-automation"


def canonical_json(value: Any) -> str:
    """Deterministic JSON (sorted keys, no spaces): what hashes are taken of."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


class WriteAction(BaseModel):
    """One intended external write, with the context policy needs and the versions that produced it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    shop_domain: str = Field(min_length=1)
    order_id: str = Field(min_length=1)
    order_name: str = ""
    order_version: str = Field(min_length=1)  # the decision fingerprint of the order
    workflow: Workflow
    kind: ActionKind
    payload: dict[str, Any]
    actor: str = AUTOMATION
    by_operator: bool = False
    confidence: float = Field(default=1.0, ge=0, le=1)
    trace_id: str = Field(min_length=1)
    rules_version: str = "-"
    model_versions: str = "-"
    financial_status: str | None = None
    why: str = ""

    @property
    def payload_sha256(self) -> str:
        """Hash of the payload."""
        return hashlib.sha256(canonical_json(self.payload).encode()).hexdigest()

    @property
    def idempotency_key(self) -> str:
        """sha256 of (shop, order id, order version, action, payload); alerts leave the version out."""
        version = "*" if self.kind.dedupe_across_versions else self.order_version
        parts = (self.shop_domain, self.order_id, version, self.kind.value, self.payload_sha256)
        return hashlib.sha256("|".join(parts).encode()).hexdigest()

"""One order as the sandbox store keeps it (a module of its own: the store and the writeback
mutations both use it, and the store uses the mutations)."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from oms_pipeline.sandbox.generator import apply_faults, rest_time


@dataclass
class OrderRecord:
    """One order: its clean REST truth, the faults it is served with, and its true timestamps."""

    key: int  # the order id, kept even when the order is served without one
    order: dict[str, Any]
    faults: tuple[str, ...]
    created: datetime
    updated: datetime

    def rest(self, *, copy_truth: bool = True) -> dict[str, Any]:
        """The REST element as served (faults applied): a copy, safe to use after the lock is released.

        ``copy_truth=False`` returns a fault-free order's truth itself, for callers that only read
        it under the lock.
        """
        if self.faults:
            return apply_faults(self.order, self.faults)
        return copy.deepcopy(self.order) if copy_truth else self.order

    @property
    def served_id(self) -> str | None:
        """The id the order is served with, or None when it is served without one."""
        return None if "missing_id" in self.faults else str(self.key)

    def touch(self, moment: datetime) -> None:
        """Stamp a change at ``moment`` (never earlier than the current version)."""
        self.updated = max(self.updated, moment)
        self.order["updated_at"] = rest_time(self.updated)

"""``oms doctor``: is this deployment healthy? One verdict per check, each with the fix.

Read only: nothing is migrated, sent or changed by asking.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

from oms_pipeline.settings import OmsSettings
from oms_pipeline.storage.warehouse import MIGRATIONS, Warehouse


@dataclass(frozen=True)
class Check:
    """One check's verdict: ``ok`` or not, what was found, and how to fix it when not."""

    name: str
    ok: bool
    detail: str
    fix: str = ""

    def line(self) -> str:
        """The check as one line of ``oms doctor``'s output."""
        text = f"{'ok  ' if self.ok else 'FAIL'}  {self.name:<18} {self.detail}"
        return text if self.ok or not self.fix else f"{text}; fix: {self.fix}"


def check_deployment(settings: OmsSettings, now: datetime | None = None) -> list[Check]:
    """Every check, in order; later checks that need the warehouse are skipped when it is unreachable."""
    now = now or datetime.now(UTC)
    url = sa.engine.make_url(settings.resolved_warehouse_url)
    if url.get_backend_name() == "duckdb" and url.database and not Path(url.database).exists():
        return [Check("warehouse", False, f"no warehouse at {url.database}",
                      "oms migrate (or point OMS_WAREHOUSE_URL / OMS_DATA_DIR at the existing one)")]
    checks: list[Check] = []
    wh = Warehouse(settings.resolved_warehouse_url)
    try:
        warehouse = _warehouse(wh, url.render_as_string(hide_password=True))
        checks.append(warehouse)
        if warehouse.ok:
            checks += _outbox(wh, settings, now)
    finally:
        wh.dispose()
    return checks


def _warehouse(wh: Warehouse, where: str) -> Check:
    try:
        version = wh.schema_version()
    except sa.exc.SQLAlchemyError as error:
        return Check("warehouse", False, f"{where} unreachable: {type(error).__name__}",
                     "check OMS_WAREHOUSE_URL and that the database is up")
    latest = MIGRATIONS[-1][0]
    if version != latest:
        return Check("warehouse", False, f"{where} at schema version {version or 'none'}, this code needs {latest}",
                     "oms migrate")
    return Check("warehouse", True, f"{where} migrated (schema version {latest})")


def _outbox(wh: Warehouse, settings: OmsSettings, now: datetime) -> list[Check]:
    """Intended writes still unsent past their allowed age; messages that may have been posted; writes
    whose run failed its quality gate."""
    max_age = timedelta(minutes=settings.writeback_max_unsent_minutes)
    stale = wh.outbox.stale(now, max_age, settings.shop_domain)
    if stale:
        parts = ", ".join(f"{s.workflow} {s.count} ({s.status}, oldest {s.oldest:%Y-%m-%d %H:%M} UTC)" for s in stale)
        unsent = Check("writeback", False, f"{sum(s.count for s in stale)} intended writes unsent for more than "
                       f"{settings.writeback_max_unsent_minutes:g} min: {parts}",
                       "make sure the store and channels are reachable, then `oms ingest --once` sends them "
                       "(the audit log says why they failed)")
    else:
        counts = wh.outbox.counts(settings.shop_domain)
        waiting = sum(n for status, n in counts.items() if not status.startswith("closed"))
        unsent = Check("writeback", True, f"nothing unsent for more than {settings.writeback_max_unsent_minutes:g} "
                       f"min ({waiting} writes waiting for the next run)")
    questions = [i for i in wh.writeback.pending_reviews(settings.shop_domain) if i.why.startswith("may have been")]
    uncertain = Check("uncertain writes", not questions,
                      f"{len(questions)} messages may have been posted (their answer was lost)" if questions
                      else "no write waits on an operator because its answer was lost",
                      "look in the channel, then `oms review approve ID` (post again) or `oms review reject ID`")
    counts = wh.outbox.counts(settings.shop_domain)
    blocked = counts.get("closed:blocked", 0)
    gate = Check("quality gate", True, f"{blocked} intended writes were closed unsent because their run failed "
                 "its quality gate" if blocked else "no intended write was blocked by a failed quality gate")
    return [unsent, uncertain, gate]

"""``oms doctor``: is this deployment healthy? One verdict per check, each with the fix.

Read only: nothing is migrated, sent or changed by asking. The outside systems are asked with an
authenticated read each (Shopify's granted access scopes, one ShipStation shipment, the Zendesk user,
one carrier-rates shipment); Slack's incoming webhook has no read call, so it is only connected to.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import sqlalchemy as sa
import yaml

from oms_pipeline.connectors.carrier_rates import CarrierRatesClient
from oms_pipeline.connectors.notifications import ZendeskTickets
from oms_pipeline.connectors.shipstation import ShipStationClient
from oms_pipeline.connectors.shopify import ShopifyClient
from oms_pipeline.domain.shopify.scopes import missing_scopes, required_scopes
from oms_pipeline.settings import OmsSettings
from oms_pipeline.storage.warehouse import MIGRATIONS, Warehouse

# A doctor answers in seconds: one retry at most, short timeouts.
_TIMEOUT_S = 10.0
_ATTEMPTS = 2
_SANDBOX_IDLE = "the sandbox is not running (`oms sandbox serve` or `oms ui` starts it); not checked"


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
    """Every check, in order: settings, Dagster instance, warehouse (and its outbox), then the store and
    each configured channel. Outside systems are not contacted while a setting falls back to a sandbox
    value, and the outbox is not read while the warehouse is unreachable or unmigrated."""
    now = now or datetime.now(UTC)
    checks = _settings(settings)
    checks.append(_dagster_instance(settings))
    checks += _warehouse_and_outbox(settings, now)
    if settings.sandbox_fallbacks():
        checks.append(Check("outside systems", False, "not contacted while a setting holds a sandbox value",
                            "fix the settings above first"))
    else:
        checks += [_store(settings), _shipstation(settings), _carrier_rates(settings), _slack(settings),
                   _zendesk(settings)]
    return checks


def _settings(settings: OmsSettings) -> list[Check]:
    fallbacks = settings.sandbox_fallbacks()
    if fallbacks:
        return [Check("settings", False, problem.split(": ", 1)[1], f"set {problem.split(':', 1)[0]}")
                for problem in fallbacks]
    where = "the loopback sandbox store" if settings.store_is_loopback_sandbox else "a real store"
    return [Check("settings", True, f"{settings.shop_domain} at {settings.resolved_shopify_url} ({where}); "
                  f"network {settings.network_file or 'not set'}")]


def _dagster_instance(settings: OmsSettings) -> Check:
    home = settings.dagster_home
    config = home / "dagster.yaml"
    if not home.is_dir():
        return Check("dagster instance", False, f"DAGSTER_HOME {home} does not exist",
                     "`oms ui` (or `oms ingest --once`) makes the embedded one; in production set DAGSTER_HOME "
                     "to a directory with a dagster.yaml for PostgreSQL storage")
    if not config.exists():  # Dagster's own defaults: SQLite files in the home
        return Check("dagster instance", True, f"SQLite (Dagster's defaults, one machine), DAGSTER_HOME {home}")
    try:
        loaded = yaml.safe_load(config.read_text()) or {}
    except yaml.YAMLError as error:
        return Check("dagster instance", False, f"{config} is not valid YAML ({error.__class__.__name__})",
                     "fix the file")
    storage = loaded.get("storage") or {}
    run_storage = str((loaded.get("run_storage") or {}).get("module", ""))
    kind = "PostgreSQL" if "postgres" in storage or "postgres" in run_storage else \
        "MySQL" if "mysql" in storage or "mysql" in run_storage else "SQLite (embedded, one machine)"
    return Check("dagster instance", True, f"{kind} storage, DAGSTER_HOME {home}")


def _warehouse_and_outbox(settings: OmsSettings, now: datetime) -> list[Check]:
    url = sa.engine.make_url(settings.resolved_warehouse_url)
    if url.get_backend_name() == "duckdb" and url.database and not Path(url.database).exists():
        return [Check("warehouse", False, f"no warehouse at {url.database}",
                      "oms migrate (or point OMS_WAREHOUSE_URL / OMS_DATA_DIR at the existing one)")]
    wh = Warehouse(settings.resolved_warehouse_url)
    try:
        warehouse = _warehouse(wh, url.render_as_string(hide_password=True))
        return [warehouse, *(_outbox(wh, settings, now) if warehouse.ok else [])]
    finally:
        wh.dispose()


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
    counts = wh.outbox.counts(settings.shop_domain)
    if stale:
        parts = ", ".join(f"{s.workflow} {s.count} ({s.status}, oldest {s.oldest:%Y-%m-%d %H:%M} UTC)" for s in stale)
        unsent = Check("writeback", False, f"{sum(s.count for s in stale)} intended writes unsent for more than "
                       f"{settings.writeback_max_unsent_minutes:g} min: {parts}",
                       "make sure the store and channels are reachable, then `oms ingest --once` sends them "
                       "(the audit log says why they failed)")
    else:
        waiting = sum(n for status, n in counts.items() if not status.startswith("closed"))
        unsent = Check("writeback", True, f"nothing unsent for more than {settings.writeback_max_unsent_minutes:g} "
                       f"min ({waiting} writes waiting for the next run)")
    questions = [i for i in wh.writeback.pending_reviews(settings.shop_domain) if i.why.startswith("may have been")]
    uncertain = Check("uncertain writes", not questions,
                      f"{len(questions)} messages may have been posted (their answer was lost)" if questions
                      else "no write waits on an operator because its answer was lost",
                      "look in the channel, then `oms review approve ID` (post again) or `oms review reject ID`")
    blocked = counts.get("closed:blocked", 0)
    gate = Check("quality gate", True, f"{blocked} intended writes were closed unsent because their run failed "
                 "its quality gate" if blocked else "no intended write was blocked by a failed quality gate")
    return [unsent, uncertain, gate]


def _asked(name: str, where: str, ask: Callable[[], str], fix: str, *, idle_ok: str = "") -> Check:
    """Run one authenticated read; its failure (refused, unreachable, timed out) is the check's. With
    ``idle_ok``, nothing listening is not a failure but that note (the sandbox between runs)."""
    try:
        return Check(name, True, f"{where}: {ask()}")
    except (httpx.HTTPError, OSError, RuntimeError, ValueError, KeyError) as error:
        if idle_ok and isinstance(error, httpx.ConnectError | ConnectionRefusedError):
            return Check(name, True, f"{where}: {idle_ok}")
        # A connector's message may start with the same place (Shopify's names the shop): say it once.
        return Check(name, False, f"{where}: {_reason(error).removeprefix(f'{where}: ')}", fix)


def _reason(error: Exception) -> str:
    text = str(error) or type(error).__name__
    if isinstance(error, httpx.TransportError | OSError):
        text = f"unreachable ({type(error).__name__})"
    return text.splitlines()[0][:200]


def _store(settings: OmsSettings) -> Check:
    modes = settings.rollout_modes()

    def ask() -> str:
        with ShopifyClient(settings.resolved_shopify_url, settings.shopify_token.get_secret_value(),
                           settings.shop_domain, api_version=settings.shopify_api_version, timeout_s=_TIMEOUT_S,
                           max_attempts=_ATTEMPTS) as client:
            granted = client.access_scopes()
        missing = missing_scopes(granted, modes)
        if missing:
            raise ValueError("missing access scopes " + "; ".join(f"{scope} (for {', '.join(why)})"
                                                                  for scope, why in sorted(missing.items())))
        return f"reachable, the {len(required_scopes(modes))} access scopes the enabled workflows need are granted"

    return _asked("store", settings.shop_domain, ask,
                  "check OMS_SHOPIFY_TOKEN / OMS_SHOPIFY_URL; grant the app the scopes named (reinstall it)",
                  idle_ok=_SANDBOX_IDLE if settings.store_is_loopback_sandbox else "")


def _shipstation(settings: OmsSettings) -> Check:
    url = settings.resolved_shipstation_url
    if not url:
        return Check("3pl", True, "not configured (no 3PL handoff; OMS_SHIPSTATION_URL unset)")

    def ask() -> str:
        with ShipStationClient(url, settings.shipstation_api_key.get_secret_value(),
                               settings.shipstation_api_secret.get_secret_value(), timeout_s=_TIMEOUT_S,
                               max_attempts=_ATTEMPTS) as client:
            return f"reachable, {client.shipment_total()} shipments in the account"

    return _asked("3pl", _host(url), ask, "check OMS_SHIPSTATION_URL, OMS_SHIPSTATION_API_KEY and _SECRET",
                  idle_ok=_SANDBOX_IDLE if settings.store_is_loopback_sandbox else "")


def _carrier_rates(settings: OmsSettings) -> Check:
    url = settings.carrier_rates_url
    if not url:
        return Check("carrier rates", True, "not configured (shipments keep their rate-card service)")
    key = settings.carrier_rates_api_key.get_secret_value() if settings.carrier_rates_api_key else ""

    def ask() -> str:
        with CarrierRatesClient(url, key, timeout_s=_TIMEOUT_S, max_attempts=_ATTEMPTS) as client:
            client.check_key()
        return "reachable, API key accepted"

    return _asked("carrier rates", _host(url), ask, "check OMS_CARRIER_RATES_URL and OMS_CARRIER_RATES_API_KEY")


def _slack(settings: OmsSettings) -> Check:
    if settings.slack_webhook_url is None:
        return Check("slack", True, "not configured (no exception alerts in chat)")
    parts = urlsplit(settings.slack_webhook_url.get_secret_value())
    port = parts.port or (443 if parts.scheme == "https" else 80)

    def ask() -> str:
        with socket.create_connection((parts.hostname or "", port), timeout=_TIMEOUT_S):
            return "reachable (not posted to: an incoming webhook has no read call)"

    return _asked("slack", str(parts.hostname), ask, "check OMS_SLACK_WEBHOOK_URL and the way out to Slack")


def _zendesk(settings: OmsSettings) -> Check:
    if not settings.zendesk_url:
        return Check("zendesk", True, "not configured (no exception tickets)")
    token = settings.zendesk_api_token.get_secret_value() if settings.zendesk_api_token else ""

    def ask() -> str:
        with ZendeskTickets(settings.zendesk_url, settings.zendesk_email or "", token, timeout_s=_TIMEOUT_S,
                            max_attempts=_ATTEMPTS) as client:
            user = client.current_user()
        return f"reachable, signed in as a {user.get('role', 'user')}"

    return _asked("zendesk", _host(settings.zendesk_url), ask,
                  "check OMS_ZENDESK_URL, OMS_ZENDESK_EMAIL and OMS_ZENDESK_API_TOKEN")


def _host(url: str) -> str:
    """Where a service is, without path or credentials (a webhook URL's path is its secret)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}"

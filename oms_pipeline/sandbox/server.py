"""The sandbox over real HTTP: a Starlette app served by uvicorn, in a background thread or blocking.

Every request goes through the same gate, in Shopify's order: API version in the path (404),
access token (401), injected faults (which change nothing), the REST call bucket (429), then the
store catches up on due events and the API answers.

The same server emulates the shop's alert channels: a Slack incoming webhook
(``slack_webhook_url``) and Zendesk's ticket API (``zendesk_url``), behind the same fault injection.
"""

from __future__ import annotations

import json
import shutil
import socket
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from oms_pipeline.sandbox.disputes import DisputesAPI
from oms_pipeline.sandbox.faults import FaultInjector
from oms_pipeline.sandbox.graphql_api import GraphQLAPI
from oms_pipeline.sandbox.notifications import DEFAULT_ZENDESK_EMAIL, DEFAULT_ZENDESK_TOKEN, NotificationsAPI
from oms_pipeline.sandbox.rest_api import RestAPI
from oms_pipeline.sandbox.store import SandboxStore

API_VERSION = "2025-01"
DEFAULT_TOKEN = "shpat_sandbox_token"
DEFAULT_SHOP = "oms-sandbox.myshopify.com"
INVALID_TOKEN = "[API] Invalid API key or access token (unrecognized login or wrong password)"
REST_THROTTLED = "Exceeded 2 calls per second for api client. Reduce request rates to resume uninterrupted service."


class _JSON(JSONResponse):
    """JSON as Shopify sends it: UTF-8, not ASCII-escaped."""

    def render(self, content: Any) -> bytes:
        return json.dumps(content, ensure_ascii=False, separators=(",", ":")).encode()


async def _client_gone(_request: Request, _exc: Exception) -> Response:
    """The client went away before its request was read (a killed process): nobody is left to answer."""
    return Response(status_code=499)


class SandboxServer:
    """A Shopify Admin API (2025-01) emulation on loopback. ``with SandboxServer(store) as sb: sb.url``."""

    def __init__(self, store: SandboxStore | None = None, *, host: str = "127.0.0.1", port: int = 0,
                 token: str = DEFAULT_TOKEN, shop_domain: str = DEFAULT_SHOP, faults: float = 0.0,
                 timeout_fault_s: float = 30.0, restore_rate: float = 100.0, bucket_size: float = 2000.0,
                 rest_bucket_size: int = 40, rest_leak_per_s: float = 2.0, seed: int = 0,
                 zendesk_email: str = DEFAULT_ZENDESK_EMAIL, zendesk_api_token: str = DEFAULT_ZENDESK_TOKEN,
                 shipstation_rate_limit: int = 40, access_scopes: tuple[str, ...] | None = None):
        self.store = store if store is not None else SandboxStore(seed=seed)
        self.shipstation_rate_limit = shipstation_rate_limit  # requests/min per key (ShipStation's: 40)
        self.host = host
        self.port = port
        self.token = token
        self.shop_domain = shop_domain
        self.faults = FaultInjector(faults, seed=seed, timeout_s=timeout_fault_s)
        self.graphql = GraphQLAPI(self.store, bucket_size=bucket_size, restore_rate=restore_rate,
                                  **({} if access_scopes is None else {"access_scopes": tuple(access_scopes)}))
        self.rest = RestAPI(self.store, bucket_size=rest_bucket_size, leak_per_s=rest_leak_per_s)
        self.disputes = DisputesAPI(self.store)
        self.notifications = NotificationsAPI(seed=seed, zendesk_email=zendesk_email,
                                              zendesk_api_token=zendesk_api_token)
        self.app = Starlette(routes=[
            Route("/admin/api/{version}/graphql.json", self._graphql, methods=["POST"]),
            Route("/admin/api/{version}/orders.json", self._orders, methods=["GET"]),
            Route("/admin/api/{version}/orders/count.json", self._count, methods=["GET"]),
            Route("/admin/api/{version}/orders/{order_id}.json", self._order, methods=["GET"]),
            Route("/admin/api/{version}/orders/{order_id}/transactions.json", self._transactions, methods=["GET"]),
            Route("/admin/api/{version}/shopify_payments/disputes.json", self._disputes, methods=["GET"]),
            Route("/slack/services/{team}/{channel}/{secret}", self._slack, methods=["POST"]),
            Route("/api/v2/tickets.json", self._zendesk_ticket, methods=["POST"]),
            Route("/api/v2/users/me.json", self._zendesk_me, methods=["GET"]),
            Route("/v2/shipments", self._carrier_shipment, methods=["POST"]),
            Route("/v2/shipments", self._carrier_shipments, methods=["GET"]),
            Route("/orders/createorder", self._shipstation_create_order, methods=["POST"]),
            Route("/shipments", self._shipstation_shipments, methods=["GET"]),
        ], exception_handlers={ClientDisconnect: _client_gone})
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None
        # Called with the write's name ("graphql:<operationName>", "slack", "zendesk_ticket",
        # "shipstation_createorder") once a write is applied and before it is answered: where a crash
        # drill kills its client, so the write happened and the client never heard of it.
        self.after_write: Callable[[str], None] | None = None
        self._files: Path | None = None  # where network_file lives while the server runs

    def channel_settings(self) -> dict[str, Any]:
        """``OMS_*`` settings (as keyword values) that point Slack, Zendesk, the carrier rates API and the
        fulfillment network at this sandbox's emulations."""
        from oms_pipeline.sandbox.carriers import DEFAULT_CARRIER_API_KEY

        return {"network_file": self.network_file,
                "slack_webhook_url": self.slack_webhook_url, "zendesk_url": self.zendesk_url,
                "zendesk_email": self.notifications.zendesk_email,
                "zendesk_api_token": self.notifications.zendesk_api_token,
                "carrier_rates_url": self.url, "carrier_rates_api_key": DEFAULT_CARRIER_API_KEY}

    @property
    def network_file(self) -> str:
        """NETWORK.json of the sandbox's fulfillment network (for ``OMS_NETWORK_FILE``), kept while the
        server runs."""
        if self._files is None:
            self._files = Path(tempfile.mkdtemp(prefix="oms-sandbox-"))
        path = self._files / "network.json"
        if not path.exists():
            from oms_pipeline.sandbox.network import write_sandbox_network

            write_sandbox_network(path)
        return str(path)

    def _written(self, name: str) -> None:
        if self.after_write is not None:
            self.after_write(name)

    @property
    def url(self) -> str:
        """Base URL of the running server (``http://127.0.0.1:<port>``)."""
        return f"http://{self.host}:{self.port}"

    @property
    def slack_webhook_url(self) -> str:
        """The one Slack incoming-webhook URL this sandbox accepts."""
        return f"{self.url}{self.notifications.slack_path}"

    @property
    def zendesk_url(self) -> str:
        """Base URL of the emulated Zendesk account (credentials: ``notifications.zendesk_email/api_token``)."""
        return self.url

    # -- lifecycle --------------------------------------------------------------------------------

    def bind(self) -> socket.socket:
        """Bind the listening socket (port 0 picks a free one; ``port`` then holds the real one)."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self.port))
        sock.listen(128)
        self.port = sock.getsockname()[1]
        self._socket = sock
        return sock

    def uvicorn_server(self) -> uvicorn.Server:
        """A uvicorn server for the app; a stalled (timeout-fault) request cannot hold shutdown long."""
        config = uvicorn.Config(self.app, log_level="warning", access_log=False, lifespan="off",
                                timeout_graceful_shutdown=1)
        return uvicorn.Server(config)

    def start(self, timeout_s: float = 10.0) -> SandboxServer:
        """Serve in a background thread; returns once the server accepts connections."""
        sock = self.bind()
        self._server = self.uvicorn_server()
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [sock]},
                                        name=f"sandbox:{self.port}", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + timeout_s
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"sandbox server did not start on {self.url}")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        """Stop serving and release the port."""
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        if self._socket is not None:
            self._socket.close()
        self._server = self._thread = self._socket = None
        if self._files is not None:
            shutil.rmtree(self._files, ignore_errors=True)
            self._files = None

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- the gate ---------------------------------------------------------------------------------

    async def _gate(self, request: Request, api: str) -> Response | None:
        """The answer that stops a request before the API sees it, or None to go on."""
        self.store.count("requests")
        self.store.count(f"requests_{api}")
        if request.path_params["version"] != API_VERSION:
            return _JSON({"errors": "Not Found"}, status_code=404)
        token = request.headers.get("X-Shopify-Access-Token")
        if token != self.token:
            self.store.count("unauthorized")
            return _JSON({"errors": INVALID_TOKEN}, status_code=401)
        fault = await self._fault(api)
        if fault:
            return fault
        if api == "rest":
            bucket = self.rest.bucket(token)
            if not bucket.add():
                self.store.count("throttled")
                self.store.count("throttled_rest")
                return _JSON({"errors": REST_THROTTLED}, status_code=429,
                             headers={"Retry-After": "2.0", "X-Shopify-Shop-Api-Call-Limit": bucket.header()})
        self.store.catch_up()
        return None

    async def _fault(self, api: str) -> Response | None:
        """An injected failure for this request, if one is drawn (it changes nothing and costs nothing)."""
        fault = self.faults.pick()
        if not fault:
            return None
        self.store.count("faults")
        self.store.count(f"fault_{fault}")
        return await self.faults.answer(fault, rest=api != "graphql")

    def _headers(self, request: Request, extra: dict[str, str]) -> dict[str, str]:
        headers = {"X-Shopify-API-Version": API_VERSION, **extra}
        if "graphql.json" not in request.url.path:
            headers["X-Shopify-Shop-Api-Call-Limit"] = self.rest.bucket(self.token).header()
        return headers

    # -- endpoints --------------------------------------------------------------------------------

    async def _graphql(self, request: Request) -> Response:
        stop = await self._gate(request, "graphql")
        if stop:
            return stop
        try:
            body = json.loads(await request.body() or b"null")
        except ValueError:
            body = None
        mutations = self.store.stats.get("mutations", 0)
        status, payload = self.graphql.answer(self.token, body)
        if self.store.stats.get("mutations", 0) > mutations:
            self._written(f"graphql:{body.get('operationName') if isinstance(body, dict) else None}")
        return _JSON(payload, status_code=status, headers=self._headers(request, {}))

    async def _orders(self, request: Request) -> Response:
        stop = await self._gate(request, "rest")
        if stop:
            return stop
        # Links point back at this server under the name the client used for it.
        own_url = str(request.url.replace(query=""))
        status, payload, headers = self.rest.orders(request.query_params, own_url)
        return _JSON(payload, status_code=status, headers=self._headers(request, headers))

    async def _order(self, request: Request) -> Response:
        stop = await self._gate(request, "rest")
        if stop:
            return stop
        status, payload, headers = self.rest.order(request.path_params["order_id"], request.query_params)
        return _JSON(payload, status_code=status, headers=self._headers(request, headers))

    async def _transactions(self, request: Request) -> Response:
        stop = await self._gate(request, "rest")
        if stop:
            return stop
        status, payload, headers = self.rest.transactions(request.path_params["order_id"])
        return _JSON(payload, status_code=status, headers=self._headers(request, headers))

    async def _count(self, request: Request) -> Response:
        stop = await self._gate(request, "rest")
        if stop:
            return stop
        status, payload, headers = self.rest.count(request.query_params)
        return _JSON(payload, status_code=status, headers=self._headers(request, headers))

    async def _disputes(self, request: Request) -> Response:
        stop = await self._gate(request, "rest")
        if stop:
            return stop
        status, payload, headers = self.disputes.disputes(request.query_params, str(request.url.replace(query="")))
        return _JSON(payload, status_code=status, headers=self._headers(request, headers))

    async def _slack(self, request: Request) -> Response:
        self.store.count("requests")
        self.store.count("requests_slack")
        if request.url.path != self.notifications.slack_path:
            return PlainTextResponse("no_service", status_code=404)
        fault = await self._fault("slack")
        if fault:
            return fault
        status, text = self.notifications.slack_post(request.url.path, await request.body())
        if status == 200:
            self._written("slack")
        return PlainTextResponse(text, status_code=status)

    async def _zendesk_ticket(self, request: Request) -> Response:
        self.store.count("requests")
        self.store.count("requests_zendesk")
        if not self.notifications.authorized(request.headers.get("Authorization")):
            return _JSON({"error": "Couldn't authenticate you"}, status_code=401)
        fault = await self._fault("zendesk")
        if fault:
            return fault
        status, payload, headers = self.notifications.create_ticket(
            await request.body(), request.headers.get("Idempotency-Key"), self.zendesk_url)
        if status == 201:
            self._written("zendesk_ticket")
        return _JSON(payload, status_code=status, headers={**self.notifications.rate_limit_headers(), **headers})

    @property
    def carriers(self):  # -> oms_pipeline.sandbox.carriers.CarrierRatesAPI
        """The emulated carrier-rates API (EasyPost shape), priced from the sandbox network's services."""
        api = self.__dict__.get("_carriers")
        if api is None:
            from oms_pipeline.sandbox.carriers import CarrierRatesAPI
            from oms_pipeline.sandbox.network import sandbox_network

            api = self.__dict__.setdefault("_carriers", CarrierRatesAPI(sandbox_network().services))
        return api

    async def _zendesk_me(self, request: Request) -> Response:
        # Zendesk's own behaviour: no credentials -> an anonymous user (200); wrong ones -> 401.
        self.store.count("requests")
        header = request.headers.get("Authorization")
        if header is None:
            return _JSON({"user": {"id": None, "name": "Anonymous user", "role": "end-user"}})
        if not self.notifications.authorized(header):
            return _JSON({"error": "Couldn't authenticate you"}, status_code=401)
        return _JSON({"user": {"id": 1, "name": "oms-pipeline", "email": self.notifications.zendesk_email,
                               "role": "agent", "active": True}})

    async def _carrier_shipments(self, request: Request) -> Response:
        # EasyPost's shipment list; the sandbox keeps no bought shipments, so it is always empty.
        self.store.count("requests")
        authorization = request.headers.get("Authorization")
        if not self.carriers.authorized(authorization):
            return _JSON(self.carriers.unauthorized(authorization), status_code=401)
        return _JSON({"shipments": [], "has_more": False})

    async def _carrier_shipment(self, request: Request) -> Response:
        self.store.count("requests")
        self.store.count("requests_carriers")
        authorization = request.headers.get("Authorization")
        if not self.carriers.authorized(authorization):
            return _JSON(self.carriers.unauthorized(authorization), status_code=401)
        fault = await self._fault("carriers")
        if fault:
            return fault
        status, payload = self.carriers.create_shipment(await request.body())
        return _JSON(payload, status_code=status)

    @property
    def shipstation(self):  # -> oms_pipeline.sandbox.shipstation.ShipStationAPI
        """The emulated 3PL (ShipStation shape); it ships handed-off orders on the store's clock."""
        api = self.__dict__.get("_shipstation")
        if api is None:
            from oms_pipeline.sandbox.network import sandbox_network
            from oms_pipeline.sandbox.shipstation import ShipStationAPI

            api = self.__dict__.setdefault("_shipstation", ShipStationAPI(
                self.store, sandbox_network().services, rate_limit=self.shipstation_rate_limit))
        return api

    async def _shipstation_gate(self, request: Request) -> tuple[Response | None, dict[str, str]]:
        """ShipStation's gate: Basic auth (401), injected faults, then the per-key rate window (429)."""
        self.store.count("requests")
        self.store.count("requests_shipstation")
        if not self.shipstation.authorized(request.headers.get("Authorization")):
            return _JSON({"Message": "Authorization has been denied for this request."}, status_code=401), {}
        fault = await self._fault("shipstation")
        if fault:
            return fault, {}
        allowed, headers = self.shipstation.admit()
        if not allowed:
            self.store.count("throttled_shipstation")
            return _JSON({"Message": "Too Many Requests"}, status_code=429, headers=headers), headers
        return None, headers

    async def _shipstation_create_order(self, request: Request) -> Response:
        stop, headers = await self._shipstation_gate(request)
        if stop:
            return stop
        status, payload = self.shipstation.create_order(await request.body())
        if status == 200:
            self._written("shipstation_createorder")
        return _JSON(payload, status_code=status, headers=headers)

    async def _shipstation_shipments(self, request: Request) -> Response:
        stop, headers = await self._shipstation_gate(request)
        if stop:
            return stop
        status, payload = self.shipstation.list_shipments(request.query_params)
        return _JSON(payload, status_code=status, headers=headers)


def serve_forever(port: int = 8787, seed: int = 0, orders: int = 200, rate_per_min: float = 60.0,
                  faults: float = 0.0, malformed_rate: float = 0.03, *, token: str = DEFAULT_TOKEN,
                  host: str = "127.0.0.1", shop_domain: str = DEFAULT_SHOP, timeout_fault_s: float = 30.0,
                  history_orders: int = 0, history_days: int = 90, fraud_rate: float = 0.02) -> None:
    """Serve a sandbox store in the foreground until Ctrl-C (``oms sandbox serve``)."""
    store = SandboxStore(seed=seed, orders=orders, rate_per_min=rate_per_min, malformed_rate=malformed_rate,
                         history_orders=history_orders, history_days=history_days, fraud_rate=fraud_rate)
    sandbox = SandboxServer(store, host=host, port=port, token=token, shop_domain=shop_domain, faults=faults,
                            timeout_fault_s=timeout_fault_s, seed=seed)
    sock = sandbox.bind()
    print(f"sandbox store {shop_domain} at {sandbox.url} (Admin API {API_VERSION}) token {token}; "
          f"{orders} orders (+{history_orders} older), seed {seed}, {rate_per_min:g} events/min, "
          f"{faults:.0%} faulted requests; "
          "Ctrl-C stops it", flush=True)
    try:
        sandbox.uvicorn_server().run(sockets=[sock])  # uvicorn handles Ctrl-C and shuts down cleanly
    finally:
        sock.close()

"""GraphQL Admin API (2025-01): ``POST /admin/api/<version>/graphql.json`` over the store's orders.

Documents are parsed and validated against ``domain/shopify/admin_subset.graphql`` (copied from Shopify's
schema). Answers are *projected* from a GraphQL-shaped view of each REST order through the
selection set, not produced by resolvers, so a malformed order's bad values reach the client
verbatim (``"quantity": "two"``, ``"currencyCode": "XYZ"``) the way a buggy upstream would send
them, instead of being "fixed" or rejected by scalar serialization.

``nodes(ids:)`` answers ``Order`` and ``FulfillmentOrder`` ids (other kinds of id are null, as an
unknown id is); ``Order.transactions(first:)`` lists the order's payment transactions, which REST
serves only through ``orders/<id>/transactions.json``.

Mutations (tags, note, metafields, fulfillment holds) are applied by ``sandbox/writeback.py``; their
payloads are projected the same way, and they cost 10 points each from the same bucket as queries.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

import graphql
from graphql import (
    DocumentNode,
    GraphQLError,
    GraphQLObjectType,
    GraphQLSchema,
    get_named_type,
    is_abstract_type,
    is_leaf_type,
)
from graphql.execution.values import get_argument_values

from oms_pipeline.domain.shopify.query_cost import (
    MAX_QUERY_COST,
    FieldCollector,
    QueryCostError,
    actual_query_cost,
    admin_subset_schema,
    coerce_variables,
    is_connection,
    max_cost_exceeded_error,
    requested_query_cost,
    select_operation,
)
from oms_pipeline.sandbox.generator import convert
from oms_pipeline.sandbox.limits import CostBucket
from oms_pipeline.sandbox.paging import (
    CursorError,
    OrderIndex,
    cursor_key,
    decode_cursor,
    encode_cursor,
    order_cursor,
    parse_search,
)
from oms_pipeline.sandbox.records import OrderRecord
from oms_pipeline.sandbox.store import SandboxStore
from oms_pipeline.sandbox.writeback import (
    InvalidGlobalId,
    WritebackMutations,
    fulfillment_order_view,
    order_extras,
    order_key_of_fulfillment_order,
)

MAX_PAGE_SIZE = 250
THROTTLED_DOCS = "https://shopify.dev/api/usage/rate-limits"


def subset_schema() -> GraphQLSchema:
    """The schema the sandbox serves: the domain's copy of the part of Shopify's schema we use."""
    return admin_subset_schema()


# -- REST element -> GraphQL view --------------------------------------------------------------

def gql_decimal(value: Any) -> Any:
    """Shopify's ``Decimal`` scalar text (``"12.50"`` -> ``"12.5"``, ``"0.00"`` -> ``"0.0"``); other values verbatim."""
    if not isinstance(value, str):
        return value
    try:
        number = Decimal(value)
    except InvalidOperation:
        return value
    if not number.is_finite():
        return value
    text = format(number.normalize(), "f")
    return text if "." in text else f"{text}.0"


def gql_time(value: Any) -> Any:
    """REST time (shop offset) -> GraphQL ``DateTime`` (UTC, ``Z``); unparseable values verbatim."""
    if not isinstance(value, str):
        return value
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value
    if moment.tzinfo is None:
        return value
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _gid(kind: str, value: Any) -> Any:
    return f"gid://shopify/{kind}/{value}" if isinstance(value, int) else value


def _upper(value: Any) -> Any:
    return value.upper() if isinstance(value, str) else value


def _money_v2(money: Any) -> Any:
    if not isinstance(money, dict):
        return money
    return {"amount": gql_decimal(money.get("amount")), "currencyCode": money.get("currency_code")}


def _money_bag(money_set: Any) -> Any:
    if not isinstance(money_set, dict):
        return money_set
    return {"shopMoney": _money_v2(money_set.get("shop_money")),
            "presentmentMoney": _money_v2(money_set.get("presentment_money"))}


def _scaled_bag(money_set: Any, factor: Any, divisor: Any = 1, minus: Any = None) -> Any:
    """``(money_set * factor - minus) / divisor`` per currency, when every part is a number."""
    try:
        out = {}
        for side in ("shop_money", "presentment_money"):
            amount = Decimal(money_set[side]["amount"]) * factor
            if minus is not None:
                amount -= Decimal(minus[side]["amount"])
            out[side] = {"amount": str(amount / divisor), "currency_code": money_set[side]["currency_code"]}
        return _money_bag(out)
    except (TypeError, KeyError, InvalidOperation, ArithmeticError):
        return None


_FULFILLMENT = {None: "UNFULFILLED", "partial": "PARTIALLY_FULFILLED", "fulfilled": "FULFILLED",
                "restocked": "RESTOCKED"}


def _tags(value: Any) -> Any:
    return [t.strip() for t in value.split(",") if t.strip()] if isinstance(value, str) else value


def _address(address: Any, key: Any) -> Any:
    if not isinstance(address, dict):
        return address
    return {
        "id": f"gid://shopify/MailingAddress/{key}?model_name=Address",
        "firstName": address.get("first_name"), "lastName": address.get("last_name"), "name": address.get("name"),
        "company": address.get("company"), "address1": address.get("address1"), "address2": address.get("address2"),
        "city": address.get("city"), "province": address.get("province"), "provinceCode": address.get("province_code"),
        "zip": address.get("zip"), "country": address.get("country"), "countryCodeV2": address.get("country_code"),
        "phone": address.get("phone"), "latitude": address.get("latitude"), "longitude": address.get("longitude"),
    }


def _customer(customer: Any) -> Any:
    if not isinstance(customer, dict):
        return customer
    first, last = customer.get("first_name"), customer.get("last_name")
    count = customer.get("orders_count")
    return {
        "id": _gid("Customer", customer.get("id")), "legacyResourceId": str(customer.get("id")),
        "email": customer.get("email"), "firstName": first, "lastName": last,
        "displayName": " ".join(p for p in (first, last) if p) or customer.get("email") or "",
        "phone": customer.get("phone"), "createdAt": gql_time(customer.get("created_at")),
        "updatedAt": gql_time(customer.get("updated_at")),
        "numberOfOrders": str(count) if isinstance(count, int) else count,
        "tags": _tags(customer.get("tags")), "note": customer.get("note"), "state": _upper(customer.get("state")),
        "verifiedEmail": customer.get("verified_email"), "locale": "en",
    }


def _line_item(line: Any) -> Any:
    if not isinstance(line, dict):
        return line
    qty = line.get("quantity")
    price_set, discount_set = line.get("price_set"), line.get("total_discount_set")
    return {
        "id": _gid("LineItem", line.get("id")), "sku": line.get("sku"), "title": line.get("title"),
        "name": line.get("name"), "variantTitle": line.get("variant_title"), "vendor": line.get("vendor"),
        "quantity": qty, "currentQuantity": qty, "unfulfilledQuantity": line.get("fulfillable_quantity"),
        "requiresShipping": line.get("requires_shipping"), "isGiftCard": line.get("gift_card"),
        "taxable": line.get("taxable"),
        "product": {"id": _gid("Product", line["product_id"])} if line.get("product_id") else None,
        "variant": {"id": _gid("ProductVariant", line["variant_id"])} if line.get("variant_id") else None,
        "originalUnitPriceSet": _money_bag(price_set),
        "originalTotalSet": _scaled_bag(price_set, qty),
        "discountedUnitPriceSet": _scaled_bag(price_set, qty, divisor=qty, minus=discount_set),
        "totalDiscountSet": _money_bag(discount_set),
        "customAttributes": [{"key": p.get("name"), "value": p.get("value")} for p in line.get("properties") or ()],
    }


def _shipping_line(line: Any) -> Any:
    if not isinstance(line, dict):
        return line
    return {
        "id": _gid("ShippingLine", line.get("id")), "title": line.get("title"), "code": line.get("code"),
        "source": line.get("source"), "carrierIdentifier": line.get("carrier_identifier"),
        "originalPriceSet": _money_bag(line.get("price_set")),
        "discountedPriceSet": _money_bag(line.get("discounted_price_set")),
    }


def _transaction_views(records: Any, presentment_currency: Any) -> Any:
    """``OrderTransaction`` views of the recorded transactions, oldest first; a parent is the view of its own."""
    if not isinstance(records, list):
        return records
    views: dict[Any, dict[str, Any]] = {}
    out = []
    for record in records:
        if not isinstance(record, dict):
            out.append(record)
            continue
        amount, currency = record.get("amount"), record.get("currency")
        shop = {"amount": gql_decimal(amount), "currencyCode": currency}
        try:  # the sandbox records shop money; presentment money is at the order's fixed rate
            presentment = {"amount": gql_decimal(str(convert(Decimal(amount), presentment_currency))),
                           "currencyCode": presentment_currency}
        except (TypeError, KeyError, InvalidOperation):
            presentment = shop
        gateway = record.get("gateway")
        view = {
            "__typename": "OrderTransaction", "id": _gid("OrderTransaction", record.get("id")),
            "kind": _upper(record.get("kind")), "status": _upper(record.get("status")),
            "gateway": gateway,
            "formattedGateway": gateway.replace("_", " ").title() if isinstance(gateway, str) else gateway,
            "authorizationCode": None, "test": record.get("test", False),
            "createdAt": gql_time(record.get("created_at")), "processedAt": gql_time(record.get("processed_at")),
            "amountSet": {"shopMoney": shop, "presentmentMoney": presentment},
            "parentTransaction": views.get(record.get("parent_id")),
        }
        views[record.get("id")] = view
        out.append(view)
    return out


def _transactions_field(rest: dict[str, Any]) -> Any:
    """``Order.transactions(first:)``: a list, not a connection; ``first`` keeps the oldest ``first``."""
    views = _transaction_views(rest.get("transactions") or [], rest.get("presentment_currency"))

    def transactions(args: dict[str, Any]) -> Any:
        first = args.get("first")
        return views[:first] if isinstance(views, list) and isinstance(first, int) and first >= 0 else views
    return transactions


def graphql_view(rest: dict[str, Any]) -> dict[str, Any]:
    """The GraphQL ``Order`` view of a REST order element, field names as in the schema.

    Values pass through as they are where the REST element is malformed; a missing field is null.
    Connections hold their whole list; paging happens when projecting.
    """
    order_id = rest.get("id")
    lines = rest.get("line_items")
    financial = rest.get("financial_status")
    fulfillment = rest.get("fulfillment_status")
    codes = rest.get("discount_codes") or []
    return {
        "id": rest.get("admin_graphql_api_id") if order_id is not None else None,
        "legacyResourceId": str(order_id) if order_id is not None else None,
        "name": rest.get("name"),
        "createdAt": gql_time(rest.get("created_at")),
        "updatedAt": gql_time(rest.get("updated_at")),
        "processedAt": gql_time(rest.get("processed_at")),
        "cancelledAt": gql_time(rest.get("cancelled_at")),
        "cancelReason": _upper(rest.get("cancel_reason")),
        "closedAt": gql_time(rest.get("closed_at")),
        "closed": rest.get("closed_at") is not None,
        "confirmed": rest.get("confirmed", True),
        "email": rest.get("email"),
        "phone": rest.get("phone"),
        "note": rest.get("note"),
        "tags": _tags(rest.get("tags")),
        "sourceName": rest.get("source_name"),
        "test": rest.get("test"),
        "taxesIncluded": rest.get("taxes_included"),
        "currencyCode": rest.get("currency"),
        "presentmentCurrencyCode": rest.get("presentment_currency"),
        "displayFinancialStatus": _upper(financial),
        "displayFulfillmentStatus": _FULFILLMENT.get(fulfillment, _upper(fulfillment)),
        "fullyPaid": financial in ("paid", "partially_refunded", "refunded"),
        "unpaid": financial in ("pending", "authorized", "voided", "expired"),
        "customerLocale": rest.get("customer_locale"),
        "clientIp": rest.get("browser_ip"),
        "discountCode": codes[0].get("code") if codes and isinstance(codes[0], dict) else None,
        "discountCodes": [c.get("code") for c in codes if isinstance(c, dict)],
        "customAttributes": [{"key": a.get("name"), "value": a.get("value")}
                             for a in rest.get("note_attributes") or ()],
        "subtotalPriceSet": _money_bag(rest.get("subtotal_price_set")),
        "totalPriceSet": _money_bag(rest.get("total_price_set")),
        "totalTaxSet": _money_bag(rest.get("total_tax_set")),
        "totalDiscountsSet": _money_bag(rest.get("total_discounts_set")),
        "totalShippingPriceSet": _money_bag(rest.get("total_shipping_price_set")),
        "subtotalLineItemsQuantity": sum(li.get("quantity") for li in lines or ()
                                         if isinstance(li.get("quantity"), int)),
        "totalWeight": str(rest["total_weight"]) if isinstance(rest.get("total_weight"), int) else None,
        "customer": _customer(rest.get("customer")),
        "shippingAddress": _address(rest.get("shipping_address"), f"{order_id}1"),
        "billingAddress": _address(rest.get("billing_address"), f"{order_id}2"),
        "shippingLines": [_shipping_line(s) for s in rest.get("shipping_lines") or ()],
        # Missing line items stay null (the field is non-null in the schema: that is the bug served).
        "lineItems": None if lines is None else [_line_item(li) for li in lines],
        "transactions": _transactions_field(rest),
    }


# -- execution by projection ---------------------------------------------------------------------

class RequestError(Exception):
    """An error Shopify reports in ``errors`` for a well-formed query (bad page size, cursor or id)."""

    def __init__(self, message: str, code: str, path: list[str] | None = None):
        super().__init__(message)
        self.message, self.code, self.path = message, code, path

    def as_dict(self) -> dict[str, Any]:
        """The error as a GraphQL ``errors`` entry."""
        error: dict[str, Any] = {"message": self.message, "extensions": {"code": self.code}}
        if self.path:
            error["path"] = self.path
        return error


def _page_arguments(args: dict[str, Any], path: list[str]) -> tuple[int | None, int | None]:
    first, last = args.get("first"), args.get("last")
    if first is None and last is None:
        raise RequestError("you must provide one of first or last", "BAD_REQUEST", path)
    for name, value in (("first", first), ("last", last)):
        if value is not None and value > MAX_PAGE_SIZE:
            raise RequestError(f"The {name} argument cannot exceed {MAX_PAGE_SIZE}.", "BAD_REQUEST", path)
        if value is not None and value < 0:
            raise RequestError(f"The {name} argument must be a non-negative integer.", "BAD_REQUEST", path)
    return first, last


def _list_page(items: list[Any], args: dict[str, Any], path: list[str]) -> tuple[list[tuple[str, Any]], bool, bool]:
    """A page of a nested list (line items, shipping lines); cursors hold the position and id."""
    first, last = _page_arguments(args, path)
    order = list(enumerate(items))
    if args.get("reverse"):
        order.reverse()
    positions = [p for p, _ in order]

    def index_of(cursor: str) -> int:
        try:
            position = int(decode_cursor(cursor)["last_value"])
            return positions.index(position)
        except (CursorError, KeyError, TypeError, ValueError) as exc:
            raise RequestError(f"Invalid cursor '{cursor}'.", "BAD_REQUEST", path) from exc

    start = index_of(args["after"]) + 1 if args.get("after") else 0
    end = index_of(args["before"]) if args.get("before") else len(order)
    window = order[start:end]
    if first is not None:
        chosen, has_next, has_previous = window[:first], len(window) > first or end < len(order), start > 0
    else:
        chosen = window[max(0, len(window) - last):]
        has_next, has_previous = end < len(order), len(window) > last or start > 0
    entries = []
    for position, item in chosen:
        raw_id = item.get("id") if isinstance(item, dict) else None
        last_id = int(raw_id.rsplit("/", 1)[-1]) if isinstance(raw_id, str) and raw_id.rsplit("/", 1)[-1].isdigit() \
            else None
        entries.append((encode_cursor({"last_id": last_id, "last_value": position}), item))
    return entries, has_next, has_previous


def _connection_view(entries: list[tuple[str, Any]], has_next: bool, has_previous: bool) -> dict[str, Any]:
    return {
        "edges": [{"cursor": cursor, "node": node} for cursor, node in entries],
        "nodes": [node for _, node in entries],
        "pageInfo": {"hasNextPage": has_next, "hasPreviousPage": has_previous,
                     "startCursor": entries[0][0] if entries else None,
                     "endCursor": entries[-1][0] if entries else None},
    }


class Projector:
    """Answers one operation by walking its selection set over views (and the store, at the root)."""

    def __init__(self, schema: GraphQLSchema, document: DocumentNode, variables: dict[str, Any], index: OrderIndex,
                 app: str | None = None, access_scopes: tuple[str, ...] = ()):
        self.schema = schema
        self.app = app  # the requesting app (its token): holds say whether it placed them
        self.access_scopes = access_scopes  # what the merchant granted the app
        self.variables = variables
        self.index = index
        self.store = index.store
        self.collect = FieldCollector(schema, document, variables).collect
        self.search_notes: list[dict[str, Any]] = []  # Shopify's extensions.search: terms it ignored

    def root(self, operation: graphql.OperationDefinitionNode) -> dict[str, Any]:
        """``data`` for a query operation."""
        root_type = self.schema.query_type
        result: dict[str, Any] = {}
        for key, nodes in self.collect(root_type, [operation.selection_set]).items():
            name = nodes[0].name.value
            if name == "__typename":
                result[key] = root_type.name
                continue
            field = root_type.fields[name]
            args = get_argument_values(field, nodes[0], self.variables)
            subs = [n.selection_set for n in nodes if n.selection_set]
            named = get_named_type(field.type)
            if name == "orders":
                result[key] = self.project(named, self._orders(args, [key]), subs, [key])
            elif name == "currentAppInstallation":
                view = {"id": "gid://shopify/AppInstallation/1",
                        "accessScopes": [{"handle": h, "description": f"Allows {h.replace('_', ' ')}"}
                                         for h in self.access_scopes]}
                result[key] = self.project(named, view, subs, [key])
            elif name == "nodes":
                views = [self._node(gid, [key]) for gid in args["ids"]]
                result[key] = [None if view is None else
                               self.project(self._concrete(named, view), view, subs, [key, str(i)])
                               for i, view in enumerate(views)]
            elif name == "fulfillmentOrder":
                view = self._fulfillment_order(args["id"], [key])
                result[key] = None if view is None else self.project(named, view, subs, [key])
            else:
                view = self._order(args["id"], [key])
                result[key] = None if view is None else self.project(named, view, subs, [key])
        return result

    def _orders(self, args: dict[str, Any], path: list[str]) -> dict[str, Any]:
        first, last = _page_arguments(args, path)
        sort = args.get("sortKey") or "PROCESSED_AT"
        search = parse_search(args.get("query"))
        if search.warnings:
            self.search_notes.append({"path": path, "query": args["query"], "warnings": search.warnings})
        bounds = {}
        for name in ("after", "before"):
            if args.get(name):
                try:
                    bounds[name] = cursor_key(sort, decode_cursor(args[name]))
                except CursorError as exc:
                    raise RequestError(f"Invalid cursor '{args[name]}'.", "BAD_REQUEST", path) from exc
        with self.store.lock:
            page = self.index.page(sort, search.matches, reverse=bool(args.get("reverse")), first=first, last=last,
                                   **bounds)
            entries = [(order_cursor(sort, r), self.order_view(r)) for r in page.records]
        return _connection_view(entries, page.has_next, page.has_previous)

    def _order(self, gid: str, path: list[str]) -> dict[str, Any] | None:
        prefix = "gid://shopify/Order/"
        if not gid.startswith(prefix) or not gid[len(prefix):].isdigit():
            raise RequestError(f"Invalid global id '{gid}'", "argumentLiteralsIncompatible", path)
        record = self.store.get(int(gid[len(prefix):]))
        if record is None:
            return None
        with self.store.lock:
            return self.order_view(record)

    def _node(self, gid: Any, path: list[str]) -> dict[str, Any] | None:
        """The view one ``nodes(ids:)`` id names: an order or a fulfillment order; null for other kinds."""
        kind, _, number = gid.removeprefix("gid://shopify/").partition("/") if isinstance(gid, str) else ("", "", "")
        if not gid.startswith("gid://shopify/") or not kind or not number.isdigit():
            raise RequestError(f"Invalid global id '{gid}'", "argumentLiteralsIncompatible", path)
        if kind == "Order":
            return self._order(gid, path)
        if kind == "FulfillmentOrder":
            return self._fulfillment_order(gid, path)
        return None

    def order_view(self, record: OrderRecord) -> dict[str, Any]:
        """The ``Order`` view of ``record``, with what apps wrote to it (call under the store lock)."""
        view = graphql_view(record.rest(copy_truth=False))
        view["__typename"] = "Order"
        view.update(order_extras(record, self.store.peek_writes(record.key), self.app))
        return view

    def _fulfillment_order(self, gid: str, path: list[str]) -> dict[str, Any] | None:
        prefix = "gid://shopify/FulfillmentOrder/"
        if not gid.startswith(prefix) or not gid[len(prefix):].isdigit():
            raise RequestError(f"Invalid global id '{gid}'", "argumentLiteralsIncompatible", path)
        key = order_key_of_fulfillment_order(int(gid[len(prefix):]))
        record = self.store.get(key) if key is not None else None
        if record is None:
            return None
        with self.store.lock:
            return fulfillment_order_view(record, self.store.peek_writes(record.key), self.app)

    def mutate(self, operation: graphql.OperationDefinitionNode,
               mutations: WritebackMutations) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """``data`` and ``errors`` for a mutation operation: its fields run one after another, as GraphQL says."""
        root_type = self.schema.mutation_type
        result: dict[str, Any] = {}
        errors: list[dict[str, Any]] = []
        for key, nodes in self.collect(root_type, [operation.selection_set]).items():
            name = nodes[0].name.value
            if name == "__typename":
                result[key] = root_type.name
                continue
            field = root_type.fields[name]
            args = get_argument_values(field, nodes[0], self.variables)
            try:
                payload = mutations.run(name, args, app=self.app, order_view=self.order_view)
            except InvalidGlobalId as exc:
                # Like a bad id in a query: this field is null with an error; the others still run.
                errors.append(RequestError(str(exc), "argumentLiteralsIncompatible", [key]).as_dict())
                result[key] = None
                continue
            subs = [n.selection_set for n in nodes if n.selection_set]
            result[key] = self.project(get_named_type(field.type), payload, subs, [key])
        return result, errors

    def project(self, object_type: GraphQLObjectType, view: dict[str, Any], selection_sets: list[Any],
                path: list[str]) -> dict[str, Any]:
        """The selection of ``object_type`` over ``view``; leaves are copied as they are."""
        out: dict[str, Any] = {}
        for key, nodes in self.collect(object_type, selection_sets).items():
            name = nodes[0].name.value
            if name == "__typename":
                out[key] = object_type.name
                continue
            field = object_type.fields[name]
            raw = view.get(name)
            if callable(raw):  # a field whose value depends on its arguments (metafield(key:), ...)
                raw = raw(get_argument_values(field, nodes[0], self.variables))
            named = get_named_type(field.type)
            if is_leaf_type(named):
                out[key] = raw
                continue
            subs = [n.selection_set for n in nodes if n.selection_set]
            if is_connection(field) and isinstance(raw, list):
                args = get_argument_values(field, nodes[0], self.variables)
                raw = _connection_view(*_list_page(raw, args, [*path, key]))
            if isinstance(raw, list):
                out[key] = [self.project(self._concrete(named, item), item, subs, [*path, key])
                            if isinstance(item, dict) else item for item in raw]
            elif isinstance(raw, dict):
                out[key] = self.project(self._concrete(named, raw), raw, subs, [*path, key])
            else:
                out[key] = raw
        return out


    def _concrete(self, named: Any, view: dict[str, Any]) -> Any:
        # An interface-typed field (``node: Node``) is projected as the object type its view names.
        if is_abstract_type(named) and isinstance(view.get("__typename"), str):
            return self.schema.get_type(view["__typename"])
        return named


# -- the endpoint ---------------------------------------------------------------------------------

_VALIDATION_CODES = (
    ("Cannot query field", "undefinedField"),
    ("Unknown argument", "argumentNotAccepted"),
    ("Unknown type", "undefinedType"),
    ("Unknown fragment", "undefinedFragment"),
    ("Unknown operation", "undefinedOperation"),
    ("Variable", "variableMismatch"),
    ("Field '", "missingRequiredArguments"),
    ("Fragment", "fragmentSpreadTypeMismatch"),
)


def _error_entry(error: GraphQLError, default_code: str) -> dict[str, Any]:
    code = next((c for prefix, c in _VALIDATION_CODES if error.message.startswith(prefix)), default_code)
    entry: dict[str, Any] = {"message": error.message, "extensions": {"code": code}}
    if error.locations:
        entry["locations"] = [{"line": loc.line, "column": loc.column} for loc in error.locations]
    return entry


@lru_cache(maxsize=256)
def _checked_document(query: str) -> tuple[DocumentNode | None, tuple[dict[str, Any], ...]]:
    """The parsed document and its validation errors against the subset schema (cached by text)."""
    try:
        document = graphql.parse(query)
    except GraphQLError as exc:
        return None, (_error_entry(exc, "PARSE_ERROR"),)
    errors = graphql.validate(subset_schema(), document)
    return document, tuple(_error_entry(e, "GRAPHQL_VALIDATION_FAILED") for e in errors)


# The scopes the sandbox's app is installed with: everything the pipeline reads and writes.
ACCESS_SCOPES = ("read_merchant_managed_fulfillment_orders", "read_orders", "read_shopify_payments_disputes",
                 "write_merchant_managed_fulfillment_orders", "write_orders")


class GraphQLAPI:
    """Answers GraphQL Admin API requests for one store, with Shopify's cost limits and throttling."""

    def __init__(self, store: SandboxStore, bucket_size: float = 2000.0, restore_rate: float = 100.0,
                 access_scopes: tuple[str, ...] = ACCESS_SCOPES):
        self.store = store
        self.access_scopes = access_scopes
        self.bucket_size = bucket_size
        self.restore_rate = restore_rate
        self.index = OrderIndex(store)
        self.mutations = WritebackMutations(store)
        self._buckets: dict[str, CostBucket] = {}

    def bucket(self, token: str) -> CostBucket:
        """The cost bucket of ``token`` (one per app and store, as Shopify keeps them)."""
        if token not in self._buckets:
            self._buckets[token] = CostBucket(self.bucket_size, self.restore_rate)
        return self._buckets[token]

    def answer(self, token: str, body: Any) -> tuple[int, dict[str, Any]]:
        """(HTTP status, JSON body) for one request body."""
        if not isinstance(body, dict) or not isinstance(body.get("query"), str):
            return 400, {"errors": {"query": "Required parameter missing or invalid"}}
        variables = body.get("variables") or {}
        if not isinstance(variables, dict):
            return 400, {"errors": {"variables": "Required parameter missing or invalid"}}
        bucket = self.bucket(token)
        document, errors = _checked_document(body["query"])
        if errors:
            return 200, {"errors": list(errors), "extensions": self._cost(None, None, bucket)}
        schema = subset_schema()
        try:
            operation = select_operation(document, body.get("operationName"))
            coerced = coerce_variables(schema, operation, variables)
        except QueryCostError as exc:
            return 200, {"errors": [{"message": str(exc), "extensions": {"code": "BAD_REQUEST"}}],
                         "extensions": self._cost(None, None, bucket)}
        if operation.operation == graphql.OperationType.SUBSCRIPTION:
            return 200, {"errors": [{"message": f"Schema is not configured for {operation.operation.value}s.",
                                     "extensions": {"code": "BAD_REQUEST"}}],
                         "extensions": self._cost(None, None, bucket)}
        name = operation.name.value if operation.name else None
        requested = requested_query_cost(schema, document, coerced, name)
        if requested > MAX_QUERY_COST:
            return 200, {"errors": [max_cost_exceeded_error(requested)],
                         "extensions": self._cost(requested, None, bucket)}
        if not bucket.take(requested):
            self.store.count("throttled")
            self.store.count("throttled_graphql")
            return 200, {"errors": [{"message": "Throttled",
                                     "extensions": {"code": "THROTTLED", "documentation": THROTTLED_DOCS}}],
                         "extensions": self._cost(requested, None, bucket)}
        projector = Projector(schema, document, coerced, self.index, app=token, access_scopes=self.access_scopes)
        field_errors: list[dict[str, Any]] = []
        try:
            if operation.operation == graphql.OperationType.MUTATION:
                data, field_errors = projector.mutate(operation, self.mutations)
            else:
                data = projector.root(operation)
        except RequestError as exc:
            bucket.refund(requested)  # nothing was resolved
            return 200, {"data": None, "errors": [exc.as_dict()], "extensions": self._cost(requested, 0, bucket)}
        actual = actual_query_cost(schema, document, coerced, data, name)
        bucket.refund(requested - actual)
        self.store.count("points_spent", actual)
        extensions = self._cost(requested, actual, bucket)
        if projector.search_notes:
            extensions["search"] = projector.search_notes
        answer: dict[str, Any] = {"data": data, "extensions": extensions}
        if field_errors:
            answer["errors"] = field_errors
        return 200, answer

    @staticmethod
    def _cost(requested: int | None, actual: int | None, bucket: CostBucket) -> dict[str, Any]:
        return {"cost": {"requestedQueryCost": requested, "actualQueryCost": actual,
                         "throttleStatus": bucket.status()}}

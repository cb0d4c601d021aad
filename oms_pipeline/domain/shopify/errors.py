"""Turn Pydantic validation errors into quarantine reasons that name the order and the field."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from oms_pipeline.domain.orders import FieldError, OrderParseError


def field_path(loc: tuple[int | str, ...]) -> str:
    """``("line_items", 2, "quantity")`` -> ``"line_items[2].quantity"``."""
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path


def order_ref(payload: Any) -> str:
    """How an error names an order: its name and id when the payload has them."""
    if not isinstance(payload, dict):
        return f"<payload of type {type(payload).__name__}>"
    name = payload.get("name")
    raw_id = payload.get("id")
    if isinstance(raw_id, str) and raw_id.startswith("gid://"):
        raw_id = raw_id.rsplit("/", 1)[-1]
    if name and raw_id:
        return f"{name} (id {raw_id})"
    if raw_id or name:
        return f"id {raw_id}" if raw_id else str(name)
    return "<order without id or name>"


def to_parse_error(payload: Any, exc: ValidationError) -> OrderParseError:
    """One ``OrderParseError`` listing every field that failed, in the payload's own field names."""
    errors: list[FieldError] = []
    for err in exc.errors(include_url=False):
        message = str(err["msg"]).removeprefix("Value error, ")
        field = field_path(tuple(err["loc"]))
        if not field and ": " in message:
            # Model-level rules phrase themselves "field: what is wrong".
            field, message = message.split(": ", 1)
        value = err.get("input")
        shown = None if isinstance(value, dict | list) or value is None else repr(value)[:80]
        errors.append(FieldError(field=field or "<order>", message=message, value=shown))
    return OrderParseError(order_ref(payload), errors)

"""Turn Pydantic validation errors into quarantine reasons that name the order and the field."""

from __future__ import annotations

import re
from typing import Any

from pydantic import ValidationError

from oms_pipeline.domain.orders import FieldError, OrderParseError

_NAMED_RULE = re.compile(r"^([A-Za-z_][\w.\[\]]*): (.+)$", re.S)


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
        named = _NAMED_RULE.match(message) if err["type"] == "value_error" else None
        if named:
            # Model-level rules phrase themselves "field: what is wrong", relative to the model.
            field = f"{field}.{named[1]}" if field else named[1]
            message = named[2]
        value = err.get("input")
        shown = None if isinstance(value, dict | list) or value is None else repr(value)[:80]
        errors.append(FieldError(field=field or "<order>", message=message, value=shown))
    return OrderParseError(order_ref(payload), errors)

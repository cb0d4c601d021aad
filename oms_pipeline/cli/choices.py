"""The closed sets of values some options take: Typer checks them and lists them in ``--help``."""

from enum import StrEnum


class ShopifyApi(StrEnum):
    """Which Shopify Admin API the poll reads orders from."""

    GRAPHQL = "graphql"
    REST = "rest"


class NoteEngineChoice(StrEnum):
    """Which engine parses order notes (``auto``: anthropic when ``ANTHROPIC_API_KEY`` is set, else local)."""

    LOCAL = "local"
    ANTHROPIC = "anthropic"
    AUTO = "auto"


class ReviewOutcome(StrEnum):
    """An operator's verdict on an order, a label the fraud model learns from."""

    FRAUD = "fraud"
    LEGITIMATE = "legitimate"

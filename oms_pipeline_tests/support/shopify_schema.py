"""Shopify's own Admin API schema (a dump in the workplace's shared/ folder, or ``OMS_SHOPIFY_SCHEMA``), for
the tests that check our documents and the sandbox's schema against it; they skip when it is absent."""

from __future__ import annotations

from functools import cache

import graphql
import pytest

from oms_pipeline_tests.support.paths import SHOPIFY_SCHEMA_PATH as SCHEMA_PATH

needs_real_schema = pytest.mark.skipif(
    not SCHEMA_PATH.exists(), reason=f"Shopify's schema dump not found at {SCHEMA_PATH} (set OMS_SHOPIFY_SCHEMA)")


@cache
def real_schema() -> graphql.GraphQLSchema:
    """Shopify's own Admin API schema, built once per session."""
    return graphql.build_schema(SCHEMA_PATH.read_text(), assume_valid=True)

"""Shopify's shapes: parsers from its REST and GraphQL Admin payloads into the canonical model."""

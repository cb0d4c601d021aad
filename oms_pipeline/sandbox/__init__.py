"""A local Shopify Admin API (2025-01) sandbox: seeded orders that keep changing, served over HTTP.

``SandboxStore`` holds the orders; ``SandboxServer`` serves GraphQL and REST on loopback with
Shopify's cost limits, throttling, pagination and injectable faults.
"""

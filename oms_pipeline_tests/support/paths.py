"""Where things are, from the repository root (not from a test's own folder, which moves with the layout)."""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
FIXTURES = REPO_ROOT / "oms_pipeline_tests" / "fixtures"
WORKSPACE_FILE = REPO_ROOT / "workspace.yaml"
# Shopify's own Admin API schema dump lives in the workplace's shared/ folder, beside the repository.
SHOPIFY_SCHEMA_PATH = Path(os.environ.get(
    "OMS_SHOPIFY_SCHEMA",
    REPO_ROOT.parent / "shared" / "vendor" / "shopify-admin-schema" / "admin.graphql",
))

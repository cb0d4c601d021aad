"""What someone with access to the Dagster UI can read shows no secret: the code location is loaded from
`workspace.yaml` in its own process (as `dagster dev` loads it) with production-like secrets in the
environment, and the UI's own GraphQL API is asked for every resource's configured values and config
defaults and for every job's launchpad default config."""

from __future__ import annotations

import json
import secrets

import pytest
from dagster import instance_for_test
from dagster_graphql.test.utils import define_out_of_process_context, execute_dagster_graphql, infer_repository

from oms_pipeline_tests.support.paths import WORKSPACE_FILE as WORKSPACE

pytestmark = pytest.mark.e2e

RESOURCES = """
query Resources($selector: RepositorySelector!) {
  allTopLevelResourceDetailsOrError(repositorySelector: $selector) {
    __typename
    ... on ResourceDetailsList {
      results { name description configuredValues { key value type }
                configFields { name description defaultValueAsJson } }
    }
  }
}
"""
RUN_CONFIG = """
query RunConfig($selector: PipelineSelector!) {
  runConfigSchemaOrError(selector: $selector) { __typename ... on RunConfigSchema { rootDefaultYaml } }
}
"""


def test_the_dagster_ui_shows_no_secret_value(tmp_path, monkeypatch, sandbox_network_file):
    values = {
        "OMS_SHOPIFY_TOKEN": f"shpat_{secrets.token_hex(16)}",
        "OMS_SLACK_WEBHOOK_URL": f"https://hooks.slack.com/services/T0ACME/B0OPS/{secrets.token_urlsafe(18)}",
        "OMS_ZENDESK_API_TOKEN": secrets.token_urlsafe(24),
        "OMS_SHIPSTATION_API_KEY": secrets.token_hex(16),
        "OMS_SHIPSTATION_API_SECRET": secrets.token_hex(16),
        "OMS_CARRIER_RATES_API_KEY": f"EZAK{secrets.token_hex(16)}",
        "OMS_WAREHOUSE_URL": f"postgresql+psycopg2://oms:{secrets.token_hex(12)}@db.internal:5432/oms",
    }
    plain = {"OMS_SHOP_DOMAIN": "acme.myshopify.com", "OMS_ZENDESK_URL": "https://acme.zendesk.com",
             "OMS_ZENDESK_EMAIL": "ops@acme.example", "OMS_SHIPSTATION_URL": "https://ssapi.shipstation.com",
             "OMS_CARRIER_RATES_URL": "https://api.easypost.com", "OMS_DATA_DIR": str(tmp_path),
             "OMS_NETWORK_FILE": str(sandbox_network_file)}
    for name, value in {**values, **plain}.items():
        monkeypatch.setenv(name, value)
    shown: list[str] = []
    with instance_for_test() as instance, define_out_of_process_context(str(WORKSPACE), None, instance) as context:
        repository = infer_repository(context)
        selector = {"repositoryLocationName": context.code_location_names[0],
                    "repositoryName": repository.name}
        resources = execute_dagster_graphql(context, RESOURCES, {"selector": selector}).data
        results = resources["allTopLevelResourceDetailsOrError"]["results"]
        shown.append(json.dumps(resources))
        for job in repository.get_all_jobs():
            config = execute_dagster_graphql(context, RUN_CONFIG, {"selector": {**selector,
                                                                                "pipelineName": job.name}})
            assert config.data["runConfigSchemaOrError"]["__typename"] == "RunConfigSchema", config.data
            shown.append(json.dumps(config.data))
    everything = "\n".join(shown)
    leaked = [name for name, value in values.items() if value in everything]
    assert leaked == []
    # It looked where the secrets would be: each is there, by the name of its variable only.
    env_vars = {(r["name"], v["key"]): v["value"] for r in results for v in r["configuredValues"]
                if v["type"] == "ENV_VAR"}
    assert env_vars == {
        ("shopify", "token"): "OMS_SHOPIFY_TOKEN", ("slack", "webhook_url"): "OMS_SLACK_WEBHOOK_URL",
        ("zendesk", "api_token"): "OMS_ZENDESK_API_TOKEN", ("shipstation", "api_key"): "OMS_SHIPSTATION_API_KEY",
        ("shipstation", "api_secret"): "OMS_SHIPSTATION_API_SECRET",
        ("carrier_rates", "api_key"): "OMS_CARRIER_RATES_API_KEY", ("warehouse", "url"): "OMS_WAREHOUSE_URL"}
    assert "acme.myshopify.com" in everything  # what is not a secret is shown as it is

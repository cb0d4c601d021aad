"""The decision policy's network: there is no default one, and every location says who runs it."""

from __future__ import annotations

import pytest


def test_there_is_no_default_network(tmp_path):
    from oms_pipeline.services.decisions import MissingNetwork, load_decision_policy

    with pytest.raises(MissingNetwork, match="OMS_NETWORK_FILE is not set"):
        load_decision_policy(None, None, 24)
    bad = tmp_path / "network.json"
    bad.write_text('{"locations": [], "services": []}')
    with pytest.raises(ValueError, match="locations"):
        load_decision_policy(None, bad, 24)


def test_every_network_location_says_who_runs_it():
    import json

    from oms_pipeline.domain.routing.model import LocationKind
    from oms_pipeline.domain.routing.network import NetworkError, parse_network
    from oms_pipeline.sandbox.network import sandbox_network

    network = json.loads(sandbox_network().model_dump_json())
    assert parse_network(json.dumps(network)).locations_of_kind(LocationKind.THIRD_PARTY_LOGISTICS) == {"3PL-EU"}
    del network["locations"][1]["kind"]
    with pytest.raises(NetworkError, match=r"locations: .*location 'DC-WEST' has no kind \(one of own_dc, 3pl, "
                                           r"store, dropship\)"):
        parse_network(json.dumps(network), source="NETWORK.json")
    network["locations"][1]["kind"] = "warehouse"
    with pytest.raises(NetworkError, match=r"locations\[1\]\.kind: Input should be .own_dc."):
        parse_network(json.dumps(network))

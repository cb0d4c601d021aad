"""The REST Admin API over real HTTP: Link-header paging, Shopify's 400s, the call-limit bucket."""

from __future__ import annotations

import re
from collections import Counter

from oms_pipeline.domain.orders import parse_time
from oms_pipeline.sandbox.server import API_VERSION, SandboxServer
from oms_pipeline.sandbox.store import SandboxStore
from oms_pipeline_tests.support.sandbox_http import ORDERS_PATH, client

LINK = re.compile(r'<([^>]+)>; rel="(next|previous)"')


def _links(response) -> dict[str, str]:
    return {rel: url for url, rel in LINK.findall(response.headers.get("Link", ""))}


def test_link_paging_serves_every_order_once_with_the_call_limit_header():
    store = SandboxStore(seed=2, orders=130, rate_per_min=0.0, malformed_rate=0.05)
    with SandboxServer(store, seed=1) as sandbox, client(sandbox) as http:
        response = http.get(ORDERS_PATH, params={"status": "any", "limit": 40, "fields": "id,updated_at,name"})
        pages, seen = [response], []
        while True:
            assert response.status_code == 200, response.text
            assert re.fullmatch(r"\d+/40", response.headers["X-Shopify-Shop-Api-Call-Limit"])
            seen += response.json()["orders"]
            links = _links(response)
            if len(pages) > 1:
                assert "previous" in links
            if "next" not in links:
                break
            assert links["next"].startswith(sandbox.url) and "limit=40" in links["next"]
            response = http.get(links["next"])
            pages.append(response)
        back = http.get(_links(pages[-1])["previous"])
    assert len(pages) == 4 and all(set(o) <= {"id", "updated_at", "name"} for o in seen)
    versions = Counter((str(o["id"]), parse_time(o["updated_at"])) for o in seen if "id" in o)
    assert set(versions) == {(k, parse_time(v)) for k, v in store.current_versions().items()}
    assert max(versions.values()) == 1
    assert len(seen) == 130
    assert back.json()["orders"] == pages[-2].json()["orders"]


def test_filters_status_and_updated_window():
    store = SandboxStore(seed=4, orders=150, rate_per_min=0.0, malformed_rate=0.0)
    stamps = sorted(store.current_versions().values(), key=parse_time)
    low, high = stamps[40], stamps[100]
    with SandboxServer(store, seed=1) as sandbox, client(sandbox) as http:
        window = http.get(ORDERS_PATH, params={"status": "any", "limit": 250, "updated_at_min": low,
                                               "updated_at_max": high}).json()["orders"]
        default = http.get(ORDERS_PATH, params={"limit": 250}).json()["orders"]
        count = http.get(f"/admin/api/{API_VERSION}/orders/count.json", params={"status": "any"}).json()
        one = http.get(f"/admin/api/{API_VERSION}/orders/{window[0]['id']}.json").json()
        missing = http.get(f"/admin/api/{API_VERSION}/orders/1.json")
    assert all(parse_time(low) <= parse_time(o["updated_at"]) <= parse_time(high) for o in window)
    assert len(window) >= 61
    assert default and all(o["closed_at"] is None and o["cancelled_at"] is None for o in default), "open by default"
    assert len(default) < 150
    assert count == {"count": 150}
    assert one["order"] == window[0]
    assert missing.status_code == 404


def test_page_info_refuses_other_params_and_limit_is_capped():
    store = SandboxStore(seed=2, orders=20, rate_per_min=0.0)
    with SandboxServer(store, seed=1) as sandbox, client(sandbox) as http:
        first = http.get(ORDERS_PATH, params={"status": "any", "limit": 5})
        page_info = re.search(r"page_info=([^&>]+)", _links(first)["next"]).group(1)
        mixed = http.get(f"{ORDERS_PATH}?page_info={page_info}&status=any&limit=5")
        garbage = http.get(ORDERS_PATH, params={"page_info": "not-a-cursor"})
        too_big = http.get(ORDERS_PATH, params={"limit": 251})
    assert mixed.status_code == 400
    assert mixed.json() == {"errors": {"status": (
        "status cannot be passed when page_info is present. "
        "See https://shopify.dev/api/usage/pagination-rest for more information.")}}
    assert garbage.status_code == 400 and garbage.json() == {"errors": {"page_info": "Invalid value."}}
    assert too_big.status_code == 400 and "limit" in too_big.json()["errors"]


def test_burst_over_the_call_bucket_gets_429_with_retry_after():
    store = SandboxStore(seed=2, orders=5, rate_per_min=0.0)
    with SandboxServer(store, rest_bucket_size=10, rest_leak_per_s=2.0, seed=1) as sandbox, client(sandbox) as http:
        answers = [http.get(ORDERS_PATH, params={"limit": 1}) for _ in range(16)]
    statuses = [a.status_code for a in answers]
    assert statuses[:10] == [200] * 10 and 429 in statuses
    refused = answers[statuses.index(429)]
    assert refused.headers["Retry-After"] == "2.0"
    assert refused.headers["X-Shopify-Shop-Api-Call-Limit"] == "10/10"
    assert refused.json() == {"errors": "Exceeded 2 calls per second for api client. "
                                        "Reduce request rates to resume uninterrupted service."}
    assert store.stats["throttled_rest"] == statuses.count(429)


def test_rest_wrong_token():
    with SandboxServer(SandboxStore(seed=1, orders=2, rate_per_min=0.0), seed=1) as sandbox:
        with client(sandbox, token="nope") as http:
            assert http.get(ORDERS_PATH).status_code == 401

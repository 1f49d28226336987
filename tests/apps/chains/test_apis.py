"""The REST API of chains, relationships and task runs, through real API keys and RBAC."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.chains.models import RunStatus, TaskRun
from tests.apps.jobs import api_for, drive

pytestmark = pytest.mark.usefixtures("registry")


def make_chain(api: Any) -> int:
    chain = api.post("/api/v1/chains/chains/", {"name": "ops"}, format="json")
    assert chain.status_code == 201, chain.json()
    for trigger, action, transformation in [
        ("core.basic.split", "core.basic.log", '{"message": string(result.value)}'),
        ("core.basic.log", "core.basic.echo", '{"data": {"m": result.message}}'),
    ]:
        response = api.post("/api/v1/chains/relationships/", {
            "chain": "ops", "trigger": trigger, "action": action, "transformation": transformation,
        }, format="json")
        assert response.status_code == 201, response.json()
    return int(chain.json()["id"])


def test_build_trigger_and_inspect_a_chain(operator: Any) -> None:
    api = api_for(operator)
    chain_id = make_chain(api)
    detail = api.get(f"/api/v1/chains/chains/{chain_id}/").json()
    assert detail["version"] == 3
    assert detail["graph"]["nodes"] == ["core.basic.echo", "core.basic.log", "core.basic.split"]
    started = api.post(f"/api/v1/chains/chains/{chain_id}/trigger/", {"payload": {"items": [1, 2]}}, format="json")
    assert started.status_code == 202, started.json()
    drive()
    tree = api.get(f"/api/v1/chains/runs/{started.json()['id']}/").json()["tree"]
    assert tree["function"] == "core.basic.split" and tree["status"] == RunStatus.SUCCEEDED
    assert [c["function"] for c in tree["children"]] == ["core.basic.log", "core.basic.log"]
    assert [g["function"] for c in tree["children"] for g in c["children"]] == ["core.basic.echo"] * 2
    listed = api.get("/api/v1/chains/runs/", {"status": "succeeded"}).json()
    assert listed["count"] == 5


def test_invalid_cel_is_refused_with_its_position(operator: Any) -> None:
    api = api_for(operator)
    api.post("/api/v1/chains/chains/", {"name": "bad"}, format="json")
    response = api.post("/api/v1/chains/relationships/", {
        "chain": "bad", "trigger": "core.basic.log", "action": "core.basic.echo", "condition": "result.level ==",
    }, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_condition"
    assert response.json()["error"]["field"] == "condition"
    assert "column 16" in response.json()["error"]["message"]


def test_invoke_a_function_and_get_a_validation_failure_naming_the_field(operator: Any) -> None:
    api = api_for(operator)
    response = api.post("/api/v1/runners/functions/core.basic.wait/invoke/", {"payload": {"seconds": "x"}},
                        format="json", HTTP_IDEMPOTENCY_KEY="wait-1")
    assert response.status_code == 202, response.json()
    assert response.json()["idempotency_key"] == "wait-1"
    drive()
    run = api.get(f"/api/v1/chains/runs/{response.json()['id']}/").json()
    assert (run["status"], run["error"]["code"], run["error"]["field"]) == ("failed", "validation_error", "seconds")


def test_an_observer_may_read_but_not_execute(observer: Any) -> None:
    api = api_for(observer)
    assert api.get("/api/v1/chains/runs/").status_code == 200
    response = api.post("/api/v1/runners/functions/core.basic.log/invoke/", {"payload": {"message": "m"}},
                        format="json")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"
    assert not TaskRun.objects.exists()


def test_anonymous_callers_are_refused() -> None:
    from rest_framework.test import APIClient

    assert APIClient().get("/api/v1/chains/runs/").status_code == 401


def test_disable_clone_and_cancel(operator: Any) -> None:
    api = api_for(operator)
    chain_id = make_chain(api)
    assert api.patch(f"/api/v1/chains/chains/{chain_id}/", {"enabled": False}, format="json").json()["enabled"] is False
    refused = api.post(f"/api/v1/chains/chains/{chain_id}/trigger/", {"payload": {"items": []}}, format="json")
    assert (refused.status_code, refused.json()["error"]["code"]) == (409, "chain_disabled")
    clone = api.post(f"/api/v1/chains/chains/{chain_id}/clone/", {"name": "ops-2"}, format="json")
    assert clone.status_code == 201 and clone.json()["version"] == 1
    queued = api.post("/api/v1/runners/functions/core.basic.log/invoke/", {"payload": {"message": "m"}},
                      format="json").json()
    assert api.post(f"/api/v1/chains/runs/{queued['id']}/cancel/").json() == {"cancelled": 1}
    assert api.get(f"/api/v1/chains/runs/{queued['id']}/").json()["status"] == "cancelled"


def test_catalog_and_functions(operator: Any) -> None:
    api = api_for(operator)
    catalog = api.get("/api/v1/runners/catalog/").json()
    assert catalog["counts"]["functions"] >= 5
    function = api.get("/api/v1/runners/functions/core.basic.log/").json()
    assert function["input_schema"]["required"] == ["message"]
    assert api.get("/api/v1/runners/functions/core.basic.nope/").status_code == 404
    extensions = api.get("/api/v1/runners/extensions/").json()
    assert "core" in [e["name"] for e in extensions["results"]]
    assert api.get("/api/v1/chains/spool/").json()["messages"] == 0


def test_a_detail_request_reads_its_object_once(operator: Any) -> None:
    api = api_for(operator)
    chain_id = make_chain(api)
    relationship_id = api.get("/api/v1/chains/relationships/").json()["results"][0]["id"]
    for url, table in [(f"/api/v1/chains/chains/{chain_id}/", '"chains_chain"'),
                       (f"/api/v1/chains/relationships/{relationship_id}/", '"chains_relationship"'),
                       ("/api/v1/runners/functions/core.basic.log/", '"runners_function"')]:
        with CaptureQueriesContext(connection) as queries:
            assert api.get(url).status_code == 200
        assert len([q for q in queries if f"FROM {table}" in q["sql"]]) == 1, url


def test_a_missing_object_is_404_before_any_right_is_asked(operator: Any) -> None:
    from rest_framework.test import APIClient

    from apps.rbac.services import principal_create

    chain_id = make_chain(api_for(operator))
    nobody = api_for(principal_create(name="nobody", policies=[]))
    assert APIClient().get("/api/v1/chains/chains/999999/").status_code == 401
    assert nobody.get("/api/v1/chains/chains/999999/").status_code == 404
    refused = nobody.get(f"/api/v1/chains/chains/{chain_id}/")
    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "permission_denied")

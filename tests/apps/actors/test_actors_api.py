"""Actors through the API (`actors/<name>` in RBAC) and the admin."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from apps.actors.models import Actor
from apps.chains.models import TaskRun
from apps.runners.models import Function
from tests.apps.jobs import api_for, principal_with

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_api(registry: None) -> Any:
    return api_for(principal_with("root", "admin"))


def test_create_configure_and_invoke_an_actor(admin_api: Any, operator: Any) -> None:
    created = admin_api.post("/api/v1/chains/actors/", {
        "name": "heartbeat", "kind": "every", "function": "core.basic.log", "payload": {"message": "alive"},
        "options": {"interval_seconds": 30}, "run_as": "ops"}, format="json")
    assert created.status_code == 201, created.json()
    actor = created.json()
    assert (actor["state"]["fired_count"], actor["customized"], actor["extension"]) == (0, False, None)

    bad = admin_api.patch(f"/api/v1/chains/actors/{actor['id']}/", {"options": {"interval_seconds": -1}},
                          format="json")
    assert (bad.status_code, bad.json()["error"]["code"], bad.json()["error"]["field"]) == (
        400, "invalid_options", "options.interval_seconds")
    patched = admin_api.patch(f"/api/v1/chains/actors/{actor['id']}/", {"options": {"interval_seconds": 5}},
                              format="json")
    assert patched.json()["options"] == {"interval_seconds": 5}

    invoked = admin_api.post(f"/api/v1/chains/actors/{actor['id']}/invoke/", {"payload": {"level": "debug"}},
                             format="json")
    assert invoked.status_code == 202, invoked.json()
    assert invoked.json()["payload"] == {"message": "alive", "level": "debug"}
    assert invoked.json()["principal"] == "root"  # the caller, not the actor's own principal


def test_absorb_through_the_api(admin_api: Any, make_actor: Callable[..., Actor]) -> None:
    actor = make_actor("absorber", function=None, payload={}, options={"handlers": [
        {"pattern": "^https://", "function": "core.basic.log", "payload_key": "message"}]})
    routed = admin_api.post(f"/api/v1/chains/actors/{actor.pk}/absorb/", {"input": "https://x.test/"}, format="json")
    assert routed.status_code == 202 and routed.json()["payload"] == {"message": "https://x.test/"}
    missed = admin_api.post(f"/api/v1/chains/actors/{actor.pk}/absorb/", {"input": "gopher://x"}, format="json")
    assert (missed.status_code, missed.json()["error"]["code"]) == (422, "no_handler")


def test_an_observer_may_list_actors_but_not_invoke_them(observer: Any, make_actor: Callable[..., Actor]) -> None:
    actor = make_actor("nothing")
    api = api_for(observer)
    assert api.get("/api/v1/chains/actors/").json()["results"][0]["name"] == "nothing-actor"
    refused = api.post(f"/api/v1/chains/actors/{actor.pk}/invoke/", {}, format="json")
    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "permission_denied")
    assert not TaskRun.objects.exists()


def test_the_admin_checks_options_with_the_kind(client: Client, admin_user: Any, registry: None) -> None:
    client.force_login(admin_user)
    function_id = str(Function.objects.get(qualified_name="core.basic.log").pk)
    form = {"name": "from-admin", "kind": "poll", "function": function_id, "payload": '{"message": "x"}',
            "options": '{"tolerance_percent": -5}', "enabled": "on",
            "state-TOTAL_FORMS": "0", "state-INITIAL_FORMS": "0", "state-MIN_NUM_FORMS": "0",
            "state-MAX_NUM_FORMS": "1"}
    refused = client.post("/admin/actors/actor/add/", form)
    assert refused.status_code == 200 and b"tolerance_percent" in refused.content
    saved = client.post("/admin/actors/actor/add/", {**form, "options": '{"tolerance_percent": 5}'})
    assert saved.status_code == 302, saved.content[:2000]
    assert Actor.objects.get(name="from-admin").options == {"tolerance_percent": 5}

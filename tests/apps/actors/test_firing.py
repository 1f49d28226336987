"""Calls an actor makes in-process (polls, loops) run as the actor's principal: `ctx.authorize` asks its policies."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

from apps.actors.firing import actor_call
from apps.actors.models import Actor
from apps.actors.services import actor_snapshot
from apps.runners.definitions import PermanentError
from tests.extensions.conftest import policy_principal

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def server() -> Iterator[HTTPServer]:
    with HTTPServer(host="127.0.0.1") as started:
        yield started


def polling(make_actor: Callable[..., Actor], server: HTTPServer, run_as: Any) -> Actor:
    """A poll of a loopback URL through the http extension, whose guard asks `ctx.authorize` first."""
    return make_actor("poll", name=f"poll-as-{run_as.name}", function="http.request.get",
                      payload={"url": server.url_for("/status")}, options={"interval_seconds": 60}, run_as=run_as)


def test_a_poll_whose_principal_may_not_reach_a_private_address_is_refused(
    make_actor: Callable[..., Actor], server: HTTPServer, operator: Any
) -> None:
    actor = polling(make_actor, server, operator)  # may execute every function, reach no private address
    with pytest.raises(PermanentError) as caught:
        actor_call(actor=actor_snapshot(actor=actor))
    assert getattr(caught.value, "code", None) == "network_refused"
    assert "network/loopback/127.0.0.1/" in str(caught.value)
    assert server.log == [], "nothing was sent"


def test_a_poll_whose_principal_holds_the_network_policy_gets_through(
    make_actor: Callable[..., Actor], server: HTTPServer
) -> None:
    server.expect_request("/status").respond_with_json({"ok": True})
    local = policy_principal("local-ok", {"path": "runners*", "actions": ["execute"]},
                             {"path": "network/loopback/*", "actions": ["execute"]})
    call = actor_call(actor=actor_snapshot(actor=polling(make_actor, server, local)))
    assert (call.principal, call.result["status"], call.result["json"]) == ("local-ok", 200, {"ok": True})

"""The webhook extension against a real loopback HTTP server: signed as inbound webhooks check, retried on 5xx."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from apps.chains.models import RunStatus, TaskRun
from apps.core.signatures import check_signature
from tests.extensions.conftest import policy_principal, principal_with

pytestmark = [pytest.mark.django_db, pytest.mark.timeout(60)]

SECRET = "s3cret-shared-with-the-receiver"


@pytest.fixture
def server() -> Iterator[HTTPServer]:
    with HTTPServer(host="127.0.0.1", threaded=True) as started:
        yield started


@pytest.fixture
def sender(config: Callable[[str, Any], None]) -> Any:
    """A principal that may run functions and reach loopback, and a signing key named `partner`."""
    config("extensions.webhook.keys", {"partner": SECRET})
    return policy_principal("hooks", {"path": "runners*", "actions": ["execute"]},
                            {"path": "network/loopback/*", "actions": ["execute"]})


def test_a_webhook_arrives_signed_as_legions_inbound_endpoints_check(
    runner: Callable[..., TaskRun], server: HTTPServer, sender: Any
) -> None:
    received: list[Request] = []

    def receive(request: Request) -> Response:
        received.append(request)
        return Response(json.dumps({"accepted": True}), status=202, content_type="application/json")

    server.expect_request("/hook", method="POST").respond_with_handler(receive)
    payload = {"event": "deployed", "version": 42}

    run = runner("webhook.signed.send", {"url": server.url_for("/hook"), "key": "partner", "payload": payload}, sender)

    assert run.status == RunStatus.SUCCEEDED and run.result is not None, run.error
    assert (run.result["status"], run.result["json"]) == (202, {"accepted": True})
    (request,) = received
    body = request.get_data()
    assert json.loads(body) == payload and request.headers["Content-Type"] == "application/json"
    assert request.headers["X-Legion-Idempotency-Key"] == run.idempotency_key
    # What Legion's inbound endpoint checks; it raises on a mismatch. The key is signed with the body.
    check_signature(secret=SECRET, headers=dict(request.headers), body=body, window_seconds=300)


def test_an_unknown_key_or_a_refusing_receiver_fails_the_run_and_a_failing_one_is_retried(
    runner: Callable[..., TaskRun], server: HTTPServer, sender: Any
) -> None:
    server.expect_request("/refuses").respond_with_data("no", status=400)
    server.expect_request("/down").respond_with_data("later", status=503)

    unknown = runner("webhook.signed.send", {"url": server.url_for("/refuses"), "key": "nope", "payload": {}}, sender)
    refused = runner("webhook.signed.send", {"url": server.url_for("/refuses"), "key": "partner", "payload": {}},
                     sender)
    down = runner("webhook.signed.send", {"url": server.url_for("/down"), "key": "partner", "payload": {}}, sender)

    assert unknown.status == RunStatus.FAILED and unknown.error is not None
    assert unknown.error["code"] == "unknown_key" and "partner" in unknown.error["message"]
    assert [r.path for r in (req for req, _ in server.log)] == ["/refuses", "/down"], "nothing sent without a key"
    assert refused.status == RunStatus.FAILED and refused.error is not None
    assert refused.error["code"] == "webhook_rejected"
    assert down.status == RunStatus.QUEUED and down.error is not None and down.attempts == 1, "retried later"


def test_a_loopback_receiver_needs_a_network_policy(
    runner: Callable[..., TaskRun], server: HTTPServer, config: Callable[[str, Any], None]
) -> None:
    config("extensions.webhook.keys", {"partner": SECRET})
    run = runner("webhook.signed.send", {"url": server.url_for("/hook"), "key": "partner", "payload": {}},
                 principal_with("ops", "operator"))
    assert run.status == RunStatus.FAILED and run.error is not None and run.error["code"] == "network_refused"
    assert server.log == []

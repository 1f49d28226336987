"""The inbound endpoint: a signed request starts the target once; anything else is refused in the error envelope."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient

from apps.chains.models import TaskRun
from apps.chains.services.callers import HOST
from apps.chains.services.chains import chain_create
from apps.core.signatures import signature_headers
from apps.webhooks.models import Webhook
from apps.webhooks.services import webhook_rotate_secret
from tests.apps.jobs import drive, link

pytestmark = pytest.mark.django_db

URL = "/api/v1/chains/hooks/{}/"


def post(name: str, body: bytes, headers: dict[str, str] | None = None, query: str = "") -> Any:
    extra = {f"HTTP_{key.upper().replace('-', '_')}": value for key, value in (headers or {}).items()}
    return APIClient().post(URL.format(name) + query, data=body, content_type="application/json", **extra)


def signed(secret: str, payload: Any, **options: Any) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(payload).encode()
    return body, signature_headers(secret=secret, body=body, **options)


def test_a_signed_request_starts_the_function_as_the_webhooks_principal(
    make_webhook: Callable[..., tuple[Webhook, str]]
) -> None:
    webhook, secret = make_webhook()
    response = post("deploys", *signed(secret, {"message": "deployed v2"}))
    assert response.status_code == 202, response.json()
    assert response.json()["replayed"] is False
    run = TaskRun.objects.get()
    assert (run.payload, run.triggered_by, run.principal) == ({"message": "deployed v2"}, "webhook", "ops")
    assert drive() == ["succeeded"]
    webhook.refresh_from_db()
    assert webhook.received_count == 1


def test_a_replayed_request_returns_the_same_run(make_webhook: Callable[..., tuple[Webhook, str]]) -> None:
    _, secret = make_webhook()
    body, headers = signed(secret, {"message": "once"})
    first = post("deploys", body, headers)
    again = post("deploys", body, headers)
    assert again.status_code == 202 and again.json()["replayed"] is True
    assert again.json()["run"]["id"] == first.json()["run"]["id"]
    assert TaskRun.objects.count() == 1


def test_a_retry_signed_afresh_with_the_same_idempotency_key_returns_the_same_run(
    make_webhook: Callable[..., tuple[Webhook, str]]
) -> None:
    _, secret = make_webhook()
    now = int(time.time())
    first = post("deploys", *signed(secret, {"message": "once"}, timestamp=now - 5, idempotency_key="run-7"))
    retry = post("deploys", *signed(secret, {"message": "once"}, timestamp=now, idempotency_key="run-7"))
    other = post("deploys", *signed(secret, {"message": "once"}, timestamp=now, idempotency_key="run-8"))
    assert first.status_code == retry.status_code == other.status_code == 202
    assert retry.json()["replayed"] is True and retry.json()["run"]["id"] == first.json()["run"]["id"]
    assert other.json()["replayed"] is False
    assert TaskRun.objects.count() == 2


def test_an_idempotency_key_is_signed_with_the_body(make_webhook: Callable[..., tuple[Webhook, str]]) -> None:
    _, secret = make_webhook()
    body, headers = signed(secret, {"message": "once"}, idempotency_key="run-7")
    response = post("deploys", body, {**headers, "X-Legion-Idempotency-Key": "run-8"})
    assert response.status_code == 401 and response.json()["error"]["code"] == "invalid_signature"
    assert not TaskRun.objects.exists()


@pytest.mark.parametrize(("tamper", "code"), [
    (lambda body, headers: (body, {}), "signature_missing"),
    (lambda body, headers: (body + b" ", headers), "invalid_signature"),
    (lambda body, headers: (body, {**headers, "X-Legion-Signature": "sha256=" + "0" * 64}), "invalid_signature"),
    (lambda body, headers: (body, {**headers, "X-Legion-Timestamp": str(int(time.time()) - 3)}), "invalid_signature"),
    (lambda body, headers: (body, {**headers, "X-Legion-Timestamp": "yesterday"}), "signature_expired"),
])
def test_a_bad_signature_is_401_in_the_error_envelope(
    make_webhook: Callable[..., tuple[Webhook, str]], tamper: Any, code: str
) -> None:
    _, secret = make_webhook()
    response = post("deploys", *tamper(*signed(secret, {"message": "x"})))
    assert response.status_code == 401
    assert response.json()["error"]["code"] == code
    assert not TaskRun.objects.exists()


def test_a_request_signed_outside_the_replay_window_is_refused(
    make_webhook: Callable[..., tuple[Webhook, str]]
) -> None:
    _, secret = make_webhook(replay_window_seconds=60)
    response = post("deploys", *signed(secret, {"message": "old"}, timestamp=int(time.time()) - 120))
    assert (response.status_code, response.json()["error"]["code"]) == (401, "signature_expired")


def test_a_rotated_secret_stops_the_old_one_at_once(make_webhook: Callable[..., tuple[Webhook, str]]) -> None:
    webhook, old = make_webhook()
    new = webhook_rotate_secret(by=HOST, webhook=webhook)
    assert post("deploys", *signed(old, {"message": "x"})).json()["error"]["code"] == "invalid_signature"
    assert post("deploys", *signed(new, {"message": "x"})).status_code == 202


def test_a_transformation_shapes_the_payload_from_body_headers_and_query(
    make_webhook: Callable[..., tuple[Webhook, str]]
) -> None:
    _, secret = make_webhook(transformation='{"message": body.repository.name + " by " + headers["x-sender"] '
                                             '+ " to " + query.env}')
    body, headers = signed(secret, {"repository": {"name": "legion"}, "extra": [1, 2]})
    response = post("deploys", body, {**headers, "X-Sender": "ci"}, query="?env=prod")
    assert response.status_code == 202, response.json()
    assert TaskRun.objects.get().payload == {"message": "legion by ci to prod"}


def test_a_webhook_can_start_a_chain(make_webhook: Callable[..., tuple[Webhook, str]], registry: None) -> None:
    chain = chain_create(name="on-deploy")
    link(chain, "core.basic.log", "core.basic.echo", transformation='{"data": {"seen": result.message}}')
    _, secret = make_webhook(function=None, chain=chain)
    assert post("deploys", *signed(secret, {"message": "v3"})).status_code == 202
    drive()
    assert TaskRun.objects.get(function__qualified_name="core.basic.echo").result == {"seen": "v3"}


@pytest.mark.parametrize(("body", "status", "code"), [
    (b"not json", 400, "not_json"),
    (b"[1, 2]", 400, "invalid"),
])
def test_a_signed_body_that_is_not_an_object_is_refused(
    make_webhook: Callable[..., tuple[Webhook, str]], body: bytes, status: int, code: str
) -> None:
    _, secret = make_webhook()
    response = post("deploys", body, signature_headers(secret=secret, body=body))
    assert (response.status_code, response.json()["error"]["code"]) == (status, code)


def test_unknown_disabled_and_unauthorized_webhooks(
    make_webhook: Callable[..., tuple[Webhook, str]], observer: Any, config: Callable[[str, Any], None]
) -> None:
    assert post("nope", b"{}").json()["error"]["code"] == "not_found"
    _, secret = make_webhook("off", enabled=False)
    assert post("off", *signed(secret, {})).json()["error"]["code"] == "webhook_disabled"
    _, secret = make_webhook("watcher", run_as=observer)
    response = post("watcher", *signed(secret, {"message": "x"}))
    assert (response.status_code, response.json()["error"]["code"]) == (403, "permission_denied")
    config("chains.max_payload_bytes", 10)
    _, secret = make_webhook("small")
    response = post("small", *signed(secret, {"message": "too long for ten bytes"}))
    assert (response.status_code, response.json()["error"]["code"]) == (413, "payload_too_large")

"""`legion webhooks add|sign`."""

from __future__ import annotations

from typing import Any

import pytest

from apps.core.signatures import check_signature
from apps.webhooks.models import Webhook
from apps.webhooks.services import webhook_secret
from tests.apps.jobs import legion

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("registry")]


def test_webhooks_add_prints_the_secret_and_sign_prints_valid_headers(
    operator: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    assert legion("webhooks", "add", "deploys", "core.basic.log", "--as", "ops") == 0
    secret = capsys.readouterr().out.split("secret (shown once): ")[1].strip()
    assert webhook_secret(webhook=Webhook.objects.get()) == secret
    assert legion("webhooks", "sign", "deploys", '{"message": "hi"}') == 0
    headers = dict(line.split(": ", 1) for line in capsys.readouterr().out.strip().splitlines())
    check_signature(secret=secret, headers=headers, body=b'{"message": "hi"}', window_seconds=60)


def test_webhooks_sign_can_sign_an_idempotency_key_too(operator: Any, capsys: pytest.CaptureFixture[str]) -> None:
    assert legion("webhooks", "add", "deploys", "core.basic.log", "--as", "ops") == 0
    secret = capsys.readouterr().out.split("secret (shown once): ")[1].strip()
    assert legion("webhooks", "sign", "deploys", "{}", "--idempotency-key", "deploy-42") == 0
    headers = dict(line.split(": ", 1) for line in capsys.readouterr().out.strip().splitlines())
    assert headers["X-Legion-Idempotency-Key"] == "deploy-42"
    identity = check_signature(secret=secret, headers=headers, body=b"{}", window_seconds=60)
    assert identity.startswith("key-")

"""Webhook fixtures: an administrator's API client and a webhook of core.basic.log run as the operator."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from apps.chains.services.callers import HOST
from apps.webhooks.models import Webhook
from apps.webhooks.services import webhook_create
from tests.apps.jobs import api_for, function, principal_with


@pytest.fixture
def admin_api(registry: None) -> Any:
    return api_for(principal_with("root", "admin"))


@pytest.fixture
def make_webhook(registry: None, operator: Any) -> Callable[..., tuple[Webhook, str]]:
    def make(name: str = "deploys", **values: Any) -> tuple[Webhook, str]:
        fields: dict[str, Any] = {"function": function("core.basic.log"), "run_as": operator, **values}
        return webhook_create(by=HOST, name=name, **fields)

    return make
